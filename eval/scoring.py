"""Score one question (retrieval, answer, citations) and aggregate a run's questions into metrics.

Per-question records are plain JSON-able dicts: they go to questions.jsonl as they are, and the
run's metrics are computed from those records alone, so a results folder can be re-scored or
audited without re-running anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from eval.adapters.base import EvalQuestion
from eval.metrics import (
    answer_contains,
    answer_hit_scores,
    collapse_ranking,
    evidence_scores,
    fold_evidence,
    latency_summary,
    refusal_scores,
    retrieval_scores,
    squad_exact,
    squad_f1,
)
from rag.models import Answer, Hit

_MARKER = re.compile(r"\s*\[\d+\]")
RETRIEVED_SHOWN = 20  # ids kept per question in questions.jsonl


def plain_answer(text: str) -> str:
    """Answer text without its [n] citation markers (they are not part of the answer)."""
    return _MARKER.sub("", text).strip()


def ranked_dataset_ids(hits: Sequence[Hit], ids_of: dict[str, tuple[str, ...]]) -> list[str]:
    """Chunk hits -> the dataset's document ids, best first, each at its best chunk's rank."""
    out: list[str] = []
    for h in hits:
        out.extend(ids_of.get(h.passage.doc_id, ()))
    return collapse_ranking(out)


def passage_ref(h: Hit) -> str:
    """A readable reference to a passage when the dataset has no document ids (seeds)."""
    name = h.passage.source.rsplit("/", 1)[-1]
    return f"{name}#{h.passage.start}-{h.passage.end}"


def score_retrieval(dataset: str, q: EvalQuestion, hits: Sequence[Hit],
                    ids_of: dict[str, tuple[str, ...]]) -> tuple[list[str], dict[str, float] | None]:
    """(retrieved ids for the record, retrieval metrics or None when the question has no target)."""
    if dataset == "seeds":
        refs = [passage_ref(h) for h in hits]
        if q.is_unanswerable:
            return refs, None
        texts = [h.passage.text for h in hits]
        scores = evidence_scores(texts, q.evidence) if q.evidence else {}
        if q.lang and q.answers:  # a set tagged by language (issue 32) is also scored by its gold answers
            scores.update(answer_hit_scores(texts, q.answers))
        return refs, scores or None
    ranked = ranked_dataset_ids(hits, ids_of)
    if not q.relevant:  # unanswerable SQuAD, RGB: no relevance labels
        return ranked, None
    return ranked, retrieval_scores(ranked, q.relevant)


def _supports_evidence(quote: str, passage: str | None, evidence: Sequence[str]) -> bool:
    folded = [fold_evidence(e) for e in evidence if fold_evidence(e)]
    texts = [fold_evidence(quote)] + ([fold_evidence(passage)] if passage else [])
    return any(e in t for e in folded for t in texts)


def score_answer(dataset: str, q: EvalQuestion, answer: Answer, passages: dict[str, str]) -> dict[str, Any]:
    """Answer, refusal and citation scores of one question; `passages` maps chunk_id -> text."""
    text = plain_answer(answer.answer)
    s: dict[str, Any] = {"refused": answer.refused}
    if q.answers:
        s["correct"] = (not answer.refused) and answer_contains(text, q.answers)
    if q.parts:  # a list/two-part question is complete only when every part is in the answer
        s["all_parts"] = (not answer.refused) and all(answer_contains(text, part) for part in q.parts)
    if dataset == "squad2":
        pred = "" if answer.refused else text
        s["f1"] = squad_f1(pred, q.answers)  # golds () = unanswerable: only "" scores 1
        s["exact"] = squad_exact(pred, q.answers)
    if dataset == "rgb":
        s["repeats_fake"] = (not answer.refused) and answer_contains(text, q.fake_answers)
    cites = []
    for c in answer.citations:
        row: dict[str, Any] = {"n": c.n, "verified": c.verified}
        if dataset == "seeds" and q.evidence:
            row["evidence"] = _supports_evidence(c.quote, passages.get(c.chunk_id), q.evidence)
        cites.append(row)
    s["citations"] = cites
    verified = {c.n for c in answer.citations if c.verified}
    sentences = [] if answer.refused else answer.sentences
    s["sentences"] = len(sentences)
    s["sentences_supported"] = sum(1 for st in sentences if verified.intersection(st.citations))
    return s


# ------------------------------------------------------------------ aggregation


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(dataset: str, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Run-level metrics from the per-question records."""
    m = _quality(dataset, records)
    m["latency_ms"] = latency_by_stage(records)
    langs = sorted({r["lang"] for r in records if r.get("lang")})
    if langs:  # a set that mixes languages: the same figures for each language's questions
        m["by_lang"] = {lang: _quality(dataset, [r for r in records if r.get("lang") == lang]) for lang in langs}
    return m


