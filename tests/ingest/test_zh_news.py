"""Chinese news articles: `<prefix>，正文：<body>` in a .txt file, and docs.txt.xz one article a line."""

from __future__ import annotations

import lzma
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from rag.ingest import text, xz
from rag.ingest.dates import parse_date, parse_news_date
from rag.ingest.discover import SUPPORTED, load_paths
from rag.ingest.limits import LoadLimits
from rag.ingest.normalize import normalize_text
from rag.ingest.zh_news import read_prefix, split_marker

from .conftest import zh_news_lines

# Every prefix shape of the corpus (counts of 11,576 in the comment), and the date it must give.
PREFIXES = [
    ("2023-08-11 15:10", "2023-08-11T15:10"),  # 4559
    ("2023-07-29 11:49:25", "2023-07-29T11:49:25"),  # 1285
    ("2023-07-27", "2023-07-27"),  # 818
    ("2023年07月19日", "2023-07-19"),  # 359
    ("23-07-26 22:00", "2023-07-26T22:00"),  # 322
    ("[2023/07/20  16:52]", "2023-07-20T16:52"),  # 295
    ("2023年07月20日 18:14:59 来自北京市", "2023-07-20T18:14:59"),  # 361
    ("2023/07/26 ", "2023-07-26"),  # 124
    ("华夏经纬网 > 新闻 > 港澳新闻\xa0\xa0\xa0\xa0\xa0\xa02023-07-29 10:35:11  ", "2023-07-29T10:35:11"),  # 104
    ("202307/25 05:01:02", "2023-07-25T05:01:02"),  # 29
    ("发表时间：2023-07-25 06:34", "2023-07-25T06:34"),
    ("发布时间：2023-07-26 08:46:02", "2023-07-26T08:46:02"),
    ("新华网                                    2023-08-04 08:40            ", "2023-08-04T08:40"),
    ("[ 2023-07-28 16：40 ] ", "2023-07-28T16:40"),  # full-width colon
    ("2023-07-20  19:08", "2023-07-20T19:08"),  # two spaces: the time is still read
]
YEARLESS = [("07-20 22:43", (7, 20, 22)), ("7-20 16:03", (7, 20, 16)), ("8-1 14:13", (8, 1, 14)),
            ("08/16  13:50", (8, 16, 13)), ("08/05", (8, 5, None))]
DATELESS = ["", "/", "来源：中国青年报客户端", "来源：人民日报 "]


@pytest.mark.parametrize(("prefix", "iso"), PREFIXES)
def test_prefix_dates(prefix: str, iso: str) -> None:
    found = parse_news_date(prefix)
    assert found is not None and found.iso() == iso


@pytest.mark.parametrize(("prefix", "mdh"), YEARLESS)
def test_yearless_prefix_dates_wait_for_a_year(prefix: str, mdh: tuple[int, int, int | None]) -> None:
    found = parse_news_date(prefix)
    assert found is not None and found.year is None and (found.month, found.day, found.hour) == mdh
    assert found.iso() is None and found.iso(2023).startswith(f"2023-{mdh[0]:02d}-{mdh[1]:02d}")


@pytest.mark.parametrize("prefix", DATELESS)
def test_dateless_prefixes(prefix: str) -> None:
    assert parse_news_date(prefix) is None


def test_impossible_dates_are_no_dates() -> None:
    assert parse_news_date("2023-02-30 10:00") is None and parse_news_date("13-40 10:00") is None


def test_parse_date_reads_han_full_dates_only() -> None:
    assert parse_date("2023年07月19日") == "2023-07-19"
    assert parse_date("07-20 22:43") is None  # no year: only a prefix, read with its file, may borrow one
    assert parse_date("May 09, 2024 16:30 PM") == "2024-05-09T16:30"


