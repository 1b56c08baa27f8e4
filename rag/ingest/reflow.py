"""Join the lines a PDF page wrapped inside a sentence, so quotes read as the sentence was written.

pypdf returns a page as its printed lines: "... a library for\\nAbstract Syntax ... manip-\\nulation." A quote
of that sentence carried the line breaks, and a hyphen split its word. Only what is surely a wrap is joined:

- a line that does not end a sentence or a clause (. ! ? : ;), followed by one that starts in lower case, is
  one sentence: the break becomes a space;
- a line ending in a hyphen after a letter, followed by one that starts in lower case, split a word: the parts
  are joined without the hyphen when the page spells that word whole elsewhere ("manipulation"), else with it
  ("well-known" split as "well-" / "known" stays "well-known").

A break before a capital, a digit, a bullet or a symbol is kept: headings, list items, table rows and code lines
start that way, and telling them from a wrapped proper name would take the page layout, which the text lacks.
A short line with no end punctuation before such a line is a heading ("2.1. Directory layout" / "There are two
..."): the break after it becomes a paragraph break, so the sentence splitter does not glue the heading to the
sentence that follows (a quote read "Directory layout\nThere are two important requirements ...").
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_CLAUSE_END = ".!?:;"
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_LOWER_START = re.compile(r"([a-z][^\W\d_]*)")
_UPPER_START = re.compile(r"[A-Z0-9•·▪‣\-–*]")
HEADING_WORDS = 8  # a PDF heading is a few words; a wrapped line of prose is ten or more
_HEADING_END = _CLAUSE_END + ","  # a line ending in any of these is no heading
# A line ending in one of these is prose cut mid-phrase ("... which is a library for" / "Abstract Syntax ..."),
# never a heading.
_CONTINUING = frozenset("""a an the of for to in on at by with from and or but as than that which who whose is are
    was were be""".split())


def _heading(prev: str, nxt: str) -> bool:
    """Is `prev` a heading line, given the line after it starts with `nxt`?"""
    words = prev.split()
    return (bool(words) and bool(_UPPER_START.match(nxt)) and prev[-1] not in _HEADING_END
            and len(words) <= HEADING_WORDS and words[-1].casefold() not in _CONTINUING)


def reflow(text: str) -> str:
    """`text` with its wrapped lines joined (see the module docstring); other line breaks kept."""
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    words = {w.casefold() for w in _WORD.findall(text)}
    out = [lines[0]]
    for line in lines[1:]:
        prev, nxt = out[-1].rstrip(), line.lstrip()
        start = _LOWER_START.match(nxt) if prev else None
        if start and (hyphen := _HYPHEN_END.search(prev)):  # a word split over two lines
            whole = (hyphen.group(1) + start.group(1)).casefold()
            out[-1] = prev[:-1] + nxt if whole in words else prev + nxt
        elif start and prev[-1] not in _CLAUSE_END:  # a sentence wrapped
            out[-1] = prev + " " + nxt
        else:
            if _heading(prev, nxt):
                out[-1] = prev + "\n"  # its own paragraph
            out.append(line)
    return "\n".join(out)
