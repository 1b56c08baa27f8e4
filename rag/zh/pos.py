"""Part-of-speech tags of Chinese text (jieba.posseg) and the named things they mark: persons, places, organisations.

The answer scorer asks "does this sentence name a person / a place / an organisation the question does not?"
(the Chinese side of `rag.answer.answer_type`) and the citation check asks which names a sentence states
(`rag.cite.terms`). jieba's tags do it: nr person, ns place, nt organisation, nz other proper noun. Tagging
runs jieba's HMM over unknown words (new names are exactly those), about 25 µs a character, so a sentence's
tags are cached: the same retrieved sentences come back for every step of a question and question after question.

One dictionary for segmentation and tagging: the tagger wraps `rag.zh.segment`'s tokenizer (built under its
lock), and tagging only reads it, so threads share the tagger as they share the tokenizer.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.zh.segment import tokenizer  # the one loaded dictionary (~50 MB): shared, not loaded twice
from rag.zh.stopwords import is_punct, is_stop

if TYPE_CHECKING:
    import jieba.posseg

_LOCK = threading.Lock()

# Words ending so are an organisation ("东京电力公司", "中国国家话剧院") even when jieba tags them as a plain noun:
# jieba tags only the organisations in its dictionary nt. The suffix alone ("公司") is no name.
ORG_SUFFIXES = tuple("""
公司 集团 银行 大学 学院 学校 中学 小学 研究院 研究所 研究中心 实验室 医院 委员会 协会 学会 联合会 基金会 商会 联盟
政府 大使馆 领事馆 法院 检察院 派出所 部 局 厅 署 委 社 日报 晚报 电视台 代表团 俱乐部 组织 机构
""".split())
# Place words: administrative units as the last character of a longer word ("衢州市", "邵阳县", "浦东新区").
PLACE_SUFFIXES = tuple("省 市 县 区 镇 乡 村 州 岛 湾 港 街道 路".split())
# A one-character tag ("德" for Germany, "王" a surname alone) is too often a fragment of a longer word.
MIN_NAME_CHARS = 2
MAX_GUESSED_NAME_CHARS = 3


@dataclass(frozen=True)
class Names:
    """The named things of a text, by kind (each a set of words as they occur in the text)."""

    person: frozenset[str]
    place: frozenset[str]
    org: frozenset[str]
    other: frozenset[str]  # nz: other proper nouns (titles of works, brands, events)

    def of_kind(self, kind: str) -> frozenset[str]:
        return getattr(self, kind) if kind in ("person", "place", "org") else frozenset()

    def all(self) -> frozenset[str]:
        return self.person | self.place | self.org | self.other


@functools.cache
def _tagger() -> jieba.posseg.POSTokenizer:
    import jieba.posseg  # noqa: PLC0415 - 0.3 s to import: only a Chinese text pays it, not every `rag ask`

    with _LOCK:
        return jieba.posseg.POSTokenizer(tokenizer())


@functools.lru_cache(maxsize=16384)
def tag(text: str) -> tuple[tuple[str, str], ...]:
    """(word, jieba tag) for each token of `text`, punctuation and spaces included (tag "x")."""
    return tuple((p.word, p.flag) for p in _tagger().cut(text))


# Colloquial question words jieba tags as names ("叫啥" nz): never a name.
_ASKING = ("啥", "谁", "哪", "什么")


def _kind_of(word: str, flag: str) -> str | None:
    if len(word) < MIN_NAME_CHARS or is_punct(word) or any(a in word for a in _ASKING):
        return None
    if flag.startswith("nr"):
        # a word the dictionary does not know is tagged by jieba's HMM, which calls many a phrase a name ("天气晴朗"):
        # Chinese names it finds have 2-3 characters
        return "person" if len(word) <= MAX_GUESSED_NAME_CHARS or tokenizer().FREQ.get(word) else None
    if flag == "ns":
        return "place"
    if flag == "nt":
        return "org"
    if flag == "nz":
        return "other"
    if flag.startswith("n") and any(word.endswith(s) and len(word) > len(s) for s in ORG_SUFFIXES):
        return "org"
    if flag.startswith("n") and any(word.endswith(s) and len(word) > len(s) for s in PLACE_SUFFIXES):
        return "place"
    return None


@functools.lru_cache(maxsize=16384)
def names(text: str) -> Names:
    """The persons, places, organisations and other proper nouns `text` names (jieba tags + name suffixes).
    A transliterated name joined by "·" ("易卜拉欣·帕特尔") is one person."""
    found: dict[str, set[str]] = {"person": set(), "place": set(), "org": set(), "other": set()}
    tokens = tag(text)
    for i, (word, flag) in enumerate(tokens):
        kind = _kind_of(word, flag)
        if kind is not None:
            found[kind].add(word)
        if word == "·" and 0 < i < len(tokens) - 1 and tokens[i - 1][1].startswith("nr"):
            found["person"].add(tokens[i - 1][0] + "·" + tokens[i + 1][0])
    return Names(*(frozenset(found[k]) for k in ("person", "place", "org", "other")))


def dictionary_frequency(word: str) -> int | None:
    """How often jieba's dictionary counts `word`, None for a word it does not know."""
    return tokenizer().FREQ.get(word) or None


@functools.lru_cache(maxsize=4096)
def name_like(text: str) -> frozenset[str]:
    """What a question names, for matching it in candidate sentences: the tagged names (`names`), plus runs of
    single characters jieba could not join into a word ("华|住" for the hotel group 华住), at least MIN_NAME_CHARS
    long. Matched as substrings, so a name cut differently in the question still finds its sentences. (Words
    the dictionary lacks were tried too: fragments like "咏案" of "沈德咏案" came with the names.)"""
    found = set(names(text).all())
    run: list[str] = []
    for word, _ in (*tag(text), ("", "x")):
        han = bool(word) and not is_punct(word) and not word.isascii()
        if han and len(word) == 1 and not is_stop(word) and word not in _ASKING:
            run.append(word)
            continue
        if len(run) >= MIN_NAME_CHARS:
            found.add("".join(run))
        run = []
    return frozenset(found)
