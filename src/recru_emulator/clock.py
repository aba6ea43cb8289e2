"""The tenant's clock: real UTC time that tests can freeze, advance and release (spec §8).

RECRU timestamps carry whole seconds, so the clock answers in whole seconds too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: str) -> datetime:
    """An ISO 8601 timestamp with an offset (``Z`` or ``±HH:MM``) → aware UTC; ValueError otherwise (also for one
    whose UTC time falls outside years 1..9999)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("timestamp without an offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{value} is outside years 1..9999 in UTC") from error


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
        self._frozen = moment.astimezone(UTC)

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += timedelta(seconds=seconds)
        else:
            self._offset += timedelta(seconds=seconds)

    def release(self) -> None:
        """Back to the real time (also after an advance)."""
        self._frozen = None
        self._offset = timedelta()
