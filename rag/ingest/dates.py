"""Date strings as they occur in scraped pages and metadata -> ISO 8601.

Kept apart from the loaders because news titles, `Release time:` lines, HTML <meta> tags and
JSONL `date` fields all need the same tolerant parser, and retrieval filters compare ISO strings.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from rag.lexicon import MONTH_NUMBERS

_MONTH_RE = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))

# "May 09, 2024 16:30 PM", "April 08,2024", "Dec. 17th 2024"
MONTH_DAY_YEAR = re.compile(
    rf"\b(?P<month>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<year>(?:19|20)\d\d)\b"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d\d)(?::(?P<second>\d\d))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?",
    re.IGNORECASE,
)
# "09 May 2024"
DAY_MONTH_YEAR = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{_MONTH_RE})\.?,?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE
)
# "2024-05-09", "2024/05/09 16:30"
YMD = re.compile(
    r"\b(?P<year>(?:19|20)\d\d)[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"
    r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d\d)(?::(?P<second>\d\d))?)?"
)


def _hour_24(hour: int, ampm: str | None) -> int:
    """Apply AM/PM only where it makes sense: scraped sites write '16:30 PM', which is already 24h."""
    if not ampm or hour > 12:
        return hour
    pm = ampm.lower().startswith("p")
    if pm and hour < 12:
        return hour + 12
    if not pm and hour == 12:
        return 0
    return hour


def _iso(year: int, month: int, day: int, hour: int | None, minute: int | None, second: int | None) -> str | None:
    try:
        if hour is None:
            return date(year, month, day).isoformat()
        dt = datetime(year, month, day, hour, minute or 0, second or 0)
    except ValueError:  # 31 February, 25:00 ...: not a date, so no date rather than a wrong one
        return None
    return dt.isoformat(timespec="seconds" if second else "minutes")


def _from_match(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    month = g["month"]
    month_n = int(month) if month.isdigit() else MONTH_NUMBERS[month.lower().rstrip(".")]
    hour = g.get("hour")
    h = _hour_24(int(hour), g.get("ampm")) if hour else None
    minute = int(g["minute"]) if g.get("minute") else None
    second = int(g["second"]) if g.get("second") else None
    return _iso(int(g["year"]), month_n, int(g["day"]), h, minute, second)


def parse_date(text: str) -> str | None:
    """The first date found in `text` as ISO 8601 ('2024-05-09' or '2024-05-09T16:30'), else None.

    ISO strings with a time zone ('2024-05-09T16:30:00+08:00', '...Z') are kept with their offset.
    """
    s = text.strip()
    if not s:
        return None
    try:  # full ISO first: it is what <meta> tags and JSON exports usually carry
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        pass
    else:
        if len(s) <= 10:
            return dt.date().isoformat()
        return dt.isoformat(timespec="seconds" if dt.second else "minutes")
    for pattern in (MONTH_DAY_YEAR, YMD, DAY_MONTH_YEAR):
        m = pattern.search(s)
        if m:
            found = _from_match(m)
            if found:
                return found
    return None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_day(value: str | None, name: str = "date") -> str | None:
    """A user-given day ('2024-03-03') checked strictly, or None when empty; ValueError says how to fix it.

    The one check behind every date a user types (CLI --since/--until, API filters and uploads, MCP).
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if not _ISO_DAY.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD (e.g. 2024-03-03), got {value!r}") from None
    return value
