"""Turn a month or year named in a question ("in May 2024", "during 2023") into a date filter.

Only explicit calendar mentions count: "last year" or "recently" are relative to a date the
documents do not share, so they never set a filter. The caller shows the user the filter it set.

Chinese mentions (2023年7月, 2022年) deliberately set none (issue 32): in the Chinese news questions every
year or month names the period a figure belongs to (2022年营收, 截至2023年6月30日), which the article
reports a month or a year later, so a filter on it would hide the very article asked about.
"""

from __future__ import annotations

import calendar
import re

from rag.lexicon import QUESTION_MONTH_NUMBERS
from rag.models import SearchFilters

_MONTH_RE = "|".join(sorted(QUESTION_MONTH_NUMBERS, key=len, reverse=True))
_MONTH_YEAR = re.compile(rf"\b(?:in|during|of|from)\s+({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:in|during|of)\s+((?:19|20)\d\d)\b(?!\s*(?:-|to)\s*\d)", re.IGNORECASE)
_BARE_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE)


def date_filter_from_question(question: str) -> SearchFilters | None:
    """A filter for the month or year the question names, or None."""
    m = _MONTH_YEAR.search(question) or _BARE_MONTH_YEAR.search(question)
    if m:
        month, year = QUESTION_MONTH_NUMBERS[m.group(1).lower()], int(m.group(2))
        last = calendar.monthrange(year, month)[1]
        return SearchFilters(since=f"{year}-{month:02d}-01", until=f"{year}-{month:02d}-{last:02d}", include_undated=True, automatic=True)
    y = _YEAR.search(question)
    if y:
        return SearchFilters(since=f"{y.group(1)}-01-01", until=f"{y.group(1)}-12-31", include_undated=True, automatic=True)
    return None
