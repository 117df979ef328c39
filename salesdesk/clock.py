"""The one source of "now". Tests set it; nothing else calls datetime.now()."""

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen or datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at an aware datetime, or unfreeze it with None."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock takes aware datetimes")
    global _frozen
    _frozen = moment.astimezone(UTC) if moment else None
