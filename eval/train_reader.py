"""Learn the read mode's cut-offs (`rag eval train-reader`): when the extractive answer stands, when the reader
is asked, when a question is refused at once, and how well the sentence a reader's answer stands on must score.

Out of fold: the pool and the 5 folds (grouped by article / paragraph) are `rag eval train-answerer`'s; in each
fold the evidence model is fitted without the held-out questions, which are then answered three ways from
that fold's scores: refused, extractive (as `rag eval` scores it) and read (the real reader, over the
candidates in the fold's order). The cut-offs are chosen on the product's domain (sample `train`, the typed
`train2` and `train3`, seeds_dev): most questions handled right (answered with a gold string, or an
unanswerable one refused) with the written questions' false refusals at most `MAX_FALSE_REFUSALS`; ties
go to fewer reader calls. The typed splits are answered out of fold but never fitted on (the scorer is
fitted as the shipped one is, without them). Reader replies are cached
by prompt in `eval/results/reader_replies.jsonl`, so a second run asks only what changed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from eval.answerer_data import TYPED_SETS as TYPED
from eval.answerer_data import Case
from eval.metrics import answer_contains
from eval.train_answerer import FOLDS, _domain, _groups, answer_case, fit
from rag.answer.features import FeatureExtractor
from rag.answer.flow import Evidence
from rag.answer.parts import question_parts
from rag.answer.reader import ReaderComposer, ReaderCutoffs, build_reader_messages, shown_sentences, zone
from rag.cite.verify import CitationVerifier

REPLY_CACHE = Path("eval/results/reader_replies.jsonl")
OUTCOMES = Path("eval/results/reader_outcomes.json")  # per question, for a look at what the cut-offs trade
MAX_FALSE_REFUSALS = 0.05
# The reader is asked, while learning, only where the cut-offs can send it: between the lowest refusal
# cut-off and the highest extractive one (a question the scorer is sure of either way costs no call).
BAND = (0.05, 0.95)
REFUSE_GRID = np.round(np.arange(BAND[0], 0.31, 0.01), 2)
CHECK_GRID = np.round(np.arange(0.3, BAND[1] + 0.001, 0.05), 2)
EXTRACTIVE_GRID = np.round(np.arange(0.6, BAND[1] + 0.001, 0.05), 2)
# No floor on the probability of the sentence a reply stands on: the scorer learned English, and a right reply's
# Chinese sentence scores near 0 (a floor of 0.02, chosen on English questions, refused the Chinese reader tests).
MIN_PROB_GRID = (0.0,)


class CachedReader(ReaderComposer):
    """The real reader, its replies kept by prompt (a re-run asks only new prompts)."""

    def __init__(self, *args: Any, cache: Path = REPLY_CACHE, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.cache_path = cache
        self.cache: dict[str, str] = {}
        if cache.is_file():
            for line in cache.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                self.cache[rec["key"]] = rec["reply"]

    def ask(self, question: str, sentences: list[str]) -> str:
        key = hashlib.sha256(json.dumps([self.settings.llm_model, build_reader_messages(question, sentences)],
                                        sort_keys=True).encode()).hexdigest()
        if key not in self.cache:
            self.cache[key] = super().ask(question, sentences)
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            with self.cache_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "question": question, "reply": self.cache[key]}) + "\n")
        return self.cache[key]


@dataclass
class Outcome:
    """One product-domain question answered out of fold, three ways."""

    qid: str
    unanswerable: bool
    answerability: float | None
    multi_part: bool
    extractive_right: bool  # the extractive answer holds a gold string (answerable questions)
    extractive_refused: bool  # extractive mode's own refusal
    read_called: bool
    read_right: bool  # the reader's answer stood and holds a gold string
    read_stood_prob: float | None  # probability of the sentence it stood on (None: it did not stand)
    reader_answer: str | None = None
    question: str = ""
    stood_text: str | None = None  # the sentence it stood on
    golds: tuple[str, ...] = ()
    stood_rank: int | None = None  # rank of that sentence among those shown (0 = the scorer's best)
    typed: bool = False  # from a typed split (train2, train3): counted in the objective, not in the refusal bound


def outcomes(cases: list[Case], kind: str, extractor: FeatureExtractor, verifier: CitationVerifier, max_sentences: int,
             reader: ReaderComposer, log: Callable[[str], None] = print) -> list[Outcome]:
    out: list[Outcome] = []
    folds = GroupKFold(n_splits=FOLDS).split(np.zeros(len(cases)), groups=_groups(cases))
    for k, (tr, te) in enumerate(folds, start=1):
        # the typed splits are answered, not fitted on: the shipped scorer is fitted without them (docs/DECISIONS.md)
        model = fit([cases[i] for i in tr if cases[i].dataset not in TYPED], kind)
        for i in te:
            c = cases[i]
            if _domain(c) != "sample":
                continue
            probs = model.predict(c.candidates.x)
            a = model.answerability(c.candidates.x, probs)
            ev = Evidence(c.question.text, c.candidates, probs, np.argsort(-probs, kind="stable"), a)
            ext = answer_case(c, model, extractor, verifier, max_sentences)
            golds = list(c.question.answers)
            ext_right = bool(golds) and not ext["scores"]["refused"] and answer_contains(ext["answer"], golds)
            out.append(Outcome(c.question.qid, c.question.is_unanswerable, a, len(question_parts(c.question.text)) > 1,
                               ext_right, bool(ext["scores"]["refused"]), False, False, None, typed=c.dataset in TYPED))
            if a is None or not BAND[0] <= a < BAND[1] or out[-1].multi_part:
                continue
            draft = reader.compose(c.question.text, ev)
            o = out[-1]
            o.read_called = True
            o.reader_answer = draft.diagnostics.reader_answer
            o.question, o.golds = c.question.text, tuple(golds)
            if draft.sentences:
                q = draft.sentences[0].quotes[0]
                o.stood_rank, o.read_stood_prob, o.stood_text = next(
                    (r, p, s.text) for r, (_, s, p) in enumerate(shown_sentences(ev, reader.settings.reader_sentences))
                    if s.doc_id == q.doc_id and s.start <= q.start < s.end)
                o.read_right = bool(golds) and answer_contains(draft.sentences[0].text, golds)
        log(f"  fold {k}/{FOLDS}: {sum(1 for o in out if o.read_called)} reader calls so far")
    return out


def save_outcomes(outs: list[Outcome], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(o) for o in outs], indent=0), encoding="utf-8")


def handled(o: Outcome, cut: tuple[float, float, float, float]) -> tuple[bool, bool, bool]:
    """(handled right, refused, reader asked) for one question under cut-offs (refuse_below, check_above,
    extractive_above, min_sentence_prob), routed by the product's own `rag.answer.reader.zone`."""
    refuse_below, check_above, extractive_above, min_prob = cut
    if o.answerability is None:
        return o.unanswerable, True, False
    way = zone(o.answerability, ReaderCutoffs(refuse_below, extractive_above, min_prob, check_above), o.multi_part)
    if way == "refuse":
        return o.unanswerable, True, False
    if way == "extractive" or not o.read_called:  # the extractive answer stands
        return (not o.unanswerable and o.extractive_right), False, False
    stood = o.read_stood_prob is not None and o.read_stood_prob >= min_prob
    if way == "check":  # the reader's answer if it stands, else the extractive one
        right = o.read_right if stood else o.extractive_right
        return (not o.unanswerable and right), False, True
    if o.unanswerable:
        return not stood, not stood, True
    return stood and o.read_right, not stood, True


