"""RGB as a training source (eval/rgb_training.py): true + noise passages only, labels from the gold
answer inside the question's own true passages, a noise-only unanswerable twin in the same CV group."""

from __future__ import annotations

import json

import pytest

from eval.rgb_training import DATASET, collect_rgb
from eval.train_answerer import _domain
from rag.answer.features import FeatureExtractor
from rag.settings import Settings
from tests.conftest import SHARED
from tests.conftest import fold as _fold

QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def fold(text: str) -> str:
    """Evidence folding plus straight quotes (the ingest normalises curly ones)."""
    return _fold(text.translate(QUOTES))

RGB = SHARED / "eval" / "rgb" / "en_fact.json"
N = 4


@pytest.fixture(scope="module")
def cases(tmp_path_factory, embedder):
    assert RGB.is_file(), f"RGB set missing at {RGB}"
    settings = Settings(index_dir=tmp_path_factory.mktemp("rgb-index"))
    return collect_rgb(settings, embedder, RGB, FeatureExtractor(embedder), log=lambda m: None, limit=N)


@pytest.fixture(scope="module")
def records():
    return {str(r["id"]): r for r in map(json.loads, RGB.read_text(encoding="utf-8").splitlines()) if r}


def test_answerable_cases_label_only_answer_sentences_of_true_passages(cases, records):
    answerable = [c for c in cases if not c.question.is_unanswerable]
    assert len(answerable) == N and all(c.dataset == DATASET for c in cases)
    for c in answerable:
        rec = records[c.question.qid]
        positives = [fold(p) for p in rec["positive"]]
        assert c.y.any(), f"{c.question.text}: no positive candidate"
        for span, y in zip(c.candidates.spans, c.y):
            if y:  # a positive sentence comes from a true passage and holds the answer
                assert any(fold(span.text) in p for p in positives)
                assert fold(rec["answer"] if isinstance(rec["answer"], str) else rec["answer"][0]) in fold(span.text)


def test_candidates_come_from_the_questions_own_true_or_noise_passages(cases, records):
    """Never from `positive_wrong` (planted false facts) and never from another question's passages."""
    for c in cases:
        rec = records[c.question.qid.split(":")[0]]
        own = " ".join(fold(p) for p in rec["positive"] + rec["negative"])
        for span in c.candidates.spans:
            assert fold(span.text) in own, span.text


def test_noise_only_twin_is_unanswerable_in_the_same_group(cases, records):
    noise = [c for c in cases if c.question.is_unanswerable]
    assert noise, "no noise-only variant kept"
    groups = {c.group for c in cases if not c.question.is_unanswerable}
    for c in noise:
        rec = records[c.question.qid.split(":")[0]]
        negatives = " ".join(fold(p) for p in rec["negative"])
        assert c.group in groups and not c.y.any()
        assert all(fold(s.text) in negatives for s in c.candidates.spans)
    assert all(_domain(c) == "rgb" for c in cases)  # scorer only: not in the refusal model or threshold
