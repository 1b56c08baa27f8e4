"""Labelled sentence candidates for training the evidence model, built with the product's own pipeline.

For every question: index its corpus (the sample for the sample questions and seeds_dev, SQuAD 2.0's
411 paragraphs for SQuAD), retrieve with the HybridRetriever under the default settings (k, fusion,
automatic date filter: what `Assistant` does), take the sentence candidates of the retrieved
passages (`rag.answer.features`) and label each:
- seeds-style sets: positive when the sentence holds one of the question's verbatim evidence strings;
- SQuAD 2.0: positive when the sentence belongs to the question's paragraph and holds a gold answer.
Unanswerable questions have only negatives. A Case keeps the hits and the article lookup so the
training command can run the whole compose -> verify -> score path out-of-fold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.adapters import EvalQuestion, load_seeds, load_squad2
from eval.adapters.sample_questions import QUESTIONS, TYPED_TRAIN_SPLITS, check_questions, read_questions
from eval.answerer_cases import CachedArticles, Case, open_collection
from eval.corpus import prepare_corpus_file
from eval.rgb_training import collect_rgb
from rag.answer.features import Candidates, FeatureExtractor
from rag.answer.written import written
from rag.embed.torch_encoder import TorchEncoder as Embedder
from rag.models import Article
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _label_evidence(cands: Candidates, evidence: tuple[str, ...]) -> np.ndarray:
    ev = [_fold(e) for e in evidence if e.strip()]
    return np.array([any(e in _fold(s.text) or _fold(s.text) in e for e in ev) for s in cands.spans], dtype=np.int8)


def _label_squad(cands: Candidates, q: EvalQuestion, doc_of_context: dict[str, str]) -> np.ndarray:
    gold_docs = {doc_of_context.get(c) for c in q.relevant}
    answers = [_fold(a) for a in q.answers]
    return np.array([s.doc_id in gold_docs and any(a in _fold(s.text) for a in answers) for s in cands.spans],
                    dtype=np.int8)


def sample_groups(articles: list[Article], questions: Path = QUESTIONS) -> tuple[dict[str, str], set[str]]:
    """question id -> article title (its CV group) for the sample questions and seeds_dev, and the
    titles of the articles the sample `test` split uses (nothing about them may be trained on)."""
    rows = read_questions(questions)
    rep = check_questions(rows, articles)
    if rep.problems:
        raise ValueError(f"{questions} has problems: {rep.problems[:3]} (each line needs id, question, answers, "
                         "evidence copied verbatim from one document, and split train|test by document)")
    groups = {qid: articles[min(docs)].title for qid, docs in rep.articles_of.items() if docs}
    test_titles = {articles[i].title for i in rep.split_articles.get("test", set())}
    return groups, test_titles


TYPED_SETS = frozenset(f"sample-{s}" for s in TYPED_TRAIN_SPLITS)


def collect(settings: Settings, embedder: Embedder, seeds_path: Path | None, squad_path: Path | None,
            squad_limit: int | None = None, log: Callable[[str], None] = print,
            questions: Path = QUESTIONS, corpus: Path = SAMPLE, rgb_path: Path | None = None,
            splits: tuple[str, ...] = ("train",)) -> list[Case]:
    """`questions` (seeds fields + split) over the documents in `corpus`; seeds_dev (over the sample),
    SQuAD 2.0 and RGB's true + noise passages (eval/rgb_training.py) are added when their paths are given.
    `splits`: which of the question file's tuning splits are read (`sample-<split>` cases; the sample `test`
    split is always read, to be left out by its articles)."""
    extractor = FeatureExtractor(embedder)
    cases: list[Case] = []
    name = "train-answerer-sample" if corpus.resolve() == SAMPLE.resolve() else "train-answerer-own"
    snap, retriever = open_collection([corpus], name, settings, embedder)
    lookup = CachedArticles(snap)
    articles = [lookup(d.doc_id) for d in snap.documents()]
    articles = [a for a in articles if a is not None]
    groups, test_titles = sample_groups(sorted(articles, key=lambda a: (a.source, a.span)), questions)
    by_title = {a.title: a for a in articles}
    # the typed splits (train2, train3) only where asked: `rag eval train-reader` learns its cut-offs on them too;
    # in the scorer's own fit they gained little on typed questions and cost SQuAD (docs/DECISIONS.md)
    present = {r.get("split") for r in read_questions(questions)}
    sets = [(f"sample-{s}", load_seeds(questions, s)) for s in splits if s in present]
    sets.append(("sample-test", load_seeds(questions, "test")))
    if seeds_path is not None:
        sets.append(("seeds", load_seeds(seeds_path, "dev")))
    for name, evalset in sets:
        for q in evalset.questions:
            hits = retriever.search(q.text).hits  # searched as typed, answered with the shorthand read as written
            if name in TYPED_SETS:  # (as the product does; only the typed splits: the shipped scorer's data stays)
                q = replace(q, text=written(q.text))
            cands = extractor.candidates(q.text, hits, lookup, snap.sentences)  # stored vectors, as at query time
            group = groups.get(q.qid) or _seed_group(q, by_title)
            cases.append(Case(name, q, group, hits, cands, _label_evidence(cands, q.evidence), lookup))
        log(f"  {name}: {len(evalset.questions)} questions")
    if squad_path is not None:
        evalset = load_squad2(squad_path, "dev")
        prepared = prepare_corpus_file(evalset, settings.index_dir / "eval-corpora", "train-answerer-squad2")
        ssnap, sretriever = open_collection(prepared.paths, prepared.collection, settings, embedder)
        slookup = CachedArticles(ssnap)
        doc_of_context = {cid: doc for doc, cids in prepared.ids_of.items() for cid in cids}
        for q in evalset.questions[:squad_limit]:
            hits = sretriever.search(q.text).hits
            cands = extractor.candidates(q.text, hits, slookup, ssnap.sentences)
            # An unanswerable question names no paragraph: its group is its top hit's paragraph, by the dataset's
            # own context id (the product doc id depends on where the index lives, and with it the folds:
            # the same pool scored objective 0.691 in one index folder and 0.671 in another)
            top = hits[0].passage.doc_id if hits else None
            ctx = next(iter(q.relevant), None) or (min(prepared.ids_of.get(top) or (top,)) if top else q.qid)
            cases.append(Case("squad2", q, f"squad:{ctx}", hits, cands, _label_squad(cands, q, doc_of_context), slookup))
        log(f"  squad2: {len(evalset.questions[:squad_limit])} questions")
    if rgb_path is not None:
        cases.extend(collect_rgb(settings, embedder, rgb_path, extractor, log))
    for c in cases:
        c.test_article = c.group in test_titles
    return cases


def _seed_group(q: EvalQuestion, by_title: dict[str, Article]) -> str:
    """A seeds question's article: the first whose text holds an evidence string (else its own id)."""
    for ev in q.evidence:
        for title, a in by_title.items():
            if ev in a.text:
                return title
    return f"seed:{q.qid}"


def summary(cases: list[Case]) -> str:
    out = {}
    for c in cases:
        d = out.setdefault(c.dataset, {"questions": 0, "candidates": 0, "positives": 0, "no_positive": 0})
        d["questions"] += 1
        d["candidates"] += len(c.y)
        d["positives"] += int(c.y.sum())
        d["no_positive"] += int(not c.question.is_unanswerable and not c.y.any())
    return json.dumps(out)
