"""Text clean-up shared by every loader: what chunks, embeddings and citations index into.

The rules repair what scrapers and PDF extractors break (Unicode look-alikes, glued sentences,
odd spaces) and are deliberately conservative: a rule that could damage a number, an
abbreviation, a URL or a chemical name does not fire. Spans in Article.span point into the raw
file, so nothing here needs to preserve offsets.
"""

from __future__ import annotations

import re
import unicodedata

from rag.zh.script import han_text

# NFKC already maps most typographic spaces (U+00A0, U+2000-U+200A, U+202F, U+3000) to ' ';
# these survive it or carry no meaning at all.
_DROP = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
# Chinese text keeps its own punctuation: a quote must read as the source wrote it (，not ,), and NFKC would
# fold these full-width marks (and straighten “” ‘’) although they carry no compatibility difference in Han
# prose. Each is swapped for a private-use character that NFKC leaves alone, and swapped back after.
_HAN_PUNCT = "，：；！？（）“”‘’"
_HAN_HIDE = {ord(c): chr(0xE000 + i) for i, c in enumerate(_HAN_PUNCT)}
_HAN_SHOW = {ord(chr(0xE000 + i)): c for i, c in enumerate(_HAN_PUNCT)}
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline
_LINE_END_SPACES = re.compile(r" *\n *")
_PARA_BREAK = re.compile(r"\n{3,}")

# Tokens no rule may touch: URLs, e-mail addresses, bare domains and dotted identifiers.
# Each alternative starts at a word boundary so the scan stays linear on long texts.
_PROTECTED = re.compile(
    r"\b(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://\S+|\b[Ww]{3}\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w-]+(?:\.[\w-]+){2,}\b|\b[\w-]+\.(?:com|org|net|gov|edu|cn|io|uk|de)\b"
)
# "chain.We must" / "in 2023.The" / 'said."We': end mark glued to the next sentence. The character
# before the mark must be lowercase, a digit, or a closing bracket/quote, which spares "U.S.A",
# "No.1", "3.5" and "a.m." (lowercase follows) by construction; the next word must be a whole
# capitalised word, which spares names such as "Atf1.Pcr1" and "B6.Cg-Tg".
_GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9)\]\"'%])([.!?]+)(?=\"?[A-Z][a-z]*(?![\w-]))")
# "security,Provide": a comma glued to a capitalised word after a lowercase word. Needs two
# lowercase letters before so "N,N-dimethyl" and "1,215" stay intact.
_GLUED_COMMA = re.compile(r"(?<=[a-z]{2}),(?=[A-Z][a-z])")
# "chain.wantContinue" -> "chain. want Continue": a stray lowercase word glued both to the end of
# one sentence and to the start of the next. Only this doubly glued shape is split, so camelCase,
# "iPhone", "McDonald" and "... mature. preNeus expand" are left alone.
_GLUED_STRAY = re.compile(r"(?<=[a-z])\.([a-z]{3,})([A-Z][a-z]{2,})(?=[\s,;:]|$)")
# Cheap pre-check: text without any of these shapes needs none of the rules above.
_CANDIDATE = re.compile(r"[a-z0-9)\]\"'%][.!?,]\"?[A-Za-z]")
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_GLUED_SENTENCE, r"\1 "),
    (_GLUED_COMMA, ", "),
    (_GLUED_STRAY, r". \1 \2"),
)


def _repair_glue(s: str) -> str:
    """Apply the glue rules to the text between protected tokens."""
    if not _CANDIDATE.search(s):
        return s
    out: list[str] = []
    pos = 0

    def fix(part: str) -> str:
        for pattern, repl in _RULES:
            part = pattern.sub(repl, part)
        return part

    for m in _PROTECTED.finditer(s):
        out.append(fix(s[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(fix(s[pos:]))
    return "".join(out)


def normalize_text(s: str) -> str:
    """Normalise text for indexing and display.

    NFKC; invisible characters dropped; curly quotes straightened; odd spaces and tabs become one
    space; glued sentences get their space back; paragraphs (blank-line separated) are joined by
    exactly "\\n\\n", single line breaks inside a paragraph are kept; no leading/trailing space.
    Text with Han characters keeps its full-width punctuation and curly quotes (_HAN_PUNCT).
    """
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    han = han_text(s)
    if han:
        s = s.translate(_HAN_HIDE)
    s = unicodedata.normalize("NFKC", s).translate(_DROP).translate(_QUOTES)
    if han:
        s = s.translate(_HAN_SHOW)
    s = s.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\f", "\n\n").replace("\v", "\n")
    s = _SPACES.sub(" ", s)
    s = _repair_glue(s)
    s = _LINE_END_SPACES.sub("\n", s)
    s = _PARA_BREAK.sub("\n\n", s)
    return s.strip()
