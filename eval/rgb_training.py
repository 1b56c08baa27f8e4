"""RGB (../shared/eval/rgb/en_fact.json) as an optional extra training source for the evidence model.

RGB gives each of its 100 news questions true `positive` passages (each holds the answer),
`positive_wrong` ones (the same passages with the answer replaced by a fake one) and `negative`
ones (on-topic search results that do not hold the answer). Training uses only the TRUE ones:

- answerable: the question over its own `positive` + `negative` passages; a candidate sentence is
  positive when it lies in one of the question's `positive` passages and holds a gold answer
  (word-boundary match, as the scorer reads answers);
- unanswerable variant (`<id>:noise`): the same question over its `negative` passages only, every
  candidate negative. RGB built the negatives so they do not contain the answer string; a few still
  answer it in other words (question 2's "acquired by Meta" for "Who acquired Instagram?"), so a
  variant whose candidates hold any gold answer is dropped, and the rest keep that known noise.

Both variants of a question share one cross-validation group (`rgb:<id>`), so no fold trains on
one and scores the other. `positive_wrong` passages are never read: training on planted false
facts would teach the scorer that they answer.

Retrieval is the product's own (HybridRetriever, default settings) over one collection per variant
in which each question sees only its own passages (`eval.corpus.prepare_rgb`'s per-question files
and source filter, the protocol `rag eval --dataset rgb` uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from eval.adapters import EvalQuestion, load_rgb
from eval.answerer_cases import CachedArticles, Case, open_collection
from eval.corpus import prepare_rgb
from eval.metrics import answer_contains
from rag.answer.features import Candidates, FeatureExtractor
from rag.embed.torch_encoder import TorchEncoder as Embedder
from rag.settings import Settings

DATASET = "rgb"  # Case.dataset of both variants (eval/train_answerer.py gives it its own domain)
SPLIT = "en_fact"


def _label(cands: Candidates, q: EvalQuestion, positive_docs: set[str]) -> np.ndarray:
    return np.array([s.doc_id in positive_docs and answer_contains(s.text, q.answers) for s in cands.spans],
                    dtype=np.int8)


def collect_rgb(settings: Settings, embedder: Embedder, path: Path, extractor: FeatureExtractor,
                log: Callable[[str], None] = print, limit: int | None = None) -> list[Case]:
    """Training cases from RGB's true and noise passages; see the module doc."""
    positive = load_rgb(path, SPLIT, passages="positive")
    negative = load_rgb(path, SPLIT, passages="negative")
    questions = positive.questions[:limit]
    cache = settings.index_dir / "eval-corpora"
    full = prepare_rgb({"positive": positive, "negative": negative}, questions, cache, "train-answerer-rgb")
    noise = prepare_rgb({"negative": negative}, questions, cache, "train-answerer-rgb-noise")
    cases: list[Case] = []
    dropped = 0
    for prepared, unanswerable in ((full, False), (noise, True)):
        snap, retriever = open_collection(prepared.paths, prepared.collection, settings, embedder)
        lookup = CachedArticles(snap)
        for q in questions:
            positive_docs = {doc for doc, ids in prepared.ids_of.items()
                             if any(i.startswith(f"{q.qid}:positive:") for i in ids)}
            hits = retriever.search(q.text, filters=prepared.filters_of[q.qid]).hits
            cands = extractor.candidates(q.text, hits, lookup, snap.sentences)
            if unanswerable:
                if any(answer_contains(s.text, q.answers) for s in cands.spans):
                    dropped += 1
                    continue
                asked = EvalQuestion(qid=f"{q.qid}:noise", text=q.text, is_unanswerable=True, kind="unanswerable")
                y = np.zeros(len(cands.spans), dtype=np.int8)
            else:
                asked = EvalQuestion(qid=q.qid, text=q.text, answers=q.answers, kind="fact")
                y = _label(cands, q, positive_docs)
            cases.append(Case(DATASET, asked, f"rgb:{q.qid}", hits, cands, y, lookup))
    answerable = sum(not c.question.is_unanswerable for c in cases)
    log(f"  rgb: {answerable} questions over true + noise passages, {len(cases) - answerable} over noise only "
        f"({dropped} noise-only variants dropped: a noise passage held the answer)")
    return cases
