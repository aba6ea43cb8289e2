"""The instants list filters take (``updated_after``, ``remote_created_after``): RFC 3339 dates and date-times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atsbridge.api.params import parse_instant
from atsbridge.store.reader import BadQuery


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2026-12-07", datetime(2026, 12, 7, tzinfo=UTC)),
        ("2026-12-07T21:10:41Z", datetime(2026, 12, 7, 21, 10, 41, tzinfo=UTC)),
        ("2026-12-07t21:10:41.5z", datetime(2026, 12, 7, 21, 10, 41, 500000, tzinfo=UTC)),
        ("2026-12-07T23:10:41.123456+02:00", datetime(2026, 12, 7, 21, 10, 41, 123456, tzinfo=UTC)),
        ("2026-12-07T21:10:41", datetime(2026, 12, 7, 21, 10, 41, tzinfo=UTC)),
        ("2026-12-07 21:10", datetime(2026, 12, 7, 21, 10, tzinfo=UTC)),
        ("2026-12-07T21:10:41.123456789Z", datetime(2026, 12, 7, 21, 10, 41, 123456, tzinfo=UTC)),
        # as Python writes a historical zone's offset (Amsterdam's local mean time)
        ("1900-01-01T00:19:32+00:19:32", datetime(1900, 1, 1, tzinfo=UTC)),
        # beyond the calendar's ends in UTC: its first or last microsecond
        ("9999-12-31T23:00:00-05:00", datetime.max.replace(tzinfo=UTC)),
        ("0001-01-01T00:00:00+05:00", datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_dates_and_date_times_are_read_in_utc(value: str, instant: datetime) -> None:
    assert parse_instant("updated_after", value) == instant


@pytest.mark.parametrize(
    "value",
    ["2026-W50-1", "20261207", "2026-12-07T21Z", "2026-12-07T21:10:41+0200", "2026-12-07T21:10:41+02",
     "2026-12-07T21:10:41.Z", "2026-13-01", "yesterday", "2026-12-07T21:10:41 02:00"],
)  # fmt: skip
def test_other_forms_are_refused(value: str) -> None:
    with pytest.raises(BadQuery, match=r"`updated_after` must be a date or date-time \(RFC 3339: YYYY-MM-DD, or "):
        parse_instant("updated_after", value)


def test_an_offset_sent_unescaped_is_named() -> None:
    with pytest.raises(BadQuery, match="%2B"):
        parse_instant("updated_after", "2026-12-07T21:10:41 02:00")
    with pytest.raises(BadQuery) as no_offset:
        parse_instant("updated_after", "2026-12-07T21:10:41 Z")
    assert "%2B" not in str(no_offset.value)


def test_a_bound_that_takes_its_instant_rounds_beyond_a_microsecond_up() -> None:
    """``remote_created_after`` is on or after: a record stamped at .000000 is before .000000999."""
    value = "2023-01-22T00:37:53.000000999Z"
    assert parse_instant("remote_created_after", value, round_up=True) == datetime(
        2023, 1, 22, 0, 37, 53, 1, tzinfo=UTC
    )
    assert parse_instant("updated_after", value) == datetime(2023, 1, 22, 0, 37, 53, tzinfo=UTC)  # strictly after
    assert parse_instant("remote_created_after", "2023-01-22T00:37:53.000001000Z", round_up=True) == datetime(
        2023, 1, 22, 0, 37, 53, 1, tzinfo=UTC
    )
