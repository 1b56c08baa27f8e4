"""Chinese stop words and punctuation tokens: what keyword search and the answer scorer drop from jieba's words.

Kept small on purpose: only function words (particles, prepositions, conjunctions, pronouns) and the
words a question is asked with. A content word here would vanish from every query and every chunk's
terms, so nouns, verbs, measure words, dates and numbers (年 月 日 万 元 ...) are never listed.
"""

from __future__ import annotations

# Particles, prepositions, conjunctions, pronouns and light adverbs: frequent in every article, so they
# carry no evidence about which passage answers.
FUNCTION_WORDS: frozenset[str] = frozenset("""
的 了 着 过 地 得 之 其 是 在 和 与 及 以及 或 或者 并 并且 且 而 而且 等 等等 也 都 就 还 又 再 将 已 已经
被 把 对 对于 从 向 于 以 为 为了 由 给 让 使 跟 同 关于 通过 按照 根据
这 那 这个 那个 这些 那些 这里 那里 此 该 各 每 本 其中 其他 其它
我 你 您 他 她 它 我们 你们 他们 她们 它们 自己 大家 们
一个 个 有 没有 不 很 最 更 所 所以 因为 但 但是 如果 虽然 即 则 却 吗 呢 吧 啊 呀 嘛 么 哦 啦
""".split())

# The words a question asks with: they say what kind of answer is wanted, never where it is.
QUESTION_WORDS: frozenset[str] = frozenset("""
什么 谁 哪 哪个 哪些 哪里 哪儿 哪年 哪天 哪家 哪位 几 几个 几月 几日 几号 多少 多大 多长 多久 多高 多远
怎么 怎样 怎么样 如何 为什么 为何 何 何时 何地 何处 什么样 什么时候 时候 是否 是不是 有没有 请问
""".split())

STOP_WORDS: frozenset[str] = FUNCTION_WORDS | QUESTION_WORDS


def is_punct(token: str) -> bool:
    """True when `token` holds no letter and no digit: punctuation (，。、“”（）《》 and ASCII alike),
    symbols, spaces, or the empty string. Han characters count as letters, so a word is never punct."""
    return not any(ch.isalnum() for ch in token)


def is_stop(token: str) -> bool:
    """True for a token keyword search and the answer scorer skip: a stop word or punctuation."""
    return token in STOP_WORDS or is_punct(token)