def test_source_lines_become_outlet_metadata() -> None:
    assert read_prefix("来源：中国青年报客户端").outlet == "中国青年报客户端"
    assert read_prefix("新华网      2023-08-04 08:40     ").outlet == "新华网"
    p = read_prefix("新海南客户端、南海网                记者易帆                                  2023-08-09 09:07   ")
    assert (p.outlet, p.byline) == ("新海南客户端、南海网", "记者易帆")
    assert read_prefix("华夏经纬网 > 新闻 > 涉台新闻\xa0\xa0\xa02023-07-27 08:52:37  ").outlet == "华夏经纬网 > 新闻 > 涉台新闻"
    assert read_prefix("2023年07月20日 18:14:59 来自北京市").outlet == ""  # where it was posted from
    assert read_prefix("发布时间：2023-07-26 08:46:02").outlet == ""


def test_real_corpus_lines_keep_their_body_and_date(tmp_path: Path) -> None:
    lines = zh_news_lines(400)
    f = tmp_path / "head.txt.xz"
    f.write_bytes(lzma.compress(("\n".join(lines) + "\n").encode("utf-8")))
    result = xz.load(f)
    assert result.problems == [] and len(result.articles) == len(lines)
    decoded = lzma.decompress(f.read_bytes()).decode("utf-8")
    for i, (line, a) in enumerate(zip(lines, result.articles), start=1):
        prefix, body = split_marker(line)
        assert a.text == normalize_text(body) and a.title == ""
        assert a.meta["line"] == str(i) and a.meta["prefix"] == prefix and a.meta["format"] == "zh-news"
        assert decoded[a.span[0] : a.span[1]] == line
        if re.search(r"\d", prefix):
            assert a.date is not None and a.date.startswith("2023-"), prefix
        else:
            assert a.date is None
    inferred = [a for a in result.articles if a.meta.get("date_inferred") == "year"]
    assert inferred and all(a.date.startswith("2023-") for a in inferred)  # the year most lines carry


def test_xz_lines_problems_and_plain_lines(tmp_path: Path) -> None:
    raw = ("2021-03-04 10:00，正文：第一篇文章的正文。\n"
           "\n"
           "03-05 08:00，正文：第二篇，没有年份。\n"
           "来源：新华网，正文：   \n"
           "A plain line with no marker is a document too.\n"
           "2021-03-06，正文：第一篇文章的正文。\n")
    f = tmp_path / "news.txt.xz"
    f.write_bytes(lzma.compress(raw.encode("utf-8")))
    result = load_paths([tmp_path])
    a = result.articles
    assert [x.text for x in a] == ["第一篇文章的正文。", "第二篇，没有年份。", "A plain line with no marker is a document too.",
                                   "第一篇文章的正文。"]
    assert [x.date for x in a] == ["2021-03-04T10:00", "2021-03-05T08:00", None, "2021-03-06"]
    assert [x.meta["line"] for x in a] == ["1", "3", "5", "6"] and a[1].meta["date_inferred"] == "year"
    assert a[2].meta["format"] == "text-line" and "prefix" not in a[2].meta
    assert [p.message for p in result.problems] == [
        "line 4 has no text after its prefix '来源：新华网'; add the article's text or remove the line"]
    assert result.files_seen == [str(f)] and result.repeats == []
    assert a[3].doc_id == a[0].doc_id  # the same text twice is one document (the indexer keeps one), as in JSONL


