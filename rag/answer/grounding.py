"""Is the answer about what was asked? A Chinese question's names must occur where its answer stands.

A reader (or the extractive scorer) asked "何其邦高考考了多少分" happily answers from "唐尚珺考了594分": the
sentence has the kind of thing asked (a score) and is on the topic, but about someone else. On Chinese
news this near miss is most of what a wrong answer to an unanswerable question looks like (issue 32,
train split: 5 of the 10 unanswerable questions answered named a person, place or organisation that the
cited passage never mentions). So every name the question gives (jieba tags: person, place, organisation,
other proper noun; two characters or more) must occur in an article the answer quotes. The article, not the
sentence: news names its subject once, in the lead, and paragraphs later says "该公司" or nothing at all
(on the train split a window of 300 characters before the quote refused the same unanswerable questions and
cost the same right answers as the whole article, which also keeps an answer whose subject is paragraphs back).
A name typed with a wrong homophone ("雨亮" for "余亮", a common typo with pinyin input) counts when a word of the
same pinyin is there.

Only questions in Han script are checked (their names are Han words we can look for); English answers are
untouched.
"""

from __future__ import annotations

import re

from rag.answer.citations import ArticleLookup
from rag.models import Answer
from rag.zh.pinyin import romanized
from rag.zh.pos import dictionary_frequency, names
from rag.zh.script import HAN_RUN_RE, han_text

MIN_NAME_CHARS = 2
_ASKED_NOUN = re.compile(r"(?:哪一?[个家所座位条支款种国]?|什么|啥)\0")
COMMON_WORD_FREQUENCY = 1000
SOUND_WINDOW = 1500  # characters around a quote (and the lead) searched for a homophone of a name  # jieba dictionary counts: 洪水 1383, 古蔺 (a county, tagged nr) 3


def question_names(question: str) -> list[str]:
    """The names a Han-script question gives, longest first (none for a question without Han)."""
    if not han_text(question):
        return []
    found = names(question)
    # jieba tags some everyday words as persons (洪水 "flood"); a person's name is rarely a frequent word of its
    # dictionary, so those are not names here. Words it does not know (new names: 宁宣, 沈德咏) are kept.
    persons = {w for w in found.person if (dictionary_frequency(w) or 0) < COMMON_WORD_FREQUENCY}
    wanted = persons | found.place | found.org | found.other
    # The noun a question word asks for ("哪个城市", "什么公司") is the kind asked, not a name the question gives.
    wanted = {w for w in wanted if not _ASKED_NOUN.search(question.replace(w, "\0"))}
    return sorted({w for w in wanted if len(w) >= MIN_NAME_CHARS and HAN_RUN_RE.fullmatch(w)}, key=lambda w: -len(w))


def _stated(name: str, whole: str, near: str) -> bool:
    """`name` in the articles, or a homophone of it near the quotes (the pinyin scan is bounded: a Chinese PDF
    can be a 100,000-character article)."""
    if name in whole:
        return True
    sound = romanized(name)  # a homophone typo: same toneless pinyin, same length
    return bool(sound) and any(romanized(near[i:i + len(name)]) == sound
                               for i in range(len(near) - len(name) + 1) if near[i] not in "，。、：；")


def unstated_names(question: str, answer: Answer, articles: ArticleLookup,
                   known_in: list[str] | None = None) -> list[str]:
    """The question's names that occur in none of the articles the answer quotes ([] when all do, or nothing to check).
    `known_in`: for a machine-translated question, only names found in these texts (the retrieved passages)
    are checked: a name the translation got wrong ("努什" for Nushu, 女书) is in none of them, and says nothing
    about the answer."""
    wanted = question_names(question)
    if known_in is not None:
        wanted = [w for w in wanted if any(w in text for text in known_in)]
    if not wanted or answer.refused or not answer.citations:
        return []
    whole: dict[str, str] = {}
    near: list[str] = []
    for c in answer.citations:
        article = articles(c.doc_id)
        text = article.text if article is not None else c.quote
        whole.setdefault(c.doc_id, text)
        near += [text[:SOUND_WINDOW], text[max(0, c.start - SOUND_WINDOW): c.end + SOUND_WINDOW]]
    everything, close = "\n".join(whole.values()), "\n".join(near)
    return [w for w in wanted if not _stated(w, everything, close)]
