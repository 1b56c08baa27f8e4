"""Loader bounds (rag/ingest/limits.py): each bound skips the file or record with its reason, the rest loads."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from rag.ingest import html, jsonl, pdf
from rag.ingest.discover import load_paths
from rag.ingest.errors import LoadError
from rag.ingest.limits import Deadline, LoadLimits, html_depth, json_depth


def test_html_depth_counts_nesting_not_length():
    assert html_depth(b"<div>" * 3000, 10_000) == 3000
    assert html_depth(b"<p>unclosed paragraph " * 3000, 10_000) == 0  # <p> closes itself
    assert html_depth(b"<div><br><img src=x><input/></div>" * 1000, 10_000) == 1
    assert html_depth(b"<script>" + b"<div>" * 5000 + b"</script><b>x</b>", 10_000) == 1
    assert html_depth(b"<div>" * 100_000, 50) == 51  # stops counting past the bound


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth('{"a": [[[1]]]}', 100) == 4
    assert json_depth('{"text": "[[[[[[[[ {{{{"}', 100) == 1
    assert json_depth('{"text": "a \\" [[[["}', 100) == 1
    assert json_depth("[" * 100_000, 10) == 11


def test_deep_html_is_refused_fast_and_shallow_html_loads(tmp_path: Path):
    deep = tmp_path / "deep.html"
    deep.write_bytes(b"<html><body>" + b"<div>" * 100_000 + b"text" + b"</div>" * 100_000 + b"</body></html>")
    started = time.monotonic()
    with pytest.raises(LoadError, match="RAG_INGEST_MAX_DEPTH"):
        html.load(deep)
    assert time.monotonic() - started < 5  # was: no reply in 30 s, quadratic in the depth
    ok = tmp_path / "ok.html"
    ok.write_bytes(b"<html><body>" + b"<div>" * 200 + b"Plain words here." + b"</div>" * 200 + b"</body></html>")
    assert html.load(ok).articles[0].text == "Plain words here."


def test_one_deep_jsonl_record_is_skipped_the_others_load(tmp_path: Path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "first good record"}\n' + "[" * 100_000 + "]" * 100_000 + '\n{"text": "second good"}\n')
    result = jsonl.load(path)
    assert [a.text for a in result.articles] == ["first good record", "second good"]
    assert len(result.problems) == 1 and "line 2" in result.problems[0].message
    assert "RAG_INGEST_MAX_DEPTH" in result.problems[0].message


def test_records_over_the_bound_are_skipped_and_reported(tmp_path: Path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"text": "record {i}"}}\n' for i in range(10)))
    result = jsonl.load(path, limits=LoadLimits(max_records=4))
    assert len(result.articles) == 4 and "RAG_INGEST_MAX_RECORDS" in result.problems[0].message
    writer = PdfWriter()
    for _ in range(5):
        writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    (tmp_path / "pages.pdf").write_bytes(buffer.getvalue())
    pages = pdf.load(tmp_path / "pages.pdf", limits=LoadLimits(max_records=2))
    assert not pages.articles and "has 5 pages, more than 2" in pages.problems[0].message


def test_parse_time_bound(tmp_path: Path):
    deadline = Deadline(tmp_path / "slow.jsonl", 0.0)
    time.sleep(0.01)
    with pytest.raises(LoadError, match="RAG_INGEST_MAX_PARSE_S"):
        deadline.check("line 7")
    path = tmp_path / "slow.jsonl"
    path.write_text('{"text": "a"}\n' * 1000)
    result = load_paths([path], limits=LoadLimits(max_parse_s=1e-9))
    assert not result.articles and "RAG_INGEST_MAX_PARSE_S" in result.problems[0].message


def test_file_size_bound_skips_only_that_file(tmp_path: Path):
    (tmp_path / "big.txt").write_text("A sentence of ordinary text. " * 1000)
    (tmp_path / "small.txt").write_text("Small title\n\nA short text that fits.")
    result = load_paths([tmp_path], limits=LoadLimits(max_file_bytes=5_000))
    assert [Path(a.source).name for a in result.articles] == ["small.txt"]
    assert "RAG_INGEST_MAX_FILE_BYTES" in result.problems[0].message and result.problems[0].source.endswith("big.txt")
