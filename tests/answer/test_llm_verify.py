"""LLMAnswerer.verify + the flow's verify/number step on realistic completions (tests/answer/data/completions.jsonl) over real passages.

Each record names the passages by a substring of the sample chunk to put at [1], [2], ...; the
completion is what a model could reply, some with changed figures, swapped names, invented
citation numbers or uncited sentences. No endpoint is called: verify() is the post-processing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.service.ask import QuestionPath
from tests.answer.sample_hits import assert_citation_exact, hits_containing

DATA = Path(__file__).parent / "data" / "completions.jsonl"
RECORDS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]



@pytest.fixture(scope="module")
def llm(embedder, sample_settings) -> QuestionPath:
    settings = sample_settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1"})
    return QuestionPath(settings, embedder)


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_completion_verification(record, llm, snapshot, embedder):
    hits = hits_containing(snapshot, embedder, record["question"], record["passages"])
    ans = llm.answer_from_reply(record["question"], record["completion"], hits, snapshot.article)
    expect = record["expect"]
    assert ans.mode == expect["mode"]
    if "dropped" in expect:
        assert ans.diagnostics.dropped_sentences == expect["dropped"]
        assert ans.diagnostics.invalid_citation_numbers == expect["invalid"]
    if expect.get("refused"):  # the model said so, or the fallback found the evidence too weak
        assert ans.refused and ans.closest and not ans.citations
        return
    assert not ans.refused
    if ans.mode == "llm":
        assert len(ans.sentences) == expect["kept"]
        assert all(s.supported and s.citations for s in ans.sentences)
        assert all(c.verified for c in ans.citations)
    else:  # nothing survived: the extractive answer stands in and says why
        assert "could not be verified" in ans.notes[0]
        assert not ans.diagnostics.endpoint_failed  # a healthy endpoint: the API adds no wait for a dying server
    for c in ans.citations:
        assert_citation_exact(c, snapshot.article(c.doc_id))
        assert len(c.quote) < 600  # a sentence or two, never a whole chunk


def test_renumbering_follows_first_use(llm, snapshot, embedder):
    q = "How many new first-office stores opened, and how many students graduate?"
    hits = hits_containing(snapshot, embedder, q, ["humanoid robot innovation center", "1,215 new first-office stores", "95 students will graduate in July"])
    ans = llm.answer_from_reply(q, "Shanghai opened 1,215 new first-office stores last year [2]. 95 students will graduate in July [3].", hits, snapshot.article)
    assert ans.answer.endswith("[2]") and "[1]" in ans.answer
    assert [c.n for c in ans.citations] == [1, 2]
    assert "1,215" in ans.citations[0].quote and "95" in ans.citations[1].quote
