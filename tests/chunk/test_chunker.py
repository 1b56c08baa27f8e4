"""Chunker with the real MiniLM tokenizer: bounds, offsets, overlap, article boundaries."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from rag.chunk.chunker import MIN_BODY_TOKENS, Chunker, embedding_input
from rag.chunk.sentences import split_sentences
from rag.embed.protocols import TokenCounter as Embedder
from rag.models import Article, Chunk


@pytest.fixture(scope="module")
def chunker(embedder: Embedder) -> Chunker:
    return Chunker(embedder.count_tokens_batch, embedder.max_tokens)


def check_chunks(ch: Chunker, embedder: Embedder, articles: list[Article], chunks: list[Chunk]) -> None:
    """Every invariant a chunk list must satisfy, checked against the real tokenizer."""
    by_id = {a.doc_id: a for a in articles}
    per_doc: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        assert c.doc_id in by_id, "a chunk belongs to one of the input articles"
        per_doc[c.doc_id].append(c)
    real = embedder.count_tokens_batch([ch.embedding_text(by_id[c.doc_id], c) for c in chunks])
    for c, n in zip(chunks, real):
        art = by_id[c.doc_id]
        assert art.text[c.start : c.end] == c.text
        assert c.text == c.text.strip() and c.text
        assert c.n_tokens == n, "n_tokens is the real count of what gets embedded"
        assert n <= min(ch.chunk_tokens, embedder.max_tokens) <= 256
    for art in articles:
        cs = per_doc.get(art.doc_id, [])
        assert [c.ordinal for c in cs] == list(range(len(cs)))
        if not art.text.strip():
            assert cs == []
            continue
        # In order, always advancing, and together covering every non-space character.
        assert all(b.start > a.start and b.end > a.end for a, b in zip(cs, cs[1:]))
        reached = 0
        for c in cs:
            assert art.text[reached : c.start].strip() == "", "no text is skipped between chunks"
            reached = max(reached, c.end)
        assert art.text[reached:].strip() == ""


def test_embedding_input() -> None:
    assert embedding_input("Title", "Body.") == "Title\nBody."
    assert embedding_input("", "Body.") == "Body."
    assert embedding_input("  ", "Body.") == "Body."
    assert embedding_input("Title", "Body.", title_prefix=False) == "Body."


def test_realistic_corpus(chunker: Chunker, embedder: Embedder, corpus: list[Article]) -> None:
    chunks = chunker.chunk_many(corpus)
    check_chunks(chunker, embedder, corpus, chunks)
    assert len(chunks) > len(corpus)
    # Chunks are sentence-aware: a chunk starts and ends on sentence boundaries, except inside a
    # sentence too long to fit in one chunk by itself (a few SciFact sentences are).
    by_id = {a.doc_id: a for a in corpus}
    cut_inside = 0
    for c in chunks:
        art = by_id[c.doc_id]
        spans = split_sentences(art.text)
        for pos in (c.start, c.end):
            if any(s == pos or e == pos for s, e in spans):
                continue
            s, e = next((s, e) for s, e in spans if s < pos < e)
            assert embedder.count_tokens(chunker.embedding_text(art, Chunk(c.doc_id, 0, art.text[s:e], s, e, 0))) > 200
            cut_inside += 1
    assert cut_inside < len(chunks) // 20


def test_chunk_many_equals_chunk_one_by_one(chunker: Chunker, corpus: list[Article]) -> None:
    some = corpus[:40] + corpus[-10:]
    assert chunker.chunk_many(some) == [c for a in some for c in chunker.chunk(a)]


def test_chunks_never_cross_articles(chunker: Chunker, embedder: Embedder, sample_articles: list[Article]) -> None:
    # Same text under two sources: two articles, each with its own chunks and ids.
    a, b = (Article(source=s, title="T", text=sample_articles[0].text) for s in ("x.txt", "y.txt"))
    chunks = chunker.chunk_many([a, b])
    check_chunks(chunker, embedder, [a, b], chunks)
    ids = [c.doc_id for c in chunks]
    assert ids == [a.doc_id] * (len(chunks) // 2) + [b.doc_id] * (len(chunks) // 2)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_overlap_between_neighbours(embedder: Embedder) -> None:
    text = " ".join(f"Sentence number {i} says that the value is {i * 7}." for i in range(200))
    art = Article(source="long.txt", title="A long report", text=text)
    ch = Chunker(embedder.count_tokens_batch, embedder.max_tokens, chunk_tokens=120, overlap_tokens=40)
    chunks = ch.chunk(art)
    check_chunks(ch, embedder, [art], chunks)
    assert len(chunks) > 10
    starts = {s for s, _ in split_sentences(text)}
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end, "neighbours share trailing sentences"
        assert nxt.start in starts
        shared = text[nxt.start : prev.end]
        assert embedder.count_tokens(shared) - 2 <= 40
        # As much overlap as fits: one more sentence would exceed the overlap budget.
        before = max(s for s in starts if s < nxt.start)
        assert embedder.count_tokens(text[before : prev.end]) - 2 > 40 or before < prev.start


def test_no_overlap_when_disabled(embedder: Embedder, sample_articles: list[Article]) -> None:
    ch = Chunker(embedder.count_tokens_batch, embedder.max_tokens, overlap_tokens=0)
    chunks = ch.chunk(sample_articles[0])
    assert len(chunks) > 2
    assert all(b.start >= a.end for a, b in zip(chunks, chunks[1:]))


def test_overlap_on_real_press_releases(chunker: Chunker, sample_articles: list[Article]) -> None:
    # Press-release sentences are often longer than the 40-token overlap, so not every pair can
    # share a sentence; but the long articles must show overlap somewhere.
    long_articles = [a for a in sample_articles if "#" not in a.source]
    pairs = [(a, b) for a, b in zip(chunker.chunk_many(long_articles), chunker.chunk_many(long_articles)[1:])]
    same = [(a, b) for a, b in pairs if a.doc_id == b.doc_id]
    assert same and sum(b.start < a.end for a, b in same) >= len(same) // 4


def test_giant_single_sentence_is_split_at_words(chunker: Chunker, embedder: Embedder) -> None:
    words = [f"word{i % 97}" if i % 13 else "Shanghai" for i in range(2000)]
    text = " ".join(words)  # 2,000 words, no sentence end
    art = Article(source="giant.txt", title="One very long sentence", text=text)
    chunks = chunker.chunk(art)
    check_chunks(chunker, embedder, [art], chunks)
    assert len(chunks) > 10
    for c in chunks:
        assert c.start == 0 or text[c.start - 1] == " ", "cut at a word boundary"
        assert c.end == len(text) or text[c.end] == " "
    assert max(c.n_tokens for c in chunks) > 150, "pieces are packed, not one word each"


def test_text_without_spaces_is_split_by_characters(chunker: Chunker, embedder: Embedder) -> None:
    text = "上海市加快发展新质生产力推动高质量发展" * 60  # 1,140 CJK characters, no punctuation
    art = Article(source="cjk.txt", title="上海", text=text)
    chunks = chunker.chunk(art)
    check_chunks(chunker, embedder, [art], chunks)
    assert len(chunks) >= 5
    assert "".join(c.text for c in chunks) == text  # no overlap inside one sentence: pieces tile it


def test_long_title_is_truncated_in_the_prefix_only(chunker: Chunker, embedder: Embedder) -> None:
    title = " ".join(f"Heading{i}" for i in range(300))
    body = "The mayor opened the new library today. It holds two million books. Visitors praised it."
    art = Article(source="t.txt", title=title, text=body)
    chunks = chunker.chunk(art)
    check_chunks(chunker, embedder, [art], chunks)
    assert [c.text for c in chunks] == [body]
    used = chunker.embedding_title(title)
    assert used and title.startswith(used) and len(used) < len(title)
    room = chunker.limit - 2 - (embedder.count_tokens(used) - 2)
    assert MIN_BODY_TOKENS <= room
    assert chunker.embedding_text(art, chunks[0]) == f"{used}\n{body}"
    # A normal title is used whole.
    assert chunker.embedding_title("Shanghai news") == "Shanghai news"


def test_title_prefix_off(embedder: Embedder, sample_articles: list[Article]) -> None:
    ch = Chunker(embedder.count_tokens_batch, embedder.max_tokens, title_prefix=False)
    art = sample_articles[1]
    chunks = ch.chunk(art)
    check_chunks(ch, embedder, [art], chunks)
    assert all(ch.embedding_text(art, c) == c.text for c in chunks)
    assert [c.n_tokens for c in chunks] == embedder.count_tokens_batch([c.text for c in chunks])


def test_chunk_tokens_above_model_limit_is_clamped(embedder: Embedder, sample_articles: list[Article]) -> None:
    ch = Chunker(embedder.count_tokens_batch, embedder.max_tokens, chunk_tokens=1000, overlap_tokens=0)
    chunks = ch.chunk_many(sample_articles)
    check_chunks(ch, embedder, sample_articles, chunks)
    assert max(c.n_tokens for c in chunks) <= embedder.max_tokens


def test_empty_articles_give_no_chunks(chunker: Chunker) -> None:
    assert chunker.chunk(Article(source="e.txt", title="Empty", text="")) == []
    assert chunker.chunk(Article(source="w.txt", title="Blank", text=" \n\n\t ")) == []


def test_bad_parameters_are_refused(embedder: Embedder) -> None:
    count = embedder.count_tokens_batch
    with pytest.raises(ValueError, match="overlap_tokens"):
        Chunker(count, 256, chunk_tokens=100, overlap_tokens=100)
    with pytest.raises(ValueError, match="chunk_tokens"):
        Chunker(count, 256, chunk_tokens=4)
    with pytest.raises(ValueError, match="max_tokens"):
        Chunker(count, 3)


def test_bound_holds_for_a_tokenizer_that_is_not_additive(sample_articles: list[Article]) -> None:
    """A tokenizer whose count of a joined text exceeds the sum of its parts (here: one extra
    token wherever a sentence end meets the next sentence) must still never be exceeded."""

    def count(texts: list[str]) -> list[int]:
        return [len(t.split()) + 2 + len(re.findall(r"[.!?] \S", t)) for t in texts]

    ch = Chunker(count, 256, chunk_tokens=60, overlap_tokens=10)
    chunks = ch.chunk_many(sample_articles)
    by_id = {a.doc_id: a for a in sample_articles}
    real = count([ch.embedding_text(by_id[c.doc_id], c) for c in chunks])
    assert real == [c.n_tokens for c in chunks]
    assert max(real) <= 60
    assert all(by_id[c.doc_id].text[c.start : c.end] == c.text for c in chunks)


def test_real_sample_through_ingest(chunker: Chunker, embedder: Embedder) -> None:
    from rag.ingest.discover import load_paths

    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    result = load_paths([sample])
    assert result.articles and not result.problems
    chunks = chunker.chunk_many(result.articles)
    check_chunks(chunker, embedder, result.articles, chunks)
    assert {c.doc_id for c in chunks} == {a.doc_id for a in result.articles if a.text.strip()}


@pytest.mark.slow
def test_all_of_scifact(chunker: Chunker, embedder: Embedder, scifact_all: list[Article]) -> None:
    chunks = chunker.chunk_many(scifact_all)
    check_chunks(chunker, embedder, scifact_all, chunks)
