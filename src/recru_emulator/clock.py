"""The tenant's clock: real UTC time that tests can freeze, advance and release (spec §8).

RECRU timestamps carry whole seconds, so the clock answers in whole seconds too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

TIMESTAMP_RE = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", re.ASCII)
"""The extended form RFC 3339 allows, and no other of ISO 8601's (``20250101T000000Z``, week dates, ``+0100``)."""


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # years < 1000 padded


HEADROOM = timedelta(days=2)
"""Room a moment must leave before the end of year 9999: the tenant stamps times after the clock's (a token's
expiry an hour later, a read's ``updatedSince`` plus a second), and none may overflow."""


def parse_ts(value: object) -> datetime:
    """A timestamp ``YYYY-MM-DDTHH:MM:SS[.fraction]`` with an offset (``Z`` or ``±HH:MM``) → aware UTC; ValueError
    otherwise (also for a value that is not a string, for ISO 8601's other forms, and for one whose UTC time falls
    outside years 1..9999 or within ``HEADROOM`` of its end)."""
    if not isinstance(value, str):
        raise ValueError(f"a timestamp is a string, not {type(value).__name__}")
    if not TIMESTAMP_RE.fullmatch(value):
        raise ValueError(f"{value} is not YYYY-MM-DDTHH:MM:SS with an offset")
    moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows a lower-case "t" and "z"
    try:
        return with_headroom(moment.astimezone(UTC))
    except OverflowError as error:
        raise ValueError(f"{value} is outside years 1..9999 in UTC, or too close to their end") from error


def with_headroom(moment: datetime) -> datetime:
    """``moment``, checked to leave ``HEADROOM`` before the end of year 9999 (OverflowError if not)."""
    if moment > datetime.max.replace(tzinfo=UTC) - HEADROOM:
        raise OverflowError(f"{moment} is too close to the end of year 9999")
    return moment


class TenantClock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        moment = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
        return moment.replace(microsecond=0)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now_ts(self) -> str:
        return format_ts(self.now())

    def freeze(self, moment: datetime) -> None:
        """Stop the clock at ``moment``; OverflowError (nothing changed) without ``HEADROOM`` after it."""
        self._frozen = with_headroom(moment.astimezone(UTC))

    def advance(self, seconds: float) -> None:
        """Move the clock on; OverflowError (nothing changed) if it would leave less than ``HEADROOM``."""
        step = timedelta(seconds=seconds)
        with_headroom(self.now() + step)
        if self._frozen is not None:
            self._frozen += step
        else:
            self._offset += step

    def release(self) -> None:
        """Back to the real time (also after an advance)."""
        self._frozen = None
        self._offset = timedelta()
