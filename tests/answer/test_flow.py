"""The question flow end to end on the sample (real index, real retrieval, the shipped evidence model):
two-part questions, on-topic refusals, no headings as answers, the explain trace, the CLI's --explain.

Questions here are about articles of the `train` split of eval/data/sample_questions.jsonl (the test
split's articles are only for reporting)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rag.answer.features import FEATURES, _heading_like
from rag.models import AskRequest
from tests.answer.sample_hits import assert_citation_exact

TWO_PART = "Which party secretary met with Ge Lihe, and who accompanied the Shanghai delegation in Shigatse?"


def test_two_part_question_gets_two_cited_sentences_from_two_articles(assistant):
    ans = assistant.ask(TWO_PART)
    assert not ans.refused, ans.notes
    assert len(ans.sentences) >= 2 and all(s.citations and s.supported for s in ans.sentences)
    assert len({c.doc_id for c in ans.citations}) >= 2
    assert "Chen Jining" in ans.answer and "Wang Junzheng" in ans.answer
    for c in ans.citations:
        assert_citation_exact(c, assistant.article(c.doc_id))


@pytest.mark.parametrize("question", [
    "How much did Merck Group agree to invest in Shanghai at the meeting with Chen Jining?",
    pytest.param("What is the tuition fee for Shanghai Open University's home economics program?", marks=pytest.mark.xfail(
        strict=True, reason="known limit (README): the retrain that added `subst_place` lowered the refusal threshold "
        "to 0.24, and this question's answerability is 0.28, so the graduation sentence is quoted")),
])
def test_on_topic_unanswerable_question_is_refused(assistant, question):
    ans = assistant.ask(question)
    assert ans.refused and ans.closest and not ans.citations, ans.answer


@pytest.mark.parametrize("question", [
    "What is the full name of the Old Expo?",
    "Which body launched the representatives information platform throughout Hongkou District?",
    "When was the Ninth Plenary Session of the Eighth Central Committee held?",
    "Who met with Ge Lihe?",
])
def test_no_answer_sentence_is_a_heading(assistant, question):
    ans = assistant.ask(question)
    for c in ans.citations:
        assert not _heading_like(c.quote), c.quote
        assert c.quote not in {assistant.article(c.doc_id).title}


def test_explain_trace_is_filled_by_each_stage(assistant):
    ans = assistant.ask(AskRequest(question="Who met with Ge Lihe?", explain=True))
    trace = ans.explain
    assert trace is not None and trace.passages and trace.candidates and trace.refusal is not None
    assert set(trace.candidates[0].features) == set(FEATURES)
    assert trace.refusal.threshold == assistant.path.model.threshold
    assert assistant.ask("Who met with Ge Lihe?").explain is None


def test_cli_ask_explain(sample_settings):
    env = {**os.environ, "RAG_INDEX_DIR": str(sample_settings.index_dir), "RAG_COLLECTION": sample_settings.collection}
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "Who met with Ge Lihe?", "--explain"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Explain:" in done.stdout and "retrieved passages" in done.stdout and "refusal:" in done.stdout


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.texts = inner, []

    def encode(self, texts, *args, **kwargs):  # noqa: ANN001, ANN201
        self.texts.extend(texts)
        return self.inner.encode(texts, *args, **kwargs)


def test_candidates_read_the_stored_sentence_vectors(sample_settings, embedder):
    """With the snapshot's stored vectors only the question is encoded, and the cosines are the ones a
    fresh encoding gives (same model; float differences only)."""
    from rag.answer.features import FeatureExtractor
    from tests.answer.sample_hits import open_snapshot, retrieve

    snap = open_snapshot(sample_settings)
    try:
        q = "Who chaired the Yangpu district committee and district government quarterly work meeting?"
        hits = retrieve(snap, embedder, sample_settings, q)
        enc = CountingEncoder(embedder)
        stored = FeatureExtractor(enc).candidates(q, hits, snap.article, snap.sentences)
        assert enc.texts == [q]
        fresh = FeatureExtractor(embedder).candidates(q, hits, snap.article)
        assert [s.start for s in stored.spans] == [s.start for s in fresh.spans] and len(stored.spans) > 3
        col = FEATURES.index("cos")
        assert abs(stored.x[:, col] - fresh.x[:, col]).max() < 5e-3
    finally:
        snap.close()


class CountingQueryEncoder(CountingEncoder):
    """The real encoder behind the Assistant, counting every text encoded, the question's included."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        super().__init__(inner)
        self.identity, self.dim = inner.identity, inner.dim

    def encode_query(self, text):  # noqa: ANN001, ANN201
        self.texts.append(text)
        return self.inner.encode_query(text)


@pytest.mark.parametrize("question", [
    # a long answer sentence: cut to a clause window (windows used to be encoded one by one)
    "Who presided over the executive meeting of the municipal government that studied new infrastructure construction?",
    TWO_PART,  # two parts: each re-scored against the candidates (the parts used to be encoded)
    "Who chaired the Yangpu district committee and district government quarterly work meeting?",
    "How much did Merck Group agree to invest in Shanghai at the meeting with Chen Jining?",  # refused
])
def test_answering_a_question_encodes_exactly_the_question(sample_settings, embedder, question):
    """Retrieval encodes the question once; scoring, refusal, composing and verifying an extractive answer
    reuse that vector and the stored sentence vectors: one text encoded per question, whatever the path."""
    from rag.service.assistant import Assistant

    enc = CountingQueryEncoder(embedder)
    a = Assistant(sample_settings, embedder=enc)
    try:
        ans = a.ask(AskRequest(question=question, mode="extractive"))
    finally:
        a.close()
    assert enc.texts == [question], enc.texts
    assert ans.refused or (ans.citations and all(c.verified for c in ans.citations)), ans.answer
    if question == TWO_PART:
        assert len(ans.sentences) >= 2
    if question.startswith("Who presided"):
        assert ans.diagnostics.lead_clause_trimmed
