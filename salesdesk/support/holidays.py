"""China's public holidays and make-up working days (调休) as the State Council published
them, shipped in data/holidays.json for the admin's "load the published holidays"
button and the demo. A year is in the file only once its notice has been read; the
holiday list keeps every day of a break (weekends included) for display, though only
the weekdays among them change the working-time arithmetic.
"""

import json
from datetime import date
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "holidays.json"


def published_years() -> list[int]:
    """The years the file holds, oldest first."""
    return sorted(int(year) for year in _load())


def published(year: int) -> dict:
    """One year: {"source": notice title and date, "holidays": [(date, name)], "workdays":
    [(date, name)]}, sorted by date. KeyError for a year not in the file."""
    entry = _load()[str(year)]
    return {
        "source": entry["source"],
        "holidays": _days(entry["holidays"]),
        "workdays": _days(entry["workdays"]),
    }


def _days(pairs: list[list[str]]) -> list[tuple[date, str]]:
    return sorted((date.fromisoformat(day), name) for day, name in pairs)


@cache
def _load() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))
