"""The development set over the sample: every evidence string is verbatim in the normalised article
text, the split is by article, and the sizes the issue asks for hold."""

from __future__ import annotations

from collections import Counter

import pytest

from eval.adapters import load_seeds
from eval.adapters.sample_questions import QUESTIONS, check_questions, read_questions
from rag.ingest.discover import load_paths
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def report():
    assert SAMPLE.is_dir(), f"sample corpus missing at {SAMPLE}"
    return check_questions(read_questions(), load_paths([SAMPLE]).articles)


def test_every_evidence_string_is_in_an_article_and_split_is_by_article(report):
    assert report.problems == []
    assert not report.split_articles["train"] & report.split_articles["test"]


def test_sizes_and_kinds():
    rows = read_questions()
    assert len(rows) >= 100
    assert sum(r["kind"] == "unanswerable" for r in rows) >= 25
    test = [r for r in rows if r["split"] == "test"]
    assert sum(r["kind"] != "unanswerable" for r in test) >= 30
    assert sum(r["kind"] == "unanswerable" for r in test) >= 10
    styles = Counter(r["style"] for r in rows)
    for style in ("who", "which", "when", "how many", "what", "list", "two-article", "date-scoped", "paraphrase"):
        assert styles[style] >= 2, style


def test_the_eval_loader_reads_one_split_at_a_time():
    train, test, every = (load_seeds(QUESTIONS, s) for s in ("train", "test", "all"))
    assert len(train.questions) + len(test.questions) == len(every.questions)
    assert all(q.qid.startswith("te-") for q in test.questions)
    two_part = [q for q in test.questions if q.parts]
    assert two_part and all(len(q.parts) >= 2 for q in two_part)
