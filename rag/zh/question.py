"""What a Chinese question asks for: the kind of answer (谁 -> person, 多少 -> number ...), the unit a count or an
amount is asked in (多少家, 多少钱), and its focus words ("…的总投资是多少" -> 总投资).

The Chinese side of `rag.answer.answer_type` and of the focus feature (`rag.answer.features`); the kinds are the
same five, so the evidence model, trained on English questions, reads the same features.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.zh.pos import tag
from rag.zh.stopwords import is_punct, is_stop

# Kind patterns, tried in this order at each question word: a date first ("哪一年" is no place, "几月" no count),
# then a number, then the named kinds.
_DATE_Q = (r"何时|什么时候|什么时间|哪个时间|哪天|哪一天|哪日|哪年|哪一年|何年|几月|几号|几日|哪个月|哪一个月|哪月"
           r"|(?:什么|哪个|哪一个|哪)(?:日子|日期|时间|年份|月份|季度|时期|年代)|几点|几时")
_NUMBER_Q = (r"多少|多大|多长|多高|多远|多久|多重|多深|多宽|多快|多厚|多老|百分之几|几成|几倍|几(?![乎])"
             r"|(?:什么|哪个)(?:价格|比例|金额|数量|数字|数额|规模|水平|幅度)")
# Between "哪个" and the kind noun a few characters may qualify it: "哪个*国际黑客*组织", "哪位*著名*演员".
_GAP = r"[\u4e00-\u9fff]{0,4}?"
_PERSON_Q = (r"谁|(?:(?<=[人警员长官手师者练任板])(?:的名字)?|(?<=[人警员长官手师者练任板]的名字))(?:叫什么名字|叫啥名字|叫什么|叫啥|姓什么|姓啥)|哪位|哪一位|哪个人|哪些人|什么人|(?:哪个|哪一个|哪名|哪些|什么|哪)" + _GAP +
             r"(?:人物|官员|领导人?|部长|市长|省长|主席|总统|总理|书记|选手|运动员|演员|歌手|导演|作者|作家|记者|专家|学者"
             r"|教练|球员|负责人|发言人|董事长|总经理|总裁|院长|局长|校长|大使|主持人|嫌疑人|科学家|艺术家|明星|队员|冠军)")
# One-character place nouns only right after 哪 ("哪国", "哪省"): "哪个国际组织" asks for no country.
_PLACE_Q = (r"哪里|哪儿|何处|何地|[在去]哪(?![一个些天年月日号家位种所座国省市县区])|什么地方|哪个地方|哪[国省市县区]|(?:哪个|哪一个|哪些|什么|哪座|哪一座|哪)" + _GAP +
            r"(?:城市|国家|省份|地区|地方|地点|场馆|位置|街道|区域|大洲|海域|港口|机场|景区|小区|社区|县城)")
# The kind noun is taken with 哪家 when it follows, so that "哪家公司的董事长" is seen as a possessor (below).
_ORG_Q = (r"(?:哪家|哪一家|哪些家|(?:哪个|哪一个|哪些|什么|哪所|哪)(?=" + _GAP + r"(?:机构|部门|公司|单位|组织|企业|银行|大学"
          r"|学校|高校|媒体|机关|团队|品牌|平台|医院|协会|球队|政党|集团|网站|报纸|电视台)))" + _GAP +
          r"(?:机构|部门|公司|单位|组织|企业|银行|大学|学校|高校|媒体|机关|团队|品牌|平台|医院|协会|球队|政党|集团|网站|报纸|电视台)?")
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(p)) for kind, p in
    (("date", _DATE_Q), ("number", _NUMBER_Q), ("person", _PERSON_Q), ("place", _PLACE_Q), ("org", _ORG_Q)))
# "哪家公司的董事长是谁": a kind word followed by 的 names whose thing is asked, not what is asked (as English
# "which company's chairman" asks for a person).
_POSSESSIVE_AFTER = re.compile(r"\s*的")

_COUNT_Q = re.compile(r"多少|百分之几|几成|几倍|几(?![乎月号日点时])|(?:什么|哪个)(?:比例|金额|数量|数字|数额|价格)")

# The units a count or an amount is asked in, and the units a sentence may state it in: "多少家" is answered by
# "173家", "多少钱" by "500万元" or "30美元", "多少人" by "350人", "2000名", "3万人次".
_MONEY = ("元", "美元", "欧元", "日元", "英镑", "港元", "港币", "韩元", "卢布", "块", "人民币")
_PEOPLE = ("人", "名", "位", "人次", "余人", "多人")
_UNIT_GROUPS: dict[str, tuple[str, ...]] = {
    "钱": _MONEY, "元": _MONEY, "资金": _MONEY, "金额": _MONEY, "美元": ("美元",), "欧元": ("欧元",),
    "人": _PEOPLE, "名": _PEOPLE, "位": _PEOPLE, "人次": ("人次",),
    "天": ("天", "日"),  # "拘了几天" is answered by "行政拘留5日"
}
_ASKED_UNIT = re.compile(
    r"(?:多少|几)\s*(万|亿|千|百)?\s*(钱|元|美元|欧元|资金|金额|人次|人|名|位|家|个|项|件|场|座|所|辆|台|吨|公里|千米|米"
    r"|平方米|亩|公顷|倍|户|只|条|种|部|批|届|支|款|块|套|起|例|次|岁|年|天|小时|分钟|秒|周|个月|月|度|层|栋|颗|架|艘"
    r"|万)?")
_MULTIPLIER = r"(?:\s*(?:多|余)?\s*(?:[十百千万亿]|万亿)*)"


def _first_kind(question: str) -> str | None:
    found: list[tuple[int, int, str]] = []  # (position, pattern order, kind)
    for order, (kind, pattern) in enumerate(_KINDS):
        for m in pattern.finditer(question):
            if not _POSSESSIVE_AFTER.match(question, m.end()):
                found.append((m.start(), order, kind))
                break
    return min(found)[2] if found else None


@lru_cache(maxsize=1024)
def answer_kind_zh(question: str) -> str | None:
    """person | date | number | place | org | None for a Chinese question: the kind of its first question word
    (谁 哪位 / 何时 哪一年 几月 / 多少 几 多大 / 哪里 哪个城市 / 哪家 哪个机构 ...), skipping one that only says whose
    thing is asked ("哪家公司的董事长是谁" asks for a person)."""
    return _first_kind(question)


def is_question_word(word: str) -> bool:
    """A word that asks ("哪一年", "多少岁", "几月", "谁"): it says what kind of answer is wanted, never where it is."""
    return (word[:1] in "谁哪何几多什啥" and _first_kind(word) is not None) or "啥" in word


def asks_count_zh(question: str) -> bool:
    """Does the Chinese question ask for a count or an amount (多少, 几个, 百分之几), never a date or a time?"""
    return _COUNT_Q.search(question) is not None and answer_kind_zh(question) == "number"


# A rate, a share or a change asked by 多少 is answered by a percentage ("入住率多少" -> "81.8%"), "百分之几" too.
_RATE_Q = re.compile(r"(?:率|比例|占比|比重|份额|增速|增幅|涨幅|降幅|百分比)(?:是|为|有|达到?)?(?:多少|几)|百分之几")


@lru_cache(maxsize=1024)
def asked_units(question: str) -> tuple[str, ...]:
    """The units a sentence may state the asked count or amount in ("多少家" -> ("家",), "多少钱" -> the currencies,
    "入住率多少" -> ("%",)); () when the question names none ("总投资是多少")."""
    if _RATE_Q.search(question):
        return ("%",)
    m = _ASKED_UNIT.search(question)
    if m is None or not m.group(2):
        return ()
    unit = m.group(2)
    return _UNIT_GROUPS.get(unit, (unit,))


def asked_multiplier(question: str) -> str | None:
    """The order of magnitude a figure is asked in: "营收多少亿" -> "亿" (None when the question names none)."""
    m = _ASKED_UNIT.search(question)
    return m.group(1) if m is not None and m.group(1) else None


def states_in_unit(sentence: str, figure: str, units: tuple[str, ...]) -> bool:
    """Does the sentence state `figure` (the digits of a short answer: "240", "1700") in one of `units`
    ("骗走240多万元" for "240" asked in money)? The reader may drop the unit from its answer ("240万"); the
    sentence must not ("374家" answers no question asked in 亿元)."""
    alt = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d]){_MULTIPLIER}\s*(?:{alt})", sentence) is not None


def states_unit(sentence: str, units: tuple[str, ...]) -> bool:
    """Does the sentence state a number (digits or Chinese numerals) in one of `units` ("173家", "约350人",
    "5000万元", "三百余名")?"""
    alt = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.search(rf"(?:\d[\d,.]*|[零一二两三四五六七八九十百千万亿]+){_MULTIPLIER}\s*(?:{alt})", sentence) is not None


# Before a question word at the end ("…的总投资是多少"), the words that link the focus to it: skipped.
_LINKS = frozenset("是 为 有 达 达到 约 共 共有 一共 大约 总共 累计 分别 将 已 要 需要 能 可以 会 了 到".split())
_FOCUS_TAGS = ("n", "vn", "an", "b", "j", "l", "nz", "eng")
FOCUS_WORDS = 3
BEFORE_WORDS = 2  # before the question word fewer: a mis-cut word ("该项|目的") often sits further back


def _nounish(word: str, flag: str) -> bool:
    return flag.startswith(_FOCUS_TAGS) and not is_stop(word)


@lru_cache(maxsize=1024)
def focus_phrase(question: str) -> str:
    """The words naming what a Chinese question asks for: the nouns right after its question word ("有多少家*企业*
    参与", "哪个*城市*"), else the nouns right before it ("该项目的*总投资*是多少"); "" when there are none."""
    tokens = [(w, f) for w, f in tag(question) if not is_punct(w)]
    qi = next((i for i, (w, _) in enumerate(tokens) if _first_kind(w) is not None or w in ("什么", "哪", "哪些", "哪个")),
              None)
    if qi is None:
        return ""
    after = tokens[qi + 1:]
    if after and len(after[0][0]) == 1 and not _nounish(*after[0]):
        after = after[1:]  # a measure word: "多少 *家* 企业"
    words = []
    for w, f in after[:FOCUS_WORDS]:
        if not _nounish(w, f):
            break
        words.append(w)
    if words:
        return "".join(words)
    # "X是多少", "X是谁", "…下降了多少": the focus precedes a linking word or a question word that ends the question;
    # "夏思凝哪一年出生" names its subject there, no focus.
    before = tokens[:qi]
    linked = qi == len(tokens) - 1
    while before and before[-1][0] in _LINKS:
        before, linked = before[:-1], True
    if not linked:
        return ""
    for w, f in reversed(before[-BEFORE_WORDS:]):
        if not _nounish(w, f):
            break
        words.insert(0, w)
    return "".join(words)
