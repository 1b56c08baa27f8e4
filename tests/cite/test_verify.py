"""CitationVerifier and key-term extraction, with the real MiniLM model."""

from __future__ import annotations

import pytest

from rag.cite.terms import extract_key_terms, missing_terms, normalize_for_match, term_in_text
from rag.cite.verify import CitationVerifier, same_text

SPAN = (
    "In recent years, Shanghai has been actively building a first-office economy, "
    "with 1,215 new first-office stores opened last year."
)


@pytest.fixture(scope="module")
def verifier(embedder) -> CitationVerifier:
    return CitationVerifier(embedder, min_similarity=0.45)


def test_key_terms_numbers_dates_names():
    terms = extract_key_terms("However, Gong Zheng said 1,215 stores opened on July 26, 2023, up 3.5 percent [1].")
    assert {"1215", "3.5%", "26", "2023", "july", "gong", "zheng"} <= terms
    assert "however" not in terms and "1" not in terms  # filler and the citation marker are not terms


def test_key_terms_ignore_sentence_initial_filler_but_keep_initial_names():
    assert extract_key_terms("The meeting was held today.") == set()
    assert extract_key_terms("Shanghai held the meeting.") == {"shanghai"}


def test_number_matching_is_normalised_and_whole_token():
    span = normalize_for_match("A total of 1,215 stores, 95 students and 12 percent growth since 1995.")
    assert term_in_text("1215", span)
    assert term_in_text("95", span)
    assert term_in_text("12%", span)
    assert not term_in_text("19", span)  # not a prefix of 1995
    assert not term_in_text("121", span)


def test_iso_dates_match_written_dates():
    assert missing_terms("It was published on 2023-07-26.", "published on July 26, 2023") == []


def test_rejects_sentence_with_number_the_span_lacks(verifier):
    v = verifier.check("Shanghai opened 1,300 new first-office stores last year [1].", SPAN)
    assert not v.ok
    assert v.missing_terms == ["1300"]


def test_accepts_paraphrase_with_same_numbers(verifier):
    v = verifier.check("Last year 1215 first-office stores opened in Shanghai [1].", SPAN)
    assert v.ok, v
    assert v.similarity >= 0.45 and v.missing_terms == []


def test_rejects_wrong_name(verifier):
    v = verifier.check("Xue Kan opened 1,215 first-office stores.", SPAN)
    assert not v.ok and v.missing_terms == ["kan", "xue"]


def test_rejects_unrelated_sentence_sharing_the_number(verifier):
    v = verifier.check("The humanoid robot has 1,215 moving parts.", SPAN)
    assert not v.ok
    # Two independent reasons: far in meaning, and the number counts something else in the span.
    assert v.missing_terms == ["1215 moving"] and v.similarity < 0.45


def test_number_bound_to_the_wrong_noun_is_rejected(verifier):
    v = verifier.check("The Arc'teryx Museum store in Shanghai opened last year with 1,215 floors.", SPAN)
    assert not v.ok and "1215 floors" in v.missing_terms


def test_paraphrased_number_context_is_accepted(verifier):
    v = verifier.check("95 home economics undergraduates will graduate in July.", "95 students will graduate in July.")
    assert v.missing_terms == []


def test_empty_span_is_never_support(verifier):
    assert not verifier.check("Shanghai grew.", "").ok


def test_check_many_keeps_order(verifier):
    verdicts = verifier.check_many([("1,215 stores opened in Shanghai.", SPAN), ("2,000 stores opened.", SPAN)])
    assert [v.ok for v in verdicts] == [True, False]


def test_bad_threshold_is_a_clear_error(embedder):
    with pytest.raises(ValueError, match="min_similarity"):
        CitationVerifier(embedder, min_similarity=45)


def test_a_quoted_clause_is_the_same_text_and_is_not_embedded():
    class Counting:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def encode(self, texts, show_progress=False):
            self.seen += texts
            raise AssertionError("a verbatim quote must not be embedded")

    clause = "with 1,215 new first-office stores opened last year"
    enc = Counting()
    v = CitationVerifier(enc).check("With 1,215 new first-office stores opened last year.", clause + ",")
    assert v.ok and v.similarity == 1.0 and enc.seen == []
    assert not same_text("With 1,216 new first-office stores opened last year.", clause)
    assert not same_text("Stores opened.", "stores opened last year")
