"""The development set over the sample: every evidence string is verbatim in the normalised article
text, the split is by article, and the sizes the issue asks for hold."""

from __future__ import annotations

from collections import Counter

import pytest

from eval.adapters import load_seeds
from eval.adapters.sample_questions import QUESTIONS, SPLITS, check_questions, read_questions
from rag.ingest.discover import load_paths
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def report():
    assert SAMPLE.is_dir(), f"sample corpus missing at {SAMPLE}"
    return check_questions(read_questions(), load_paths([SAMPLE]).articles)


def test_every_evidence_string_is_in_an_article_and_split_is_by_article(report):
    assert report.problems == []
    assert not report.split_articles["train"] & report.split_articles["test"]
    assert not report.split_articles["train"] & report.split_articles["test2"]


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
    every = load_seeds(QUESTIONS, "all")
    present = {r["split"] for r in read_questions()}  # a split may be declared before its questions are written
    splits = {s: load_seeds(QUESTIONS, s) for s in SPLITS if s in present}
    assert sum(len(s.questions) for s in splits.values()) == len(every.questions)
    test, test2, test3 = splits["test"], splits["test2"], splits["test3"]
    assert all(q.qid.startswith("te-") for q in test.questions)
    assert all(q.qid.startswith("t2-") for q in test2.questions)
    assert all(q.qid.startswith("t3-") for q in test3.questions)
    two_part = [q for q in test.questions if q.parts]
    assert two_part and all(len(q.parts) >= 2 for q in two_part)


def test_evidence_also_in_an_article_of_the_other_split_is_a_problem():
    """A stock phrase repeated across press releases would label the other split's sentence as an answer."""
    articles = load_paths([SAMPLE]).articles
    phrase = "General Secretary Xi Jinping's important speech during his inspection of Shanghai"
    holders = [a for a in articles if phrase in a.text]
    assert len(holders) >= 2, "the sample no longer repeats the phrase this test relies on"
    rows = [
        {"id": "a", "split": "train", "kind": "fact", "question": "Whose speech?", "answers": ["Xi Jinping"],
         "evidence": [phrase]},
        {"id": "b", "split": "test", "kind": "unanswerable", "question": "?", "answers": [], "evidence": [],
         "about": holders[1].title[:60]},
    ]
    rep = check_questions(rows, articles)
    assert any(p.startswith("a: evidence") and "test split" in p for p in rep.problems), rep.problems


def test_test2_is_a_second_held_out_set_over_the_test_articles_only(report):
    """test2 (issue 28): questions typed the way people type, over the articles of `test` and no others."""
    test2 = [r for r in read_questions() if r["split"] == "test2"]
    assert len(test2) >= 40
    assert sum(r["kind"] == "unanswerable" for r in test2) >= 10
    assert sum(r["kind"] == "multi" and len(r.get("parts", [])) >= 2 for r in test2) >= 2
    assert report.split_articles["test2"] and report.split_articles["test2"] <= report.split_articles["test"]
    assert all(report.articles_of[r["id"]] for r in test2)


def test_a_test2_question_on_an_article_outside_the_test_split_is_a_problem():
    articles = load_paths([SAMPLE]).articles
    rep = check_questions(read_questions(), articles)
    train, test = (sorted(rep.split_articles[s]) for s in ("train", "test"))

    def about(qid, split, i):
        return {"id": qid, "split": split, "kind": "unanswerable", "question": "?", "answers": [], "evidence": [],
                "about": articles[i].title[:60]}

    rows = [about("tr", "train", train[0]), about("te", "test", test[0]),
            about("ok", "test2", test[0]), about("other", "test2", test[1]), about("trained", "test2", train[0])]
    problems = check_questions(rows, articles).problems
    assert not any(p.startswith("ok:") for p in problems), problems
    assert any(p.startswith("other: article") and "not an article of the test split" in p for p in problems), problems
    assert any("serves both train and test2" in p for p in problems), problems
