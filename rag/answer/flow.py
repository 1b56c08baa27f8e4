"""The steps a question's evidence goes through after retrieval, as parts (the order lives in `rag.service.ask`):

- `EvidenceScorer`: every sentence of the retrieved passages becomes a candidate with features
  (`rag.answer.features`); the learned evidence model (`rag.answer.evidence_model`) gives each the
  probability that it answers the question, and the refusal stage one answerability for the question.
- `decide_refusal`: refuse below the model's one threshold (or when nothing was retrieved).
- `Draft` / `Quote`: what a composer hands back: sentences, each with the article spans it quotes.
- `verify_and_number`: every quote not already checked by its composer is checked (`CitationVerifier`);
  citations are numbered in order of first use; `article.text[start:end] == quote` is enforced where
  each Citation is made.
- `explain_trace`: the ExplainTrace filled from the same evidence and decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from rag.answer.citations import ArticleLookup, CitationNumbering, SentenceSpan
from rag.answer.evidence_model import EvidenceModel
from rag.answer.features import Candidates, FeatureExtractor, SentenceVectors
from rag.answer.prompts import NO_ANSWER_PHRASE
from rag.cite.verify import CitationVerifier
from rag.models import (
    Answer,
    AnswerDiagnostics,
    AnswerSentence,
    CandidateTrace,
    ExplainTrace,
    Hit,
    PassageTrace,
    RefusalTrace,
)

CLOSEST_SHOWN = 3  # passages listed with a refusal
EXPLAIN_CANDIDATES = 8  # candidates shown by --explain


@dataclass(frozen=True)
class Evidence:
    """The scored candidates of one question, best first."""

    question: str
    candidates: Candidates
    probs: np.ndarray  # same order as candidates.spans
    order: np.ndarray  # indexes into spans, best first
    answerable: float | None = None  # the refusal model's probability that the best candidate answers right

    @property
    def best(self) -> float | None:
        return self.answerable

    def ranked(self) -> list[tuple[SentenceSpan, float]]:
        return [(self.candidates.spans[i], float(self.probs[i])) for i in self.order]


@dataclass
class Quote:
    """An exact article span cited by a draft sentence; verified None = not checked yet."""

    hit_index: int
    doc_id: str
    start: int
    end: int
    verified: bool | None = None
    similarity: float | None = None


@dataclass
class DraftSentence:
    text: str
    quotes: list[Quote]


@dataclass
class Draft:
    """What a composer hands back. `no_answer`: the composer (an LLM) says the passages hold none;
    `failed`: it could not compose (endpoint down, nothing verifiable) and says why."""

    mode: str
    sentences: list[DraftSentence] = field(default_factory=list)
    no_answer: bool = False
    failed: str | None = None
    notes: list[str] = field(default_factory=list)
    diagnostics: AnswerDiagnostics = field(default_factory=AnswerDiagnostics)
    timings_ms: dict[str, float] = field(default_factory=dict)


class EvidenceScorer:
    """Candidates + features + model probabilities for one question."""

    def __init__(self, extractor: FeatureExtractor, model: EvidenceModel) -> None:
        self.extractor = extractor
        self.model = model

    def score(self, question: str, hits: list[Hit], articles: ArticleLookup,
              sentence_vectors: SentenceVectors | None = None, query_vector: np.ndarray | None = None) -> Evidence:
        cands = self.extractor.candidates(question, hits, articles, sentence_vectors, query_vector)
        return self.score_candidates(question, cands)

    def score_candidates(self, question: str, cands: Candidates) -> Evidence:
        probs = self.model.predict(cands.x)
        order = np.argsort(-probs, kind="stable")
        return Evidence(question, cands, probs, order, self.model.answerability(cands.x, probs))


def decide_refusal(hits: list[Hit], evidence: Evidence, threshold: float) -> RefusalTrace:
    if not hits:
        return RefusalTrace(refused=True, reason="No passage was retrieved for this question.", threshold=threshold)
    best = evidence.best
    if best is None:
        return RefusalTrace(refused=True, reason="The retrieved passages hold no sentence that could answer the question.",
                            threshold=threshold)
    margin = best - threshold
    if margin < 0:
        return RefusalTrace(
            refused=True, best_score=best, threshold=threshold, margin=margin,
            # the scores stay in the reason for `explain`; front ends show it without them (rag.service.wording)
            reason=f"No sentence in the retrieved passages answers the question well enough "
                   f"(evidence score {best:.2f} < {threshold:.2f}).",
        )
    return RefusalTrace(refused=False, best_score=best, threshold=threshold, margin=margin)


def refusal_answer(question: str, hits: list[Hit], reason: str, mode: str, best: float | None) -> Answer:
    return Answer(
        question=question,
        answer=f"{NO_ANSWER_PHRASE} The closest passages are listed below." if hits else NO_ANSWER_PHRASE,
        refused=True,
        mode=mode,
        closest=hits[:CLOSEST_SHOWN],
        notes=[reason],
        diagnostics=AnswerDiagnostics(refusal_reason=reason, support=None if best is None else round(best, 4)),
    )


def verify_and_number(draft: Draft, hits: list[Hit], articles: ArticleLookup, verifier: CitationVerifier,
                      question: str) -> Answer:
    """Check every unchecked quote, number citations by first use, render the answer text."""
    pending: list[tuple[Quote, str, str]] = []
    for sent in draft.sentences:
        for q in sent.quotes:
            if q.verified is None:
                article = articles(q.doc_id)
                if article is None:
                    raise LookupError(f"document {q.doc_id[:12]} disappeared while answering; ask again")
                pending.append((q, sent.text, article.text[q.start : q.end]))
    for (q, _, _), verdict in zip(pending, verifier.check_many([(t, quote) for _, t, quote in pending])):
        q.verified, q.similarity = verdict.ok, verdict.similarity
    numbering = CitationNumbering()
    sentences: list[AnswerSentence] = []
    for sent in draft.sentences:
        numbers = []
        for q in sent.quotes:
            article = articles(q.doc_id)
            assert article is not None  # checked above or by the composer
            numbers.append(numbering.add(hits[q.hit_index], article, q.start, q.end, bool(q.verified), q.similarity))
        sentences.append(AnswerSentence(text=sent.text, citations=numbers,
                                        supported=all(q.verified for q in sent.quotes) and bool(sent.quotes)))
    diagnostics = draft.diagnostics.model_copy(update={
        "sentences": len(sentences),
        "unverified_citations": sum(not c.verified for c in numbering.citations),
    })
    return Answer(
        question=question,
        answer=" ".join(s.text + " " + "".join(f"[{n}]" for n in s.citations) for s in sentences).strip(),
        refused=False,
        mode=draft.mode,
        sentences=sentences,
        citations=numbering.citations,
        notes=list(draft.notes),
        diagnostics=diagnostics,
        timings_ms=dict(draft.timings_ms),
    )


def explain_trace(hits: list[Hit], evidence: Evidence, refusal: RefusalTrace, model: EvidenceModel) -> ExplainTrace:
    passages = [
        PassageTrace(rank=i + 1, chunk_id=h.passage.chunk_id, doc_id=h.passage.doc_id, title=h.passage.title,
                     score=h.score, dense_score=h.dense_score, bm25_score=h.bm25_score, sentence_score=h.sentence_score,
                     dense_rank=h.dense_rank, bm25_rank=h.bm25_rank)
        for i, h in enumerate(hits)
    ]
    cands = [
        CandidateTrace(text=evidence.candidates.spans[i].text, doc_id=evidence.candidates.spans[i].doc_id,
                       start=evidence.candidates.spans[i].start, end=evidence.candidates.spans[i].end,
                       passage_rank=evidence.candidates.spans[i].hit_index + 1, score=round(float(evidence.probs[i]), 4),
                       features=evidence.candidates.row(int(i)))
        for i in evidence.order[:EXPLAIN_CANDIDATES]
    ]
    return ExplainTrace(passages=passages, candidates=cands, refusal=refusal, model=model.describe())


def drain(items: Iterator[str | Draft]) -> Draft:
    final = None
    for item in items:
        if isinstance(item, Draft):
            final = item
    assert final is not None, "composers always end with a Draft"
    return final