def _quality(dataset: str, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    m: dict[str, Any] = {"questions": len(records)}
    scored = [r["retrieval"] for r in records if r.get("retrieval")]
    if scored:
        # A key some questions lack (answer_hit@k where a question has no gold) is averaged over those that have it.
        keys = list(dict.fromkeys(k for s in scored for k in s))
        m["retrieval"] = {k: _mean([s[k] for s in scored if k in s]) for k in keys}
        m["retrieval"]["scored_questions"] = len(scored)
    answered = [r for r in records if r.get("scores") is not None]
    if answered:
        m["answer"] = _answer_metrics(dataset, answered)
    return m


def _answer_metrics(dataset: str, recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    sc = [r["scores"] for r in recs]
    out: dict[str, Any] = {"answered_questions": len(recs)}
    with_gold = [s for s in sc if "correct" in s]
    out["accuracy"] = _mean([float(s["correct"]) for s in with_gold])
    with_parts = [s for s in sc if "all_parts" in s]
    if with_parts:
        out["all_parts_accuracy"] = _mean([float(s["all_parts"]) for s in with_parts])
        out["multi_part_questions"] = len(with_parts)
    words = sorted(len(plain_answer(r.get("answer", "")).split()) for r, s in zip(recs, sc) if not s["refused"])
    if words:
        out["median_answer_words"] = float(words[len(words) // 2]) if len(words) % 2 else (
            (words[len(words) // 2 - 1] + words[len(words) // 2]) / 2)
    unans = [bool(r["unanswerable"]) for r in recs]
    if any(unans):
        rs = refusal_scores([s["refused"] for s in sc], unans)
        out["refusal"] = {"precision": rs.precision, "recall": rs.recall, "f1": rs.f1,
                          "refused": rs.refused, "unanswerable": rs.unanswerable}
    out["refusal_rate"] = _mean([float(s["refused"]) for s in sc])
    answerable_refused = [float(s["refused"]) for r, s in zip(recs, sc) if not r["unanswerable"]]
    out["false_refusals"] = _mean(answerable_refused)  # answerable questions refused, over answerable questions
    out["unanswerable_refused"] = _mean([float(s["refused"]) for r, s in zip(recs, sc) if r["unanswerable"]])
    routes = [r.get("route") for r in recs if r.get("route")]
    if routes:  # read mode: the share of questions that reached the reader
        out["reader_share"] = sum(route in ("reader", "check") for route in routes) / len(recs)
    if dataset == "squad2":
        answerable = [s for r, s in zip(recs, sc) if not r["unanswerable"]]
        out["f1_answerable"] = _mean([s["f1"] for s in answerable])
        out["exact_answerable"] = _mean([s["exact"] for s in answerable])
        out["f1_all"] = _mean([s["f1"] for s in sc])  # the official SQuAD 2.0 F1 (refusal = "")
    if dataset == "rgb":
        out["fake_rate"] = _mean([float(s["repeats_fake"]) for s in sc])
    cites = [c for s in sc for c in s["citations"]]
    out["citations"] = len(cites)
    out["citation_verified_rate"] = _mean([float(c["verified"]) for c in cites])
    if dataset == "seeds":
        judged = [c for c in cites if "evidence" in c]
        # precision: the verifier accepts the span AND it (or its passage) holds gold evidence
        out["citation_precision"] = _mean([float(c["verified"] and c["evidence"]) for c in judged])
    else:
        out["citation_precision"] = out["citation_verified_rate"]
    n_sent = sum(s["sentences"] for s in sc)
    out["citation_recall"] = sum(s["sentences_supported"] for s in sc) / n_sent if n_sent else None
    return out


def latency_by_stage(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """p50/p95/mean/max per timing key across questions (stages missing in some questions skipped there)."""
    stages: dict[str, list[float]] = {}
    for r in records:
        for k, v in r.get("timings_ms", {}).items():
            stages.setdefault(k, []).append(float(v))
    return {k: latency_summary(v) for k, v in sorted(stages.items())}
