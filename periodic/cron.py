"""Cron expressions and their slots in an IANA time zone, right across daylight-saving changes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
#: (name, lowest, highest, names) of the five fields; day of week 7 is Sunday too.
FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, MONTH_NAMES),
    ("day of week", 0, 7, DAY_NAMES),
)
ONE_MINUTE = timedelta(minutes=1)
#: How far ahead a slot is looked for before an expression is declared impossible (e.g. 30 Feb).
SEARCH_DAYS = 366 * 8


class CronError(ValueError):
    """A cron expression that cannot be parsed or never fires."""


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression; `next_after` finds its slots in a zone."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """Parse `expression` (five fields, or a macro like @weekly); CronError says what is wrong."""
        text = MACROS.get(expression.strip().lower(), expression.strip())
        fields = text.split()
        if len(fields) != 5:
            raise CronError(f"{expression!r} has {len(fields)} fields; a cron expression has 5.")
        values = [_parse_field(f, *spec) for f, spec in zip(fields, FIELDS, strict=True)]
        minutes, hours, days, months, weekdays = values
        cron = cls(
            expression=expression.strip(),
            minutes=frozenset(minutes),
            hours=frozenset(hours),
            days=frozenset(days),
            months=frozenset(months),
            weekdays=frozenset(d % 7 for d in weekdays),
            days_restricted=fields[2] != "*",
            weekdays_restricted=fields[4] != "*",
        )
        cron.next_after(datetime(2000, 1, 1, tzinfo=UTC), ZoneInfo("UTC"))  # raises if it never fires
        return cron

    def matches_day(self, day: date) -> bool:
        """True when the expression fires on `day` (cron's rule: day of month OR weekday if both set)."""
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first slot strictly after `after`, in UTC (aware times in one zone compare by wall clock).

        Slots are wall-clock times in `zone`. One in a spring-forward gap fires when the gap ends
        (a daily 02:30 job runs at 03:00 that day, it is not skipped); one in a repeated hour fires
        once, at its first occurrence.
        """
        local = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self.matches_day(day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    fire = resolve(datetime.combine(day, time(hour, minute)), zone).astimezone(UTC)
                    if fire > after:
                        return fire
        raise CronError(f"{self.expression!r} never fires.")

    def to_periodiq(self) -> str:
        """The same schedule in the plain numeric form periodiq's own parser reads."""
        fields = (
            (self.minutes, range(60), True),
            (self.hours, range(24), True),
            (self.days, range(1, 32), self.days_restricted),
            (self.months, range(1, 13), True),
            (self.weekdays, range(7), self.weekdays_restricted),
        )
        return " ".join(
            ",".join(map(str, sorted(values))) if restricted and values != frozenset(whole) else "*"
            for values, whole, restricted in fields
        )


def resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant a naive wall-clock time in `zone` stands for.

    A repeated time (clocks set back) is its first occurrence; a time that does not exist (clocks
    set forward over it) is the end of the gap, the first instant whose wall clock is later.
    """
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return aware
    # With fold=0 a missing time reads with the offset before the jump, which lands after the gap:
    # walk back to the jump itself (gaps are whole minutes and at most a few hours long).
    while (instant - ONE_MINUTE).astimezone(zone).replace(tzinfo=None) > local:
        instant -= ONE_MINUTE
    return instant.astimezone(zone)


def _parse_field(text: str, name: str, lowest: int, highest: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        values |= _parse_part(part, name, lowest, highest, names)
    return values


def _parse_part(part: str, name: str, lowest: int, highest: int, names: dict[str, int]) -> set[int]:
    body, _, step_text = part.partition("/")
    step = _number(step_text, name, names) if step_text else 1
    if step < 1:
        raise CronError(f"The step in {part!r} ({name}) must be at least 1.")
    if body == "*":
        start, end = lowest, highest
    elif "-" in body:
        first, _, last = body.partition("-")
        start, end = _number(first, name, names), _number(last, name, names)
    else:
        start = _number(body, name, names)
        end = highest if step_text else start
    if not (lowest <= start <= highest and lowest <= end <= highest) or start > end:
        raise CronError(f"{part!r} is out of range for the {name} field ({lowest}-{highest}).")
    return set(range(start, end + 1, step))


def _number(text: str, name: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"{text!r} is not a valid {name}.")
    return int(text)
