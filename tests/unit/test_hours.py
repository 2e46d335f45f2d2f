"""Business-hours schedules: a table of instants, and config mistakes named precisely."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import InvalidInput
from hub.hours import parse_schedule

OFFICE = {
    "timezone": "Europe/London",
    "weekly": {"mon-fri": "09:00-12:30, 13:30-17:30", "sat": "22:00-02:00"},
    "holidays": ["2026-12-25"],
}


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        ("2026-11-23T08:59", False),  # Monday, London = UTC in winter
        ("2026-11-23T09:00", True),
        ("2026-11-23T12:30", False),  # lunch
        ("2026-11-23T13:30", True),
        ("2026-11-23T17:29", True),
        ("2026-11-23T17:30", False),
        ("2026-06-01T08:30", True),  # summer time: 09:30 in London
        ("2026-06-01T16:45", False),  # 17:45 in London
        ("2026-12-25T10:00", False),  # Friday, a holiday
        ("2026-11-28T23:00", True),  # Saturday night shift ...
        ("2026-11-29T01:59", True),  # ... runs into Sunday
        ("2026-11-29T02:00", False),
        ("2026-11-29T12:00", False),  # Sunday
        ("2026-12-26T23:30", True),  # the day after a holiday opens as usual
    ],
)
def test_schedule_is_open_at_these_instants(utc: str, is_open: bool) -> None:
    schedule = parse_schedule("office", OFFICE)
    assert schedule.is_open(datetime.fromisoformat(utc).replace(tzinfo=UTC)) is is_open


def test_a_night_shift_ending_on_a_holiday_still_runs_from_the_day_before() -> None:
    schedule = parse_schedule(
        "night", {"weekly": {"thu": "22:00-06:00"}, "holidays": ["2026-12-25"]}
    )
    # Thursday 24 Dec 23:00 UTC and Friday 25 Dec 05:00 belong to Thursday's shift.
    assert schedule.is_open(datetime(2026, 12, 24, 23, tzinfo=UTC))
    assert schedule.is_open(datetime(2026, 12, 25, 5, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 12, 25, 6, tzinfo=UTC))


def test_24_00_ends_a_day_and_closed_means_closed() -> None:
    schedule = parse_schedule("s", {"weekly": {"mon": "00:00-24:00", "tue": "closed"}})
    assert schedule.is_open(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"timezone": "Mars/Base"}, "business_hours.s.timezone: unknown time zone 'Mars/Base'"),
        ({"weekly": {"mon": "9-17"}}, "business_hours.s.weekly.mon: '9-17' is not a span"),
        ({"weekly": {"mon": "09:00-25:00"}}, "'09:00-25:00' is not a valid time of day"),
        ({"weekly": {"fri-mon": "09:00-17:00"}}, "'fri-mon' runs backwards"),
        ({"weekly": {"mon-fri": "09:00-17:00", "wed": "closed"}}, "wed is given twice"),
        ({"weekly": {"monday": "09:00-17:00"}}, "'monday' is not a day"),
        ({"weekly": {"mon": 9}}, "business_hours.s.weekly.mon: must be hours"),
        ({"holidays": ["25/12/2026"]}, "'25/12/2026' is not a date"),
        ({"holidays": "2026-12-25"}, "business_hours.s.holidays: must be a list"),
        ({"hours": {}}, "unknown key(s) hours"),
        ("9 to 5", "business_hours.s: must be a mapping"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(raw: object, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_schedule("s", raw)
    assert message in str(raised.value)
