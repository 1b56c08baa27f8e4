"""Words of mixed Chinese / Latin text: Han runs cut by jieba, everything between them left to the caller's own regex.

The English code paths find words with regexes like `[^\\W_][\\w'-]*`, to which a whole Han run (and the digits
glued to it: "投资500万元") is ONE word. Splitting the text at Han runs first keeps those regexes, unchanged, for
the Latin pieces, so a text without Han characters yields exactly the words it always did.
"""

from __future__ import annotations

import re

from rag.zh.script import HAN_RUN_RE
from rag.zh.segment import cut, cut_for_search
from rag.zh.stopwords import is_punct


def han_split(text: str) -> list[tuple[str, bool]]:
    """`text` as consecutive (piece, is_han) pieces, in order; joined they give `text` back."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in HAN_RUN_RE.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def mixed_words(text: str, latin: re.Pattern[str], search: bool = False) -> list[str]:
    """The words of `text` in order: jieba's words of each Han run (`search`: with their dictionary sub-words,
    `rag.zh.segment.cut_for_search`), `latin.findall` of each piece between runs."""
    out: list[str] = []
    for piece, han in han_split(text):
        if han:
            out.extend(w for w in (cut_for_search(piece) if search else cut(piece)) if not is_punct(w))
        else:
            out.extend(latin.findall(piece))
    return out


def without_han(text: str) -> str:
    """`text` with each Han run replaced by one space: what Latin-only rules (capitalised names) may read."""
    return HAN_RUN_RE.sub(" ", text)
