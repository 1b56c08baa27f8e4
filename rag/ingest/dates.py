"""Date strings as they occur in scraped pages and metadata -> ISO 8601.

Kept apart from the loaders because news titles, `Release time:` lines, HTML <meta> tags and
JSONL `date` fields all need the same tolerant parser, and retrieval filters compare ISO strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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
    if "年" in s:  # '2023年07月19日' in a JSONL date field or a page: only Han text reaches this step
        news = parse_news_date(s)
        if news is not None and news.year is not None:
            return news.iso()
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


# ---------------------------------------------------------------------------- Chinese news prefixes
# The shapes Chinese news sites put before an article (CRUD-RAG's `<prefix>，正文：<body>` lines), read
# after NFKC so full-width digits and colons ('16：40') are ASCII. Tried in this order, first hit wins:
_TIME = r"(?:\s*T?\s*(?P<hour>\d{1,2})\s*[:时点]\s*(?P<minute>\d\d)(?:\s*[:分]\s*(?P<second>\d\d))?)?"
_NEWS_PATTERNS: tuple[re.Pattern[str], ...] = (
    # '2023-08-11 15:10', '[2023/07/20  16:52]', '2023年07月20日 18:14:59', '发布时间：2023-07-26 08:46:02'
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})(?!\d)"
               r"\s*日?" + _TIME),
    # '202307/25 05:01:02', '20230725': year and month run together
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)(?P<month>\d\d)[-/]?(?P<day>\d\d)(?!\d)" + _TIME),
    # '23-07-26 22:00': a two-digit year, only with dashes (23/07/26 could be day/month/year)
    re.compile(r"(?<![\d.])(?P<yy>\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\d.])" + _TIME),
    # '7月20日 16:03': no year
    re.compile(r"(?<!\d)(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日" + _TIME),
    # '07-20 22:43', '8-1 14:13', '08/16  13:50', '08/05': no year, month first as Chinese sites write it.
    # Anchored at the start (after brackets or spaces): '3-5' inside a source line is no date.
    re.compile(r"^[\s\[(]*(?P<month>\d{1,2})[-/](?P<day>\d{1,2})(?![\d/-])" + _TIME),
)


@dataclass(frozen=True)
class NewsDate:
    """A date read from a news prefix; `year` is None when the prefix leaves it out ('07-20 22:43')."""

    year: int | None
    month: int
    day: int
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    start: int = 0  # where the date was found in the NFKC form of the text, to cut it out of a source line
    end: int = 0

    def iso(self, year: int | None = None) -> str | None:
        """ISO 8601 as parse_date writes it, with `year` standing in for a missing one; None if still none."""
        y = self.year if self.year is not None else year
        if y is None:
            return None
        return _iso(y, self.month, self.day, self.hour, self.minute, self.second)


def _news_date(m: re.Match[str]) -> NewsDate | None:
    g = m.groupdict()
    year = int(g["year"]) if g.get("year") else (2000 + int(g["yy"]) if g.get("yy") else None)
    hour = int(g["hour"]) if g.get("hour") else None
    minute = int(g["minute"]) if g.get("minute") else None
    second = int(g["second"]) if g.get("second") else None
    found = NewsDate(year, int(g["month"]), int(g["day"]), hour, minute, second, m.start(), m.end())
    # 2024 is a leap year, so 02-29 without a year passes here and fails later only in a year without it
    if found.iso(year if year is not None else 2024) is None:
        return None
    return found


def parse_news_date(text: str) -> NewsDate | None:
    """The date in a Chinese news prefix ('[ 2023-07-28 16：40 ]', '07-20 22:43', '2023年07月19日 来自北京市'),
    else None. Looser than parse_date (two-digit and missing years), so meant for a prefix or a date field,
    never for running text; English dates are parse_date's."""
    s = unicodedata.normalize("NFKC", text)
    for pattern in _NEWS_PATTERNS:
        for m in pattern.finditer(s):
            found = _news_date(m)
            if found is not None:
                return found
    return None
