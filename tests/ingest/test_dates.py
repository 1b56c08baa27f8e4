from __future__ import annotations

import pytest

from rag.ingest.dates import parse_date


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("May 09, 2024 16:30 PM", "2024-05-09T16:30"),  # 24h clock with a stray PM
        ("May 17, 2024 17:21 PM", "2024-05-17T17:21"),
        ("May 09, 2024 4:30 PM", "2024-05-09T16:30"),
        ("Jan 1, 2024 12:05 AM", "2024-01-01T00:05"),
        ("Quarterly Work Meeting Held April 08,2024", "2024-04-08"),
        ("Dec. 17th 2024", "2024-12-17"),
        ("17 December 2024", "2024-12-17"),
        ("2024-06-01", "2024-06-01"),
        ("2024-06-01T09:30:00+08:00", "2024-06-01T09:30+08:00"),
        ("2024-06-01T09:30:15Z", "2024-06-01T09:30:15+00:00"),
        ("2024/6/1 09:30", "2024-06-01T09:30"),
    ],
)
def test_parse_date(raw: str, iso: str) -> None:
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["", "On July 5th", "Plan (2023-2026)", "February 30, 2024", "no date here"])
def test_no_date(raw: str) -> None:
    assert parse_date(raw) is None
