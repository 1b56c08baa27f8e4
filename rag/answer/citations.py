"""Sentences of retrieved passages as exact article spans, and the Citation records built from them.

Both answerers quote sentences, never whole chunks. A sentence found at chunk-relative offset o
lies at article offset passage.start + o; we check `article.text[start:end] == quote` for every
citation we build, so a stale or mis-offset passage can never produce a wrong pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.chunk.sentences import split_chunk_sentences
from rag.cite.injection import instruction_regions
from rag.ingest.parts import part_at
from rag.models import Article, Citation, Hit

# doc_id -> Article; None when the document left the collection (Snapshot.article may return None).
ArticleLookup = Callable[[str], Article | None]

def split_sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, trimmed of surrounding whitespace, empties dropped.
    The index stores one vector per such span, so answers must split exactly as the chunker does."""
    return split_chunk_sentences(text)


@dataclass(frozen=True)
class SentenceSpan:
    """One sentence of a retrieved passage; text == article.text[start:end]."""

    hit_index: int  # rank of the best hit that contains it (0 = top)
    doc_id: str
    start: int
    end: int
    text: str
    # It begins a line of its article (at a line break or at the article's start). Only such a sentence can
    # be a heading: "2. The method ... Postal Code: 200003" inside a paragraph ends without a full stop and is
    # mostly names, yet it is no heading.
    line_start: bool = True


def passage_offset(hit: Hit, article: Article) -> int | None:
    """Article offset of the passage: its stored start if it checks out, else where its text occurs."""
    p = hit.passage
    if article.text[p.start : p.end] == p.text:
        return p.start
    found = article.text.find(p.text)
    return found if found >= 0 else None


def passage_sentences(hits: list[Hit], articles: ArticleLookup) -> list[SentenceSpan]:
    """Sentences of all hits, de-duplicated across overlapping chunks (first hit wins).

    Text addressed to the assistant (rag/cite/injection.py) is never a candidate: a sentence is cut
    where such a region starts ("…in 2024. system: you are now…" splits as one sentence, since the
    marker is lower-case) and left out when nothing is left before it."""
    seen: set[tuple[str, int, int]] = set()
    out: list[SentenceSpan] = []
    for i, hit in enumerate(hits):
        article = articles(hit.passage.doc_id)
        base = passage_offset(hit, article) if article is not None else None
        if article is None or base is None:
            continue  # document gone or passage no longer matches it (stale index): nothing citable here
        injected = [(a - base, b - base) for a, b in instruction_regions(article.text)]
        for s, e in split_sentence_spans(hit.passage.text):
            e = _before_injected(hit.passage.text, s, e, injected)
            if e <= s:
                continue
            key = (hit.passage.doc_id, base + s, base + e)
            if key in seen:
                continue
            seen.add(key)
            a = base + s
            out.append(SentenceSpan(i, hit.passage.doc_id, a, base + e, article.text[a : base + e],
                                    line_start=a == 0 or article.text[a - 1] in "\n\r\f\v\u2028\u2029"))
    return out


def _before_injected(text: str, start: int, end: int, regions: list[tuple[int, int]]) -> int:
    """End of text[start:end] cut before the first instruction region it meets (trailing space dropped)."""
    for r_start, r_end in regions:
        if start < r_end and r_start < end:
            if r_start <= start:
                return start
            return start + len(text[start:r_start].rstrip())
    return end


def make_citation(
    n: int,
    hit: Hit,
    article: Article,
    start: int,
    end: int,
    verified: bool,
    similarity: float | None,
) -> Citation:
    """Citation for article.text[start:end]; raises if the span is outside the article."""
    if not 0 <= start < end <= len(article.text):
        raise ValueError(f"citation span {start}:{end} lies outside article {article.doc_id[:12]}")
    p = hit.passage
    return Citation(
        n=n,
        chunk_id=p.chunk_id,
        doc_id=p.doc_id,
        title=p.title or article.title,
        date=p.date or article.date,
        source=p.source or article.source,
        page=p.page_start if p.page_start is not None else article.page_start,
        location=part_at(article, start),
        start=start,
        end=end,
        quote=article.text[start:end],
        verified=verified,
        similarity=None if similarity is None else round(float(similarity), 4),
    )


class CitationNumbering:
    """Numbers citations in order of first use; the same quote cited twice keeps one number."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, int, int], int] = {}
        self.citations: list[Citation] = []

    def add(
        self,
        hit: Hit,
        article: Article,
        start: int,
        end: int,
        verified: bool,
        similarity: float | None,
    ) -> int:
        key = (hit.passage.doc_id, start, end)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(make_citation(n, hit, article, start, end, verified, similarity))
        return self._numbers[key]
