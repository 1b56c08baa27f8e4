"""Read a misspelt question word as the word the documents use ("shoping" -> "shopping").

People type "shoping events", "goverment", "comittee"; keyword search then matches nothing for that
word, the dense vector drifts, and the answer scorer finds none of its words in the right sentence. The
first search still lands near the topic (the other words and the encoder's word pieces carry it), so the
words of its passages are the vocabulary a typo is checked against: a question word (five letters or
more, not filler, not a whole word of the English encoder's 30,000-piece vocabulary: "visitors" is a word,
"shoping" is not) that no passage uses in any form (Snowball stem) and no document of the collection uses (a
keyword search for it alone finds nothing: "hypoxia" stays in a biology collection) is replaced by the passage word spelled
most nearly like it (same first letter, at most two letters longer or shorter, rapidfuzz ratio at least
`MIN_RATIO`), and the question is searched again. A word with no near passage word stays as typed (a
name the documents never mention must stay visible to the answer checks).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import Stemmer
from rapidfuzz import fuzz

from rag.lexicon import COMMON_WORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]")
MIN_LETTERS = 5  # shorter words are too often another real word one letter away ("fee"/"free")
MIN_RATIO = 85  # "shoping"/"shopping" 93, "univeristy"/"university" 90, "visitors"/"visits" 86, "salary"/"sales" 73
MAX_LENGTH_GAP = 2


@dataclass(frozen=True)
class Respelled:
    question: str  # the question with each typo replaced (the typed question when nothing changed)
    changes: list[tuple[str, str]] = field(default_factory=list)  # (typed, read as)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def note(self) -> str:
        said = ", ".join(f"“{a}” as “{b}”" for a, b in self.changes)
        return f"Read {said} (the documents' spelling) and searched again."


def known_words() -> frozenset[str]:
    """The whole words of the packaged MiniLM's WordPiece vocabulary (lower case, letters only)."""
    from rag.embed.paths import resolve_model_path  # noqa: PLC0415 - only a search that respells reads it
    from rag.settings import DEFAULT_MODEL  # noqa: PLC0415

    vocab = Path(resolve_model_path(DEFAULT_MODEL)) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())


def respell(question: str, passages: list[str], known: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
            in_collection: Callable[[str], bool] | None = None, stemmer: Stemmer.Stemmer | None = None) -> Respelled:
    """The question with words no passage uses replaced by the nearest passage word, if one is near enough;
    words in `known` (real words; a callable is asked only when some word is a candidate, since reading the
    vocabulary costs ~0.1 s of a one-shot `rag ask`) and words `in_collection` says some document uses are
    never replaced."""
    stemmer = stemmer or Stemmer.Stemmer("english")
    seen: Counter[str] = Counter(w.casefold() for text in passages for w in _WORD.findall(text))
    unseen = [m for m in _WORD.finditer(question)
              if len(low := m.group(0).casefold()) >= MIN_LETTERS and low not in COMMON_WORDS and low not in seen]
    if not seen or not unseen:
        return Respelled(question)  # most questions: every long word is in the passages, nothing to stem
    stems = set(stemmer.stemWords(list(seen)))
    by_letter: dict[str, list[str]] = {}
    for w in seen:
        by_letter.setdefault(w[0], []).append(w)
    changes: list[tuple[str, str]] = []
    out = question
    for m in reversed(unseen):
        typed = m.group(0)
        low = typed.casefold()
        if stemmer.stemWord(low) in stems:
            continue
        if callable(known):
            known = known()
        if low in known:
            continue
        if in_collection is not None and in_collection(low):  # "hypoxia" is a word of a biology collection
            continue
        near = [w for w in by_letter.get(low[0], []) if abs(len(w) - len(low)) <= MAX_LENGTH_GAP]
        scored = [(fuzz.ratio(low, w), seen[w], w) for w in near]
        best = max((s for s in scored if s[0] >= MIN_RATIO), default=None)
        if best is None:
            continue
        word = best[2]
        word = word.capitalize() if typed[0].isupper() else word
        out = out[:m.start()] + word + out[m.end():]
        changes.append((typed, word))
    return Respelled(out, changes[::-1])
