"""Rule-based sentence splitter returning character spans, so chunks and citations can point into the text.

Small on purpose: NLTK's punkt needs a data download we cannot make, and chunking only needs
boundaries that are good enough to avoid cutting a sentence in half. Rules:

* a blank line (paragraph break) always ends a sentence;
* CJK terminators (。！？, and ! ? right after a CJK character, as NFKC leaves them) end a sentence
  with or without following whitespace;
* `.`, `!`, `?` and ellipses end a sentence only when whitespace follows, so decimals (3.5),
  domains (Xinmin.com) and run-together text are never cut; closing quotes and brackets right
  after the terminator stay with the sentence that they close;
* a lowercase next word means the sentence goes on (`approx. two`, `etc. and`);
* after a period, known abbreviations (Mr., Dr., e.g., et al., Fig.) never end a sentence;
  ambiguous ones (Inc., Ltd., Co., U.S., initials) end it only before a typical sentence opener
  (The, This, He, In, ...); `No. 5` and `Jan. 5` never split; list markers (`: 1. The`) never split.

Single newlines are treated as ordinary whitespace: they are line wraps far more often than
sentence ends in extracted text.
"""

from __future__ import annotations

import re

# Abbreviations (lower case, without the final period) after which a sentence never ends.
_NEVER_END = frozenset(
    """mr mrs ms messrs mme dr prof st gen sen rep gov rev hon capt col lt sgt cmdr adm mt ft
    e.g i.e cf vs viz al approx ca fig figs eq eqs ref refs vol vols pp ed eds dept univ assoc
    ave blvd rd tel ext est""".split()
)
# A period after these ends a sentence only when a typical sentence opener follows.
_AMBIGUOUS = frozenset("inc ltd co corp jr sr bros llc plc ph.d a.m p.m".split())
# Before a number these are labels (No. 200, Jan. 5, p. 12); otherwise a normal word.
_BEFORE_NUMBER = frozenset("no nos art sec ch p jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Words that usually open a sentence; used to resolve ambiguous abbreviations and initials.
_LABELS = _NEVER_END | _BEFORE_NUMBER
_OPENERS = frozenset(
    """the a an this that these those it its he she we they i you in on at for but and or so as
    after before since during however meanwhile moreover furthermore therefore thus then there here
    our his her their my what when where while why how if according also to with by from all some
    many most one both each such no not yet still besides overall currently today yesterday""".split()
)

_OPENING_PUNCT = "\"'“‘«([{「『（"
# Candidate boundaries: a paragraph break, a CJK terminator run, or a Latin terminator run
# followed by whitespace (closing quotes/brackets are part of the sentence they close).
_CANDIDATE = re.compile(
    r"(?P<para>\n[^\S\n]*\n)"
    r"|(?P<cjk>(?:[。！？]|(?<=[\u3400-\u9fff])[!?])[。！？!?]*[”’」』）)\"']*)"
    r"|(?P<latin>[.!?…]+[”’\"'»)\]」』]*)(?=\s)"
    # "in patients.4,5 A single": reference numbers glued after the period (scientific text).
    r"|(?<=[a-z)])(?P<cite>\.\d{1,3}(?:[,\u2013-]\d{1,3})*)(?=\s+[\"'“‘(]?[A-Z])"
)
_NEXT_WORD = re.compile(r"\s*[" + re.escape(_OPENING_PUNCT) + r"]*(\w*)")
_ACRONYM = re.compile(r"^(?:[a-z]\.)+[a-z]$")
_LIST_MARKER = re.compile(r"^(?:\d{1,3}|[ivx]{1,4}|[a-z])$")


def _word_start(text: str, end: int) -> int:
    """Start of the non-space run that ends at `end` (scanning back; no O(n) regex search)."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return start


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    """Decide whether the Latin terminator match `m` ends a sentence."""
    nxt = _NEXT_WORD.match(text, m.end())
    next_word = nxt.group(1) if nxt else ""
    if not next_word:
        return True  # end of text, a dash, a bullet, a CJK opening: nothing says "go on"
    if next_word[0].islower():
        return False
    run = m.group("latin")
    if run != ".":
        return True  # !, ?, ellipsis, or a period followed by a closing quote
    word_start = _word_start(text, m.start())
    word = text[word_start : m.start()].lstrip(_OPENING_PUNCT).lower()
    if not word:
        return True
    opener = next_word.lower() in _OPENERS
    if word in _NEVER_END:
        return False
    if word in _BEFORE_NUMBER:
        return not next_word[0].isdigit()
    if _LIST_MARKER.match(word):
        # "as follows: 1. The time ..." - a marker right after a colon or a sentence end.
        i = word_start
        while i > 0 and text[i - 1].isspace() and text[i - 1] != "\n":
            i -= 1
        if i == 0 or text[i - 1] in ":;.!?。！？\n":
            return False
        if len(word) == 1 and word.isalpha():
            return opener  # an initial (J. Smith) unless a sentence opener follows
        return True
    if word in _AMBIGUOUS or _ACRONYM.match(word):
        return opener
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`, surrounding whitespace excluded.

    `text[start:end]` is a sentence; spans are in order and do not overlap. Text without any
    boundary is one span; whitespace-only text gives no spans.
    """
    cuts: list[int] = []
    for m in _CANDIDATE.finditer(text):
        if m.lastgroup == "latin" and not _ends_sentence(text, m):
            continue
        if m.lastgroup == "cite" and text[_word_start(text, m.start()) : m.start()].lower() in _LABELS:
            continue  # "Fig.3 Shows" is a label, not a reference after a sentence end
        cuts.append(m.start() if m.lastgroup == "para" else m.end())
    cuts.append(len(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in cuts:
        seg_start, seg_end = start, cut
        while seg_start < seg_end and text[seg_start].isspace():
            seg_start += 1
        while seg_end > seg_start and text[seg_end - 1].isspace():
            seg_end -= 1
        if seg_start < seg_end:
            spans.append((seg_start, seg_end))
        start = cut
    return spans


def split_chunk_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of a chunk as answers quote them: split_sentences, trimmed of surrounding
    whitespace, empties dropped. Index time stores a vector for each (Snapshot.sentences), so this
    must stay identical to what `rag.answer.citations.split_sentence_spans` gives (tested)."""
    out = []
    for s, e in split_sentences(text):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out
