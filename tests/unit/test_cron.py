"""Next-slot arithmetic: expressions × zones, Sunday as 0 and 7, month ends, both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from periodic.cron import Cron, CronError

PARIS = ZoneInfo("Europe/Paris")
MOSCOW = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def slots(expression: str, after: datetime, zone: ZoneInfo, count: int) -> list[datetime]:
    cron, found = Cron.parse(expression), []
    for _ in range(count):
        after = cron.next_after(after, zone)
        found.append(after)
    return found


@pytest.mark.parametrize(
    ("expression", "after", "zone", "expected"),
    [
        ("*/30 * * * *", utc(2026, 11, 22, 10, 0), UTC, utc(2026, 11, 22, 10, 30)),
        ("*/30 * * * *", utc(2026, 11, 22, 10, 29, 59), UTC, utc(2026, 11, 22, 10, 30)),
        ("0 3 * * *", utc(2026, 11, 22, 3, 0), UTC, utc(2026, 11, 23, 3, 0)),
        ("0 3 * * *", utc(2026, 11, 22, 0, 0), MOSCOW, utc(2026, 11, 23, 0, 0)),  # 03:00 MSK = 00:00 UTC
        ("0 1 * * *", utc(2026, 6, 1, 0, 0), PARIS, utc(2026, 6, 1, 23, 0)),  # 01:00 CEST
        ("0 9 * * 0", utc(2026, 11, 18), UTC, utc(2026, 11, 22, 9, 0)),  # Sunday as 0
        ("0 9 * * 7", utc(2026, 11, 18), UTC, utc(2026, 11, 22, 9, 0)),  # Sunday as 7
        ("0 9 * * sun", utc(2026, 11, 18), UTC, utc(2026, 11, 22, 9, 0)),
        ("0 9 * * mon-fri", utc(2026, 11, 21), UTC, utc(2026, 11, 23, 9, 0)),  # Saturday → Monday
        ("@weekly", utc(2026, 11, 22, 0, 0), UTC, utc(2026, 11, 29, 0, 0)),
        ("@weekly", utc(2026, 11, 21, 23, 59), UTC, utc(2026, 11, 22, 0, 0)),
        ("@monthly", utc(2026, 1, 31, 12), UTC, utc(2026, 2, 1, 0, 0)),
        ("0 0 31 * *", utc(2026, 1, 31, 12), UTC, utc(2026, 3, 31, 0, 0)),  # February has no 31st
        ("0 0 29 2 *", utc(2026, 3, 1), UTC, utc(2028, 2, 29, 0, 0)),  # the next leap day
        ("0 0 1 jan *", utc(2026, 11, 22), UTC, utc(2027, 1, 1, 0, 0)),
        ("0 12 13 * 5", utc(2026, 11, 1), UTC, utc(2026, 11, 6, 12, 0)),  # 13th OR Friday
        ("15 10-12/2 * * *", utc(2026, 11, 22, 10, 15), UTC, utc(2026, 11, 22, 12, 15)),
    ],
)
def test_next_slot(expression, after, zone, expected):
    assert Cron.parse(expression).next_after(after, zone) == expected


def test_a_daily_job_in_the_skipped_hour_of_spring_forward_runs_when_the_gap_ends():
    # Paris, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    found = slots("30 2 * * *", utc(2026, 3, 28, 12), PARIS, 3)

    assert [s.astimezone(PARIS).strftime("%d %H:%M %Z") for s in found] == [
        "29 03:00 CEST",
        "30 02:30 CEST",
        "31 02:30 CEST",
    ]


def test_a_daily_job_is_not_skipped_or_doubled_on_either_change_day():
    spring = slots("0 1 * * *", utc(2026, 3, 27, 12), PARIS, 4)
    autumn = slots("30 2 * * *", utc(2026, 10, 23, 12), PARIS, 4)

    assert [s.astimezone(PARIS).strftime("%d %H:%M") for s in spring] == [
        "28 01:00",
        "29 01:00",
        "30 01:00",
        "31 01:00",
    ]
    assert [s.astimezone(PARIS).strftime("%d %H:%M") for s in autumn] == [
        "24 02:30",
        "25 02:30",
        "26 02:30",
        "27 02:30",
    ]


def test_the_repeated_hour_of_fall_back_runs_each_wall_clock_slot_once():
    # Paris, 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:00–02:59 happens twice.
    found = slots("*/30 * * * *", utc(2026, 10, 24, 23, 45), PARIS, 5)  # 01:45 CEST

    assert [s.astimezone(PARIS).strftime("%H:%M %Z") for s in found] == [
        "02:00 CEST",
        "02:30 CEST",
        "03:00 CET",
        "03:30 CET",
        "04:00 CET",
    ]
    assert found[2] - found[1] == utc(2026, 1, 1, 1, 30) - utc(2026, 1, 1, 0, 0)  # 90 real minutes


def test_new_york_changes_on_other_dates_and_hourly_slots_stay_hourly_in_real_time():
    found = slots("0 * * * *", utc(2026, 3, 8, 5, 30), NEW_YORK, 3)  # 00:30 EST on the change day

    assert [s.astimezone(NEW_YORK).strftime("%H:%M %Z") for s in found] == [
        "01:00 EST",
        "03:00 EDT",
        "04:00 EDT",
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "has 4 fields"),
        ("60 * * * *", "out of range for the minute field"),
        ("* 24 * * *", "out of range for the hour field"),
        ("* * 0 * *", "out of range for the day of month field"),
        ("* * * 13 *", "out of range for the month field"),
        ("* * * * 8", "out of range for the day of week field"),
        ("*/0 * * * *", "must be at least 1"),
        ("five * * * *", "'five' is not a valid minute"),
        ("0 0 30 2 *", "never fires"),
    ],
)
def test_a_bad_expression_says_what_is_wrong(expression, message):
    with pytest.raises(CronError, match=message):
        Cron.parse(expression)


def test_periodiq_gets_the_same_schedule_in_its_numeric_form():
    from periodiq import cron

    assert Cron.parse("*/30 * * * *").to_periodiq() == "0,30 * * * *"
    assert Cron.parse("0 9 * * sun").to_periodiq() == "0 9 * * 0"
    assert cron(Cron.parse("0 3 1 jan *").to_periodiq()).validate(datetime(2027, 1, 1, 3, 0))
