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
    with pytest.raises(BadQuery, match="`updated_after` must be an ISO 8601 date or date-time"):
        parse_instant("updated_after", value)


def test_an_offset_sent_unescaped_is_named() -> None:
    with pytest.raises(BadQuery, match="%2B"):
        parse_instant("updated_after", "2026-12-07T21:10:41 02:00")
