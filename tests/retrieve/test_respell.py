"""A misspelt question word is read as the passages' word and searched again (rag/retrieve/respell.py);
the last tests use the real sample index, encoder and assistant."""

from __future__ import annotations

from rag.models import AskRequest
from rag.retrieve.respell import known_words, respell

PASSAGES = ["the May 5th Shopping Festival and the Shanghai Summer", "the government of Shanghai and its committee",
            "home appliances exchange at the university", "Arc'teryx Museum store; visits by the mayor"]


def test_typos_are_read_as_the_passages_words() -> None:
    fixed = respell("which shoping events did the goverment commitee hold in Shangai", PASSAGES, known_words())
    assert fixed.question == "which shopping events did the government committee hold in Shanghai"
    assert fixed.changes == [("shoping", "shopping"), ("goverment", "government"), ("commitee", "committee"),
                             ("Shangai", "Shanghai")]
    assert "“shoping” as “shopping”" in fixed.note()


def test_real_words_short_words_and_unknown_names_stay_as_typed() -> None:
    known = known_words()
    assert "visitors" in known and "shoping" not in known
    assert not respell("how many visitors came", PASSAGES, known).changed  # a word, though "visits" is near
    assert not respell("who is Suning's boss", PASSAGES, known).changed  # nothing near: the name check must see it
    assert not respell("the fee", ["the free market"], known).changed  # under five letters
    assert not respell("anything", [], known).changed


def test_a_misspelt_question_finds_the_passage_its_spelling_missed(assistant) -> None:
    typed = assistant.search("which shoping festival is held in may", k=5)
    assert typed.query == "which shopping festival is held in may"
    assert any("shopping" in n for n in typed.notes)
    assert any("May 5th Shopping Festival" in h.passage.text for h in typed.hits)


def test_the_answer_is_found_for_the_respelled_question_and_says_so(assistant) -> None:
    ans = assistant.ask(AskRequest(question="when did the arcteryx museum store open", mode="extractive"))
    assert not ans.refused and "January" in ans.answer
    assert ans.question == "when did the arcteryx museum store open"  # the reply keeps what was typed
    assert any("“arcteryx” as “arc'teryx”" in n for n in ans.notes)


def test_a_word_some_document_writes_is_no_typo() -> None:
    assert respell("hypoxia in tumours", ["hypoxic tumour cells"], known_words()).changed
    assert not respell("hypoxia in tumours", ["hypoxic tumour cells"], known_words(), lambda w: w == "hypoxia").changed


def test_the_vocabulary_is_read_only_when_a_word_could_be_a_typo() -> None:
    calls: list[int] = []

    def known() -> frozenset[str]:
        calls.append(1)
        return known_words()

    assert not respell("who is the mayor", PASSAGES, known).changed and not calls  # nothing to check
    assert respell("which shoping events", PASSAGES, known).changed and calls
