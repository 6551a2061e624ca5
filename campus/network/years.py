"""The years the network plans in, and reading a year someone typed (one rule for every page)."""

from __future__ import annotations

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def parse_year(text: str | None) -> int | None:
    """The year in `text`, or None unless it is 2000–2100 in ASCII digits (`²` passes
    str.isdigit and a 5,000-digit number is too long for int(): both are refused here)."""
    if not text or len(text) > 4 or not text.isascii() or not text.isdigit():
        return None
    year = int(text)
    return year if EARLIEST_YEAR <= year <= LATEST_YEAR else None
