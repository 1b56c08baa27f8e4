"""An English question's names, years and figures must occur in the articles an answer quotes
(rag/answer/grounding_en.py), and a "how many X" answer must count X (rag/answer/reader.py)."""

from __future__ import annotations

from rag.answer.grounding_en import (
    passage_names,
    question_names,
    question_numbers,
    question_years,
    two_sided,
    unstated_specifics,
)
from rag.answer.reader import counts_what_was_asked
from rag.models import Answer, Article, Citation

TEXT = ("JD Appliances Changning Road City Flagship Store is one of the four flagship stores opened by JD in "
        "Shanghai. Last year 1,215 new first-office stores opened in the city. The Ministry of Industry and "
        "Information Technology and the Shanghai Municipal People's Government signed an agreement. The meeting "
        "called for improving the functions of the five new cities. Visitors from Brazilian cities came.")
OTHER = "Chen Jining met Ge Lihe, chairman of Merck Group in Germany."


def _answer(quote: str, doc_id: str = "d") -> Answer:
    text = TEXT if doc_id == "d" else OTHER
    start = text.index(quote)
    c = Citation(n=1, chunk_id="c", doc_id=doc_id, title="", date=None, source="s", start=start,
                 end=start + len(quote), quote=quote, verified=True)
    return Answer(question="q", answer=quote, refused=False, mode="extractive", citations=[c])


def lookup(doc_id: str) -> Article | None:
    if doc_id == "d":
        return Article(source="s", text=TEXT, title="Consumption in Shanghai", date="2024-05-09")
    return Article(source="s", text=OTHER) if doc_id == "o" else None


def missing(question: str, quote: str = "four flagship stores", passages: list[str] | None = None) -> list[str]:
    hits = [(t, None) for t in (passages or [TEXT])]
    return unstated_specifics(question, _answer(quote), lookup, hits, two_sided(question))


def test_a_name_the_article_never_mentions_is_missing() -> None:
    assert missing("How many flagship stores has Suning opened in Shanghai?") == ["Suning"]
    assert missing("How many flagship stores has JD opened in Shanghai?") == []


def test_misspelt_possessive_and_adjectival_names_still_match() -> None:
    assert missing("How many flagship stores has JD opened in Shangai?") == []
    assert missing("What are JD's flagship stores in Shanghai called?") == []
    assert missing("Did visitors come from Brazil?") == []


def test_an_acronym_matches_the_initials_of_what_it_stands_for() -> None:
    assert missing("What did MIIT sign with Shanghai?", "signed an agreement") == []
    assert missing("What did the NDRC sign with Shanghai?", "signed an agreement") == ["NDRC"]


def test_years_count_as_written_dated_or_said_relative_to_the_date() -> None:
    assert missing("How many first-office stores opened in 2023?", "1,215 new first-office stores") == []  # "last year"
    assert missing("How many first-office stores opened in 2022?", "1,215 new first-office stores") == ["2022"]
    assert missing("How many flagship stores has JD opened in 2024?") == []  # the article's date
    assert missing("how many flagship stores did jd have back in 24") == []  # a year typed short
    assert missing("how many flagship stores did jd have back in 19") == ["19"]


def test_a_figure_the_question_gives_must_be_in_the_article_but_not_a_count_of_the_answer() -> None:
    assert question_numbers("What are the names of the six new cities?") == ["6"]
    assert question_numbers("Which two events did the mayor name?") == []
    assert question_numbers("What are two basic resources?") == []
    assert question_numbers("3 neighbourhood problems sorted out in anqiu") == []  # opens the question: a count
    assert missing("What are the names of the six new cities?", "five new cities") == ["6"]
    assert missing("What are the names of the five new cities?", "five new cities") == []


def test_question_words_and_filler_are_no_names() -> None:
    assert question_names("Who chaired the Meeting in May, Please?") == ["Meeting"]
    assert question_names("Suning opened how many stores?") == []  # a first word is no name unless an acronym
    assert question_names("JD opened how many stores?") == ["JD"]
    assert question_years("what happened between 2021 and 2025, 3.2021 no") == ["2021", "2025"]


def test_a_lower_case_question_names_what_the_passages_write_capitalised() -> None:
    known = passage_names([TEXT, OTHER])
    assert {"jd", "changning", "merck"} <= known
    assert "stores" not in known and "the" not in known
    assert missing("how many flagship stores has merck opened", passages=[TEXT, OTHER]) == ["merck"]
    assert missing("how many flagship stores has jd opened", passages=[TEXT, OTHER]) == []


def test_a_two_sided_question_may_find_its_other_name_in_another_retrieved_passage() -> None:
    question = "Which secretary both met a chairman from Germany and signed the agreement?"
    assert two_sided(question)
    assert unstated_specifics(question, _answer("signed an agreement"), lookup, [(TEXT, None), (OTHER, None)],
                              True) == []
    assert unstated_specifics(question, _answer("signed an agreement"), lookup, [(TEXT, None)], True) == ["Germany"]


def test_refusals_chinese_questions_and_chinese_articles_are_not_checked() -> None:
    refused = _answer("four flagship stores").model_copy(update={"refused": True})
    assert unstated_specifics("How many stores has Suning opened?", refused, lookup, [], False) == []
    assert unstated_specifics("苏宁开了几家店", _answer("four flagship stores"), lookup, [], False) == []


def test_a_how_many_answer_must_count_what_was_asked() -> None:
    assert not counts_what_was_asked("How many visitors attended the Old Expo?", "attracting 400 exhibitors")
    assert counts_what_was_asked("How many flagship stores has JD opened?", "one of the four flagship stores")
    assert counts_what_was_asked("how many citys are in the pilot", "the five cities")
    assert counts_what_was_asked("How many people came?", "1,000 participants came")  # a generic count
    assert counts_what_was_asked("Who came?", "1,000 participants came")
    assert counts_what_was_asked("How many stores opened?", "今年新开了四家门店")  # Chinese text: not checked here
    assert counts_what_was_asked("how many exibitors at the old expo", "attracting 400 exhibitors")  # misspelt
