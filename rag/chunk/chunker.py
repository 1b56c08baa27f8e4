"""Article -> Chunks: sentence-aware packing sized in the embedding model's own word pieces.

Why tokens and not characters: all-MiniLM-L6-v2 silently truncates input beyond 256 word pieces,
so a chunk sized in characters can lose its tail without anyone noticing. Every chunk here is
checked with the real tokenizer on the exact string the embedder sees (`embedding_input`), so
`Chunk.n_tokens <= min(chunk_tokens, max_tokens)` always holds.

Speed: `chunk_many` counts every sentence (and title) of every article in one tokenizer call,
packs with those counts, then counts every packed chunk once more to be exact, because word-piece
counts are not guaranteed to be additive across joins for every tokenizer. Only the (rare)
articles whose exact count disagrees with the estimate are re-packed with exact counts.

Long titles: a title that would leave fewer than MIN_BODY_TOKENS tokens for chunk text is
truncated (at a word boundary) in the embedding prefix only; the chunk text is never truncated.
Use `Chunker.embedding_text(article, chunk)` to get the exact string a chunk was sized for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.chunk.sentences import split_sentences
from rag.models import Article, Chunk
from rag.zh.script import has_han

MIN_BODY_TOKENS = 32  # a title may not squeeze the chunk text below this many word pieces
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
_TITLE_CACHE_MAX = 200_000
# Where a Han sentence too long for one chunk is cut first: after a clause mark, with its closing quotes.
_CLAUSE_END = re.compile(r"(?:[，；：]|[,;:](?!\d))+[”’」』）)\"']*")


def embedding_input(title: str, text: str, title_prefix: bool = True) -> str:
    """The exact string the embedder sees for a chunk: 'title\\ntext', or the text alone."""
    if title_prefix and title.strip():
        return f"{title}\n{text}"
    return text


@dataclass(frozen=True)
class _Unit:
    """A sentence, or a word-boundary piece of a sentence too long for one chunk."""

    start: int
    end: int
    tokens: int  # word pieces of the text alone, special tokens excluded (an estimate when joined)


class Chunker:
    """Packs whole sentences into chunks of at most `chunk_tokens` model tokens, with overlap.

    `count_tokens_batch` must count word pieces with special tokens, exactly as the embedding model
    does (`TokenCounter.count_tokens_batch`, rag/embed/protocols.py); `max_tokens` is the model's hard input limit
    (`TokenCounter.max_tokens`). A `chunk_tokens` above `max_tokens` is clamped to it.
    """

    def __init__(
        self,
        count_tokens_batch: Callable[[list[str]], list[int]],
        max_tokens: int,
        chunk_tokens: int = 200,
        overlap_tokens: int = 40,
        title_prefix: bool = True,
    ) -> None:
        if max_tokens < SPECIAL_TOKENS + 8:
            raise ValueError(f"max_tokens={max_tokens} is too small for any chunk; check the embedding model")
        if chunk_tokens < SPECIAL_TOKENS + 8:
            raise ValueError(
                f"chunk_tokens={chunk_tokens} is too small; use at least {SPECIAL_TOKENS + 8} (200 is typical)"
            )
        if not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError(
                f"overlap_tokens={overlap_tokens} must be >= 0 and smaller than chunk_tokens={chunk_tokens}"
            )
        self._count_batch = count_tokens_batch
        self.max_tokens = max_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.title_prefix = title_prefix
        # Hard limit on the whole embedded string, special tokens and title prefix included.
        self.limit = min(chunk_tokens, max_tokens)
        self._title_cache: dict[str, tuple[str, int]] = {}  # title -> (title as embedded, its word pieces)

    # ------------------------------------------------------------------ public

    def chunk(self, article: Article) -> list[Chunk]:
        return self.chunk_many([article])

    def chunk_many(self, articles: Sequence[Article]) -> list[Chunk]:
        """Chunks of every article, in article order; a chunk never spans two articles."""
        spans = [split_sentences(a.text) for a in articles]
        titles, prefix_costs = self._embedding_titles([a.title if sp else "" for a, sp in zip(articles, spans)])
        # One tokenizer call for every sentence of every article.
        flat = [a.text[s:e] for a, sp in zip(articles, spans) for s, e in sp]
        counts = iter(self._count(flat))
        plans: list[list[tuple[int, int]]] = []  # per article: (start, end) character spans of chunks
        units_per_article: list[list[_Unit]] = []
        for art, sp, title, prefix in zip(articles, spans, titles, prefix_costs):
            budget = self.limit - SPECIAL_TOKENS - prefix
            units: list[_Unit] = []
            for s, e in sp:
                n = next(counts) - SPECIAL_TOKENS
                if n <= budget:
                    units.append(_Unit(s, e, n))
                else:
                    units.extend(self._split_long(art.text, s, e, title))
            units_per_article.append(units)
            plans.append(self._pack(units, lambda a, b, u=units, budget=budget: _sum(u, a, b) <= budget))
        # Be exact: count the embedded form of every planned chunk once.
        texts = [self._input(t, a.text, s, e) for a, t, p in zip(articles, titles, plans) for s, e in p]
        exact = iter(self._count(texts))
        out: list[Chunk] = []
        for art, title, units, plan in zip(articles, titles, units_per_article, plans):
            n_tokens = [next(exact) for _ in plan]
            if any(n > self.limit for n in n_tokens):
                plan, n_tokens = self._pack_exactly(art.text, title, units)
            doc_id = art.doc_id
            for i, ((s, e), n) in enumerate(zip(plan, n_tokens)):
                out.append(Chunk(doc_id=doc_id, ordinal=i, text=art.text[s:e], start=s, end=e, n_tokens=n))
        return out

    def embedding_title(self, title: str) -> str:
        """The title as used in the prefix: '' when prefixes are off, truncated when too long."""
        return self._embedding_titles([title])[0][0]

    def _embedding_titles(self, titles: list[str]) -> tuple[list[str], list[int]]:
        """embedding_title for many titles with one tokenizer call (cached), and the word pieces
        each prefix adds (0 without one)."""
        if not self.title_prefix:
            return ["" for _ in titles], [0 for _ in titles]
        new = sorted({t for t in titles if t.strip() and t not in self._title_cache})
        if len(self._title_cache) + len(new) > _TITLE_CACHE_MAX:
            self._title_cache.clear()  # bounded memory on huge collections; entries are cheap to redo
        cap = max(0, self.limit - SPECIAL_TOKENS - MIN_BODY_TOKENS)
        for title, n in zip(new, self._count(new)):
            used, cost = title, n - SPECIAL_TOKENS
            if cost > cap:  # rare: cut at a word boundary so the text keeps its room
                ends = _word_ends(title, 0, len(title))
                k = _max_fitting(len(ends), lambda k, t=title, e=ends: self._count([t[: e[k - 1]]])[0] - 2 <= cap)
                used = title[: ends[k - 1]] if k else ""
                cost = self._count([used])[0] - SPECIAL_TOKENS if used else 0
            self._title_cache[title] = (used, cost)
        pairs = [self._title_cache.get(t, ("", 0)) for t in titles]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def embedding_text(self, article: Article, chunk: Chunk) -> str:
        """The exact string `chunk` was sized for; embed this, not a string rebuilt by hand."""
        return embedding_input(self.embedding_title(article.title), chunk.text, self.title_prefix)

    # ------------------------------------------------------------------ packing

    def _pack(self, units: list[_Unit], fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
        """Greedy packing of units[a:b] while fits(a, b); the next chunk re-uses trailing units
        worth <= overlap_tokens. Each chunk holds at least one unit no earlier chunk held."""
        plan: list[tuple[int, int]] = []
        a, n = 0, len(units)
        while a < n:
            b = a + 1  # a single unit always fits: long sentences were split to make it so
            while b < n and fits(a, b + 1):
                b += 1
            plan.append((units[a].start, units[b - 1].end))
            if b == n:
                break
            # Overlap: the trailing units of this chunk whose tokens sum to <= overlap_tokens ...
            nxt = b
            while nxt - 1 > a and _sum(units, nxt - 1, b) <= self.overlap_tokens:
                nxt -= 1
            # ... but fewer if they would not leave room for the next new unit (progress).
            while nxt < b and not fits(nxt, b + 1):
                nxt += 1
            a = nxt
        return plan

    def _pack_exactly(self, text: str, title: str, units: list[_Unit]) -> tuple[list[tuple[int, int]], list[int]]:
        """Slow path for an article whose summed estimate was off: every decision uses exact counts."""
        alone = self._count([self._input(title, text, u.start, u.end) for u in units])
        exact_units: list[_Unit] = []
        for u, n in zip(units, alone):
            exact_units.extend([u] if n <= self.limit else self._split_long(text, u.start, u.end, title))

        def fits(a: int, b: int) -> bool:
            chunk_input = self._input(title, text, exact_units[a].start, exact_units[b - 1].end)
            return self._count([chunk_input])[0] <= self.limit

        plan = self._pack(exact_units, fits)
        return plan, self._count([self._input(title, text, s, e) for s, e in plan])

    def _input(self, title: str, text: str, start: int, end: int) -> str:
        return embedding_input(title, text[start:end], self.title_prefix)

    def _split_long(self, text: str, start: int, end: int, title: str) -> list[_Unit]:
        """Cut an over-long sentence into pieces whose embedded form fits, using exact counts: Han text at
        its clause marks (，；： and their NFKC forms) first, then at word boundaries, then by characters
        (a giant 'word', e.g. a Han clause without spaces). Text without Han characters never meets the
        clause step, so English pieces are what they always were."""

        def fits(s: int, e: int) -> bool:
            return self._count([self._input(title, text, s, e)])[0] <= self.limit

        if has_han(text[start:end]):
            pieces = _pack_spans(_clause_spans(text, start, end), fits,
                                 lambda s, e: _split_words(text, s, e, fits))
        else:
            pieces = _split_words(text, start, end, fits)
        counts = self._count([text[s:e] for s, e in pieces])
        return [_Unit(s, e, n - SPECIAL_TOKENS) for (s, e), n in zip(pieces, counts)]

    # ------------------------------------------------------------------ helpers

    def _count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        counts = self._count_batch(texts)
        if len(counts) != len(texts):
            raise RuntimeError(f"count_tokens_batch returned {len(counts)} counts for {len(texts)} texts")
        return [int(c) for c in counts]


def _sum(units: list[_Unit], a: int, b: int) -> int:
    return sum(u.tokens for u in units[a:b])


def _max_fitting(n: int, ok: Callable[[int], bool]) -> int:
    """Largest k in [0, n] with ok(k), for ok monotone (true up to some k, false after); ok(0) is assumed."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _pack_spans(spans: list[tuple[int, int]], fits: Callable[[int, int], bool],
                split: Callable[[int, int], list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Greedy runs of consecutive `spans` (in order, non-overlapping) that fit; a span too long alone is
    handed to `split`."""
    pieces: list[tuple[int, int]] = []
    w = 0
    while w < len(spans):
        s = spans[w][0]
        k = _max_fitting(len(spans) - w, lambda k: fits(s, spans[w + k - 1][1]))
        if k:
            pieces.append((s, spans[w + k - 1][1]))
            w += k
        else:
            pieces.extend(split(*spans[w]))
            w += 1
    return pieces


def _split_words(text: str, start: int, end: int, fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Pieces of text[start:end] cut at word boundaries, and a word too long alone by characters (one
    character always fits)."""
    words = list(zip(_word_starts(text, start, end), _word_ends(text, start, end)))

    def by_characters(s: int, e_word: int) -> list[tuple[int, int]]:
        out = []
        while s < e_word:
            c = max(1, _max_fitting(e_word - s, lambda c: fits(s, s + c)))
            out.append((s, s + c))
            s += c
        return out

    return _pack_spans(words, fits, by_characters)


def _clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of text[start:end], each ending after its clause mark (and any closing quote), surrounding
    whitespace excluded. A comma or colon before a digit is a number's ('5,000,000', '16:40'), not a mark."""
    spans: list[tuple[int, int]] = []
    s = start
    for m in _CLAUSE_END.finditer(text, start, end):
        spans.append((s, m.end()))
        s = m.end()
    spans.append((s, end))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def _word_starts(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if not text[i].isspace() and (i == start or text[i - 1].isspace())]


def _word_ends(text: str, start: int, end: int) -> list[int]:
    return [i + 1 for i in range(start, end) if not text[i].isspace() and (i + 1 == end or text[i + 1].isspace())]