def figures(outs: list[Outcome], cut: tuple[float, float, float, float]) -> dict[str, float]:
    rows = [handled(o, cut) for o in outs]
    ans = [r for r, o in zip(rows, outs) if not o.unanswerable]
    un = [r for r, o in zip(rows, outs) if o.unanswerable]
    return {"handled_right": float(np.mean([r[0] for r in rows])),
            "accuracy": float(np.mean([r[0] for r in ans])), "false_refusals": float(np.mean([r[1] for r in ans])),
            "unanswerable_refused": float(np.mean([r[1] for r in un])) if un else 0.0,
            "reader_share": float(np.mean([r[2] for r in rows])), "questions": float(len(rows))}


def choose(outs: list[Outcome]) -> ReaderCutoffs:
    """Most questions handled right over the whole pool, typed ones included, with the false refusals of the
    written questions (sample `train` + seeds_dev) at most `MAX_FALSE_REFUSALS`. Typed questions are not held
    to that bound: no cut-offs bring theirs under 0.08 (at every setting the reader or the scorer misses some),
    and bounding the pool would only choose cut-offs that refuse fewer of their unanswerable questions."""
    written = [o for o in outs if not o.typed]
    best: tuple[tuple[float, float], tuple[float, float, float, float]] | None = None
    for cut in itertools.product(REFUSE_GRID, CHECK_GRID, EXTRACTIVE_GRID, MIN_PROB_GRID):
        if not cut[0] < cut[1] <= cut[2]:
            continue
        if figures(written, cut)["false_refusals"] > MAX_FALSE_REFUSALS:
            continue
        f = figures(outs, cut)
        key = (round(f["handled_right"], 6), -f["reader_share"])
        if best is None or key > best[0]:
            best = (key, cut)
    if best is None:
        raise ValueError(f"no cut-offs keep false refusals at or under {MAX_FALSE_REFUSALS}")
    cut = best[1]
    return ReaderCutoffs(refuse_below=float(cut[0]), extractive_above=float(cut[2]), min_sentence_prob=float(cut[3]),
                         check_above=float(cut[1]),
                         trained={"how": "rag eval train-reader: out of fold, sample train + train2 + train3 + "
                                         f"seeds_dev, written questions' false refusals <= {MAX_FALSE_REFUSALS}",
                                  "oof": figures(outs, cut), "oof_written": figures(written, cut),
                                  "oof_typed": figures([o for o in outs if o.typed], cut) if len(written) < len(outs) else None,
                                  "oof_without_checking": figures(outs, (cut[0], cut[2], cut[2], cut[3]))})
