from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rag.ingest import jsonl
from rag.ingest.errors import LoadError

SCIFACT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "eval" / "scifact" / "corpus.jsonl"


def test_records_bad_lines_and_metadata(tmp_path: Path) -> None:
    lines = [
        json.dumps({"_id": "d1", "title": "First", "text": "Alpha text.It goes on.", "lang": "en", "meta": {"x": 1}}),
        "{not json",
        json.dumps({"id": 7, "content": "Beta content", "date": "May 09, 2024", "score": 0.5, "ok": True}),
        "",
        json.dumps({"id": "no-text", "title": "Only a title"}),
        json.dumps(["a", "list"]),
        json.dumps({"body": "Gamma body", "date": "sometime"}),
    ]
    raw = "\n".join(lines) + "\n"
    p = tmp_path / "records.jsonl"
    p.write_text(raw, "utf-8")
    result = jsonl.load(p)

    assert [(a.title, a.text, a.date) for a in result.articles] == [
        ("First", "Alpha text. It goes on.", None),
        ("", "Beta content", "2024-05-09"),
        ("", "Gamma body", None),
    ]
    first, second, third = result.articles
    assert first.meta == {"format": "jsonl", "line": "1", "id": "d1", "lang": "en"}
    assert second.meta["id"] == "7" and second.meta["score"] == "0.5" and second.meta["ok"] == "true"
    assert third.meta["date_raw"] == "sometime" and "id" not in third.meta
    for a, line_no in zip(result.articles, (1, 3, 7)):
        assert a.source == str(p)
        assert raw[a.span[0] : a.span[1]] == lines[line_no - 1]

    problems = [(pr.source, pr.message) for pr in result.problems]
    assert [s for s, _ in problems] == [str(p)] * 3  # the file, so the indexer keeps its old documents
    assert "line 2 is not valid JSON" in problems[0][1]
    assert "line 5 has no non-empty text field" in problems[1][1]
    assert "not an object" in problems[2][1]


def test_empty_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_text("\n\n", "utf-8")
    with pytest.raises(LoadError, match="is empty"):
        jsonl.load(p)


@pytest.mark.skipif(not SCIFACT_CORPUS.exists(), reason="shared SciFact corpus not present")
def test_scifact_corpus_loads_fast() -> None:
    t0 = time.perf_counter()
    result = jsonl.load(SCIFACT_CORPUS)
    elapsed = time.perf_counter() - t0
    assert result.problems == []
    assert len(result.articles) == 5183
    ids = [a.meta["id"] for a in result.articles]
    assert len(set(ids)) == 5183 and ids[0] == "4983"
    assert all(a.text and a.title for a in result.articles)
    assert elapsed < 10, f"SciFact took {elapsed:.1f}s to load"
