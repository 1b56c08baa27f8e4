"""A Chinese question's names must occur near the answer's quotes (rag/answer/grounding.py); real jieba tags."""

from __future__ import annotations

from rag.answer.grounding import question_names, unstated_names
from rag.models import Answer, Article, Citation

TEXT = ("今年高考，唐尚珺考了594分，超广西理工类一本线119分。他表示将继续复读。"
        "中国女足主教练水庆霞表示，会给予队员充分的信任。")


def _answer(quote: str) -> Answer:
    start = TEXT.index(quote)
    c = Citation(n=1, chunk_id="c", doc_id="d", title="", date=None, source="s", start=start,
                 end=start + len(quote), quote=quote, verified=True)
    return Answer(question="q", answer=quote, refused=False, mode="extractive", citations=[c])


def lookup(doc_id: str) -> Article | None:
    return Article(source="s", text=TEXT) if doc_id == "d" else None


def test_an_answer_about_someone_else_is_not_about_what_was_asked() -> None:
    assert unstated_names("何其邦的高考分数是多少", _answer("唐尚珺考了594分"), lookup) == ["何其邦"] or \
        "何其邦" not in question_names("何其邦的高考分数是多少")  # jieba may not tag an unknown name
    assert unstated_names("美国女足的主教练是谁", _answer("中国女足主教练水庆霞表示"), lookup) == ["美国"]


def test_a_name_in_the_quote_or_just_before_it_grounds_the_answer() -> None:
    assert unstated_names("唐尚珺考了多少分", _answer("唐尚珺考了594分"), lookup) == []
    assert unstated_names("唐尚珺打算怎么办", _answer("他表示将继续复读"), lookup) == []  # the subject is one sentence back


def test_a_homophone_typo_of_a_name_still_grounds_it() -> None:
    assert unstated_names("水庆侠是哪支队的主教练", _answer("中国女足主教练水庆霞表示"), lookup) == []


def test_english_questions_and_refusals_are_not_checked() -> None:
    assert question_names("Who coaches the US women's team?") == []
    assert unstated_names("Who coaches the US women's team?", _answer("中国女足主教练水庆霞表示"), lookup) == []
    refused = _answer("唐尚珺考了594分").model_copy(update={"refused": True})
    assert unstated_names("美国女足的主教练是谁", refused, lookup) == []


def test_the_noun_a_question_word_asks_for_is_no_name() -> None:
    assert "城市" not in question_names("中国和南非的企业贸易对接会在哪个城市举行？")
    assert "美国" in question_names("美国女足的主教练是谁")