def test_corrupt_and_truncated_xz_say_what_to_do(tmp_path: Path) -> None:
    good = lzma.compress("2023-07-27，正文：正文。\n".encode("utf-8"))
    (tmp_path / "corrupt.txt.xz").write_bytes(good[:12] + b"\x00garbage" + good[20:])
    (tmp_path / "cut.txt.xz").write_bytes(good[: len(good) // 2])
    (tmp_path / "notxz.txt.xz").write_text("plain text, not compressed", "utf-8")
    (tmp_path / "rows.jsonl.xz").write_bytes(lzma.compress(b'{"text": "x"}\n'))
    result = load_paths([tmp_path])
    assert result.articles == []
    msgs = {Path(p.source).name: p.message for p in result.problems}
    assert "is not a valid xz file" in msgs["corrupt.txt.xz"] and "xz -t" in msgs["corrupt.txt.xz"]
    assert "is cut short" in msgs["cut.txt.xz"] and "again" in msgs["cut.txt.xz"]
    assert "is not a valid xz file" in msgs["notxz.txt.xz"]
    assert "only .txt.xz" in msgs["rows.jsonl.xz"] and "xz -dk rows.jsonl.xz" in msgs["rows.jsonl.xz"]
    assert ".txt.xz" in SUPPORTED


def test_xz_decompression_is_bounded(tmp_path: Path) -> None:
    f = tmp_path / "bomb.txt.xz"
    f.write_bytes(lzma.compress(("正文" * 200_000).encode("utf-8")))  # 1.2 MB from a few hundred bytes
    result = load_paths([f], limits=LoadLimits(max_file_bytes=100_000))
    assert result.articles == [] and "decompresses to more than 100,000 bytes" in result.problems[0].message


def _set_year(path: Path, year: int) -> None:
    t = datetime(year, 6, 1).timestamp()
    os.utime(path, (t, t))


def test_txt_article_body_date_and_prefix(tmp_path: Path) -> None:
    line = zh_news_lines(1)[0]
    f = tmp_path / "建军节招待会.txt"
    f.write_text(line + "\n第二段也属于正文。\n", "utf-8")
    (a,) = text.load(f).articles
    prefix, body = split_marker(line)
    assert a.text == normalize_text(body + "\n第二段也属于正文。")
    assert (a.title, a.date, a.meta["prefix"], a.span) == ("建军节招待会", "2023-07-28T16:40", prefix, (0, len(f.read_text("utf-8"))))
    assert a.meta["format"] == "zh-news" and a.meta["encoding"] == "utf-8"


def test_lone_txt_takes_the_modification_year(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("来源：澎湃新闻 ，正文：没有日期的文章。", "utf-8")
    g = tmp_path / "b.txt"
    g.write_text("07-20 22:43，正文：没有年份的文章。", "utf-8")
    _set_year(g, 2021)
    a, b = load_paths([f]).articles + load_paths([g]).articles
    assert a.date is None and a.meta["outlet"] == "澎湃新闻" and a.text == "没有日期的文章。"
    assert b.date == "2021-07-20T22:43" and b.meta["date_inferred"] == "year"


def test_a_folder_lends_its_year_to_yearless_articles(tmp_path: Path) -> None:
    for name, prefix in (("1.txt", "2023-07-19"), ("2.txt", "2023年07月21日"), ("3.txt", "7-20 16:03")):
        (tmp_path / name).write_text(f"{prefix}，正文：文章{name}。", "utf-8")
        _set_year(tmp_path / name, 2025)
    dates = [a.date for a in load_paths([tmp_path]).articles]
    assert dates == ["2023-07-19", "2023-07-21", "2023-07-20T16:03"]


def test_a_txt_of_article_lines_is_one_document_a_line(tmp_path: Path) -> None:
    f = tmp_path / "docs.txt"
    f.write_text("\n".join(zh_news_lines(3)) + "\n", "utf-8")
    arts = text.load(f).articles
    assert [a.meta["line"] for a in arts] == ["1", "2", "3"] and all(a.date for a in arts)


def test_a_marker_with_no_body_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_text("2023-07-27，正文：  \n", "utf-8")
    result = load_paths([f])
    assert result.articles == [] and "no text after its '，正文：' marker" in result.problems[0].message


def test_english_text_never_meets_the_marker(tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_text("Quarterly meeting, body: notes\n\nThe meeting was held on May 9, 2024 in Shanghai.", "utf-8")
    (a,) = text.load(f).articles
    assert a.meta["format"] == "text" and "prefix" not in a.meta
