"""A typed question's chat shorthand is read as written words before it is answered (rag/answer/written.py)."""

from __future__ import annotations

from rag.answer.written import written


def test_shorthand_is_spelled_out_and_filler_dropped() -> None:
    assert written("whats the name of the platform for ppl") == "what is the name of the platform for people"
    assert written("Whats the govt plan for night time stuff etc") == "What is the government plan for night time"
    assert written("jd n suning store count?") == "jd and suning store count?"


def test_words_that_only_look_like_shorthand_stay() -> None:
    assert written("n stores opened in Shanghai") == "n stores opened in Shanghai"  # "n" only between two words
    assert written("which info desk is open") == "which information desk is open"
    assert written("who is the mayor") == "who is the mayor"
    assert written("2024年上海开了几家首店") == "2024年上海开了几家首店"  # Chinese is left as typed


def test_a_question_of_filler_alone_is_kept() -> None:
    assert written("thanks") == "thanks"


def test_capitals_may_be_an_acronym() -> None:
    assert written("what did the uni say") == "what did the university say"
    assert written("what did the UNI say") == "what did the UNI say"
