"""The bundled sample corpus: fifteen press releases in five files, pinned one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.discover import load_paths
from rag.ingest.news import looks_like_press_releases, split_press_releases, split_title_tags
from rag.ingest.normalize import normalize_text
from rag.models import Article

# (file prefix, title, ISO date or None, tags), in file order.
EXPECTED: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    ("000", "Continuously enhance consumption vitality, continue to create traffic attraction, and carefully shape the charm of Shanghai. Mayor Gong Zheng conducts research to promote consumption", "2024-05-09T16:30", ()),
    ("000", 'Shanghai Investigation and Rectification | Looking Back at Shanghai Research, Work Conference on "Improving Product Quality" and "Satisfying Industry"', None, ("Issues", "Products")),
    ("000", 'The contact between representatives and residents is uninterrupted, and the Hongkou People\'s Congress has launched the "Direct Access to People\'s Congress Representatives" platform.', None, ("People", "Supplement", "People's Congress Representatives")),
    ("000", "Shanghai Municipal Committee of the Chinese People's Political Consultative Conference held a meeting to convey and learn the spirit and strategy of the plenary session of the Shanghai Municipal Committee", None, ("Requirements", "Shanghai Municipal Committee of the Chinese People's Political Consultative Conference")),
    ("000", "Chen Jining Meets with Ge Lihe, Chairman of the Executive Board of Merck Group in Germany", None, ("Development", "Merck Group in Germany")),
    ("000", 'The United Front Work Department of the Municipal Party Committee and the Municipal Ethnic and Religious Affairs Bureau held an on-site meeting for the "Home in Shanghai" theme practice activity', None, ("Awareness", "Shanghai")),
    ("001", "The executive meeting of the Shanghai Municipal Government analyzed the current economic situation and called for new progress and achievements in solving outstanding problems", None, ()),
    ("002", "Chen Jining and Gong Zheng held a discussion with Jin Zhuanglong, and the Ministry of Industry and Information Technology signed a strategic cooperation agreement with the Shanghai Municipal Government.", "2024-05-17T17:21", ()),
    ("002", "Draft Regulations on Promoting Data Circulation and Trading in Pudong New Area in Shanghai soliciting public opinion data", None, ()),
    ("002", "Confidence in Future Development, Municipal People's Congress Representatives Review Government Work Report for the First Half of the Year: Shanghai's Resilient Economy", None, ("Representative", "Shanghai")),
    ("002", "Do a better job in assisting Tibet at a new starting point! Chen Jining led a delegation to go deep into the rural aid to Tibet in the Shigatse Hospital School Park", None, ("Development", "Work")),
    ("002", "How did Auntie become a college student after being trained?, The first batch of undergraduate students in home economics in Shanghai graduated from Shanghai Open University in July", None, ("Home Economics", "Students")),
    ("002", 'How can pain points be resolved?, Smart elderly care products that are overly "intelligent" or lead to discomfort standards for the elderly', None, ("Shanghai", "Products")),
    ("003", "[In Focus] Rallying with Full Effort and Resilience in Implementing Strong Chemical Industry Actions | District Committee and District Government Quarterly Work Meeting Held April 08,2024", "2024-04-08", ()),
    ("004", "The Ministry of Commerce held a video conference to promote the pilot work deployment of new consumer formats, models, and scenarios", None, ()),
]  # fmt: skip


def _fold(s: str) -> str:
    return " ".join(s.split())


def _raw(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def articles(sample_dir: Path) -> list[Article]:
    result = load_paths([sample_dir])
    assert result.problems == []
    return result.articles


def test_fifteen_articles_with_titles_dates_tags(articles: list[Article]) -> None:
    got = [(Path(a.source).name[:3], a.title, a.date, a.tags) for a in articles]
    assert len(got) == 15
    assert got == EXPECTED


def test_every_file_looks_like_press_releases(sample_dir: Path) -> None:
    files = sorted(sample_dir.glob("*.txt"))
    assert len(files) == 5
    assert all(looks_like_press_releases(_raw(str(f))) for f in files)


def test_span_holds_the_title_and_the_whole_body(articles: list[Article]) -> None:
    for a in articles:
        raw = _raw(a.source)
        start, end = a.span
        assert 0 <= start < end <= len(raw)
        original = normalize_text(raw[start:end])
        assert original.startswith(a.title)
        assert _fold(a.text) in _fold(original)


def test_spans_are_ordered_and_disjoint(articles: list[Article]) -> None:
    by_file: dict[str, list[tuple[int, int]]] = {}
    for a in articles:
        by_file.setdefault(a.source, []).append(a.span)
    for source, spans in by_file.items():
        assert spans == sorted(spans), source
        assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:])), source
        raw = _raw(source)
        assert spans[0][0] == 0 and spans[-1][1] == len(raw.rstrip()), source


def test_bodies_are_clean(articles: list[Article]) -> None:
    for a in articles:
        assert a.text and a.text == normalize_text(a.text)
        assert "Release time" not in a.text
        assert "all right reserved" not in a.text
        assert not a.text.startswith(a.title[:40])  # doubled title line dropped
        assert not a.text.endswith(a.title[-40:])  # closing title repeat dropped
        assert "\u00a0" not in a.text and "\u2019" not in a.text and "\u201c" not in a.text
        assert a.source.startswith("/")
    executive = articles[6]
    assert "supply chain. want Continue to deepen reform" in executive.text
    assert "in light of the reality of Shanghai. We must continue" in executive.text
    assert executive.text.endswith("The meeting also studied other matters.")


def test_paragraphs_are_kept(articles: list[Article]) -> None:
    commerce = articles[14]  # 004: paragraphs on consecutive lines, no blank lines
    assert commerce.text.count("\n\n") == 3
    assert commerce.text.split("\n\n")[1].startswith("The meeting pointed out")


def test_split_title_tags() -> None:
    assert split_title_tags("A title about things | Tag One | Tag Two") == ("A title about things", ("Tag One", "Tag Two"))
    assert split_title_tags("No tags, just a title") == ("No tags, just a title", ())
    # a prose segment after a pipe belongs to the title
    assert split_title_tags("Head | Looking back at X, Y and Z | Issues")[0] == "Head | Looking back at X, Y and Z"


def test_synthetic_layout_variants() -> None:
    raw = (
        "First release title here\n"
        "Release time:Jan 02, 2024 09:05 AM\n"
        "Body of the first release.It continues.\n"
        "\n"
        "Second release title | Economy | City\n"
        "Second release title | Economy | City\n"
        "Body of the second one.\n"
        "Second release title\n"
        "Copyright 2024 Some Site, all rights reserved\n"
    )
    got = split_press_releases(raw, "mem.txt")
    assert [(a.title, a.date, a.tags, a.text) for a in got] == [
        ("First release title here", "2024-01-02T09:05", (), "Body of the first release. It continues."),
        ("Second release title", None, ("Economy", "City"), "Body of the second one."),
    ]
    assert raw[got[1].span[0] :].startswith("Second release title | Economy")
    assert raw[: got[0].span[1]].endswith("It continues.")


def test_plain_prose_is_not_press_releases() -> None:
    assert not looks_like_press_releases("# Notes\n\nShort text.\n")
    assert not looks_like_press_releases("Just one paragraph of text that goes on for a while but has no title.")
    assert not looks_like_press_releases("")
