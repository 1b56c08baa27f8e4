"""`rag search` quality on the seeds questions: an evidence string in the top 5 for >= 14 of 15."""

from __future__ import annotations

from rag.models import SearchFilters
from tests.conftest import fold, seeds


def _rank_of_evidence(hits, evidence: list[str]) -> int | None:
    for rank, h in enumerate(hits, start=1):
        if any(fold(e) in fold(h.passage.text) for e in evidence):
            return rank
    return None


def test_seeds_evidence_in_top5(assistant):
    answerable = [q for q in seeds() if q["kind"] != "unanswerable"]
    ranks = [_rank_of_evidence(assistant.search(q["question"], k=5).hits, q["evidence"]) for q in answerable]
    hit5 = sum(r is not None for r in ranks)
    assert len(answerable) == 15
    assert hit5 >= 14, ranks


def test_hits_carry_all_scores_and_metadata(assistant):
    hits = assistant.search("humanoid robot innovation center", k=5).hits
    assert hits and all(h.fused_score is not None and h.dense_score is not None for h in hits)
    top = hits[0]
    assert top.bm25_score is not None and top.passage.source.endswith(".txt")
    article = assistant.article(top.passage.doc_id)
    assert article.text[top.passage.start : top.passage.end] == top.passage.text


def test_filters_apply_before_ranking(assistant):
    # Only one article is dated April 2024: every hit must come from it, however weak.
    result = assistant.search("consumption vouchers", k=5, filters=SearchFilters(since="2024-04-01", until="2024-04-30"))
    assert result.hits and {h.passage.date[:7] for h in result.hits} == {"2024-04"}
    by_source = assistant.search("meeting", k=5, filters=SearchFilters(source_glob="*004_*"))
    assert by_source.hits and all("004_" in h.passage.source for h in by_source.hits)
    none = assistant.search("meeting", k=5, filters=SearchFilters(since="2030-01-01"))
    assert none.hits == []


def test_question_month_sets_date_filter_and_says_so(assistant):
    result = assistant.search("What did the ministry sign with Shanghai in May 2024?", k=3)
    assert result.filters.automatic and result.filters.since == "2024-05-01"
    assert any("taken from the question" in n for n in result.notes)
    assert all(h.passage.date is None or h.passage.date.startswith("2024-05") for h in result.hits)
