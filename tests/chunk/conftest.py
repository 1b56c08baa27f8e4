"""Fixtures for the chunk tests: realistic articles built from SciFact and the bundled sample.

The real MiniLM `embedder` fixture comes from tests/conftest.py (one model per session).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.models import Article

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
# ../shared beside the repository, as in CI. Missing data is a failure that names the path, never a skip.
SCIFACT = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "scifact" / "corpus.jsonl"


def _scifact(limit: int | None) -> list[Article]:
    if not SCIFACT.exists():
        pytest.fail(f"SciFact corpus not found at {SCIFACT}: put the shared data folder at ../shared beside the repository")
    out: list[Article] = []
    with SCIFACT.open(encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(out) >= limit:
                break
            rec = json.loads(line)
            out.append(Article(source=f"scifact:{rec['_id']}", title=rec["title"], text=rec["text"]))
    return out


@pytest.fixture(scope="session")
def scifact_all() -> list[Article]:
    return _scifact(None)


@pytest.fixture(scope="session")
def sample_articles() -> list[Article]:
    """Each sample file as one long article, plus each of its paragraphs as an article of its own."""
    files = sorted(SAMPLE.glob("*.txt"))
    assert files, f"no sample files in {SAMPLE}"
    out: list[Article] = []
    for path in files:
        raw = path.read_text(encoding="utf-8")
        title = raw.strip().splitlines()[0]
        out.append(Article(source=str(path), title=title, text=raw))
        for i, para in enumerate(p.strip() for p in raw.split("\n\n")):
            if para:
                out.append(Article(source=f"{path}#{i}", title=title, text=para))
    return out


@pytest.fixture(scope="session")
def corpus(sample_articles: list[Article]) -> list[Article]:
    """A realistic mix: the first 300 SciFact abstracts and the Shanghai press-release sample."""
    return _scifact(300) + sample_articles


ZH_NEWS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "crud-news-zh" / "docs.txt.xz"


@pytest.fixture(scope="session")
def zh_news_articles() -> list[Article]:
    """The first 300 articles of the Chinese news corpus, read as the ingest step reads them."""
    import lzma

    from rag.ingest.zh_news import parse, to_article

    if not ZH_NEWS.exists():
        pytest.fail(f"Chinese news corpus not found at {ZH_NEWS}: put the shared data folder at ../shared beside the repository")
    out: list[Article] = []
    with lzma.open(ZH_NEWS, "rt", encoding="utf-8", newline="\n") as f:
        for i, line in enumerate(f, start=1):
            if i > 300:
                break
            article = to_article(parse(line.rstrip("\n"), (0, 0), {"line": str(i)}), "docs.txt.xz", "", 2023)
            assert article is not None
            out.append(article)
    return out
