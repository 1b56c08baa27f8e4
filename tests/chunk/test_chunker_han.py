"""Han text through the chunker, with the real MiniLM tokenizer: clause cuts, exact spans, the bound."""

from __future__ import annotations

import pytest

from rag.chunk.chunker import Chunker
from rag.chunk.sentences import split_sentences
from rag.embed.protocols import TokenCounter as Embedder
from rag.ingest.normalize import normalize_text
from rag.models import Article

from .test_chunker import check_chunks

CLAUSE_MARKS = ",;:，；："


@pytest.fixture(scope="module")
def small(embedder: Embedder) -> Chunker:
    """A budget small enough that most corpus sentences must be cut."""
    return Chunker(embedder.count_tokens_batch, embedder.max_tokens, chunk_tokens=48, overlap_tokens=8)


def test_real_news_chunks_hold_every_invariant(embedder: Embedder, zh_news_articles: list[Article]) -> None:
    ch = Chunker(embedder.count_tokens_batch, embedder.max_tokens)
    chunks = ch.chunk_many(zh_news_articles)
    check_chunks(ch, embedder, zh_news_articles, chunks)
    assert len(chunks) > len(zh_news_articles)


def test_long_han_sentences_are_cut_at_clause_marks(small: Chunker, embedder: Embedder,
                                                    zh_news_articles: list[Article]) -> None:
    chunks = small.chunk_many(zh_news_articles)
    check_chunks(small, embedder, zh_news_articles, chunks)
    by_id = {a.doc_id: a for a in zh_news_articles}
    mid_sentence = at_mark = 0
    for c in chunks:
        text = by_id[c.doc_id].text
        ends = {e for _, e in split_sentences(text)}
        if c.end not in ends:
            mid_sentence += 1
            at_mark += text[c.end - 1] in CLAUSE_MARKS or text[c.end - 2 : c.end - 1] in CLAUSE_MARKS
    # Measured: 2,576 of 2,858 cuts inside a sentence fall at a clause mark; the rest are clauses longer than the budget alone, cut between characters.
    assert mid_sentence > 1000 and at_mark / mid_sentence > 0.8


def test_a_sentence_of_clauses_packs_whole_clauses(small: Chunker, embedder: Embedder) -> None:
    clauses = [f"第{i}项工作取得新进展" for i in range(1, 41)]
    text = normalize_text("，".join(clauses) + "。")
    article = Article(source="t", text=text)
    chunks = small.chunk(article)
    check_chunks(small, embedder, [article], chunks)
    assert len(chunks) > 3
    for c in chunks[:-1]:
        assert c.text.endswith("，"), c.text  # Chinese text keeps its full-width comma (normalize_text)
    for c in chunks:
        assert all(part in clauses for part in c.text.rstrip("，。").split("，"))


def test_numbers_are_not_clause_marks_and_giant_clauses_cut_by_characters(small: Chunker, embedder: Embedder) -> None:
    text = "投资5,000,000元用于建设" + "上海市加快发展新质生产力推动高质量发展" * 8 + "，时间为16:40。"
    article = Article(source="t", text=text)
    chunks = small.chunk(article)
    check_chunks(small, embedder, [article], chunks)
    assert not any(c.text.endswith(("5,", "000,", "16:")) for c in chunks)
    cut = Chunker(embedder.count_tokens_batch, embedder.max_tokens, chunk_tokens=48, overlap_tokens=0).chunk(article)
    assert "".join(c.text for c in cut) == text  # no character lost or doubled without overlap


@pytest.mark.parametrize("close", ["”", "’", "」", "』", "）"])
def test_closing_quotes_stay_with_their_sentence(close: str) -> None:
    opening = {"”": "“", "’": "‘", "」": "「", "』": "『", "）": "（"}[close]
    for raw in (f"他说：{opening}我们会继续努力。{close}下一句开始了。", f"他问：{opening}真的吗？{close}是的！"):
        for text in (raw, normalize_text(raw)):
            first = split_sentences(text)[0]
            assert text[first[0] : first[1]].endswith(normalize_text(close) if text != raw else close), text
