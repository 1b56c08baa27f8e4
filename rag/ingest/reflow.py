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
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_CLAUSE_END = ".!?:;"
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_LOWER_START = re.compile(r"([a-z][^\W\d_]*)")


def reflow(text: str) -> str:
    """`text` with its wrapped lines joined (see the module docstring); other line breaks kept."""
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    words = {w.casefold() for w in _WORD.findall(text)}
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1].rstrip()
        nxt = line.lstrip()
        start = _LOWER_START.match(nxt)
        if not prev or not start:
            out.append(line)
            continue
        hyphen = _HYPHEN_END.search(prev)
        if hyphen:
            whole = (hyphen.group(1) + start.group(1)).casefold()
            out[-1] = prev[:-1] + nxt if whole in words else prev + nxt
        elif prev[-1] not in _CLAUSE_END:
            out[-1] = prev + " " + nxt
        else:
            out.append(line)
    return "\n".join(out)
