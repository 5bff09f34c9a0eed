"""Business calendars: which instants count as working time for an SLA clock.

A calendar has an IANA time zone, working intervals per weekday (several a day,
for split shifts) and holidays (inclusive date ranges). Local wall-clock intervals
are turned into absolute instants day by day with `zoneinfo`, so a day that is 23
or 25 hours long across a daylight-saving change counts exactly the real time that
passes. A missing calendar means 24x7, where working time is plain elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

# Longest span searched for working time; a calendar with almost no working
# hours fails after this instead of looping for ever.
MAX_SEARCH_DAYS = 3 * 366
MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class WorkingInterval:
    """Local working hours of one weekday; `end` of None means midnight at day end."""

    start: time
    end: time | None

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"working interval {self.start}-{self.end} ends before it starts"
            )


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    # Weekday (0 is Monday) to its working intervals, sorted and not overlapping.
    hours: dict[int, tuple[WorkingInterval, ...]]
    # Inclusive (first, last) local dates without working time.
    holidays: tuple[tuple[date, date], ...] = ()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        for weekday, intervals in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(
                    f"weekday {weekday} is invalid; expected 0 (Monday) to 6"
                )
            ordered = sorted(intervals, key=lambda interval: interval.start)
            for earlier, later in pairwise(ordered):
                if earlier.end is None or earlier.end > later.start:
                    raise ValueError(f"working intervals of weekday {weekday} overlap")
        for first, last in self.holidays:
            if last < first:
                raise ValueError(
                    f"holiday range {first} to {last} ends before it starts"
                )
        if not any(self.hours.values()):
            raise ValueError("calendar has no working hours")

    def is_holiday(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.holidays)

    def _intervals_from(
        self, start: datetime, max_days: int = MAX_SEARCH_DAYS, *, strict: bool = True
    ) -> Iterator[tuple[datetime, datetime]]:
        """Yield absolute working intervals in order, from the local day of `start`.

        After `max_days` days it raises ValueError when `strict`, else it stops.
        """
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(max_days + 2):
            if not self.is_holiday(day):
                for interval in sorted(
                    self.hours.get(day.weekday(), ()), key=lambda i: i.start
                ):
                    begin = datetime.combine(day, interval.start, tzinfo=self.zone)
                    if interval.end is None:
                        end = datetime.combine(
                            day + timedelta(days=1), MIDNIGHT, tzinfo=self.zone
                        )
                    else:
                        end = datetime.combine(day, interval.end, tzinfo=self.zone)
                    yield begin.astimezone(UTC), end.astimezone(UTC)
            day += timedelta(days=1)
        if not strict:
            return
        raise ValueError(
            f"no working time found within {max_days} days of {start.isoformat()}"
        )

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the instant at which `duration` of working time after `start` has passed."""
        if duration < timedelta(0):
            raise ValueError(f"duration {duration} is negative")
        remaining = duration
        cursor = start.astimezone(UTC)
        for begin, end in self._intervals_from(start):
            if end <= cursor:
                continue
            begin = max(begin, cursor)
            available = end - begin
            if remaining <= available:
                # A zero duration on a closed day lands on the next opening.
                return begin + remaining
            remaining -= available
            cursor = end
        raise AssertionError("unreachable")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the working time in [start, end); zero when end is not after start."""
        total = timedelta(0)
        if end <= start:
            return total
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        span_days = (end.astimezone(UTC) - start.astimezone(UTC)).days + 2
        for begin, finish in self._intervals_from(start, span_days, strict=False):
            if begin >= end_utc:
                break
            overlap = min(finish, end_utc) - max(begin, start_utc)
            if overlap > timedelta(0):
                total += overlap
        return total


def add_working_time(
    calendar: BusinessCalendar | None, start: datetime, duration: timedelta
) -> datetime:
    """As BusinessCalendar.add_working_time, with None meaning 24x7."""
    if calendar is None:
        # Aware arithmetic within one zone is wall-clock arithmetic, so go via UTC.
        return start.astimezone(UTC) + duration
    return calendar.add_working_time(start, duration)


def working_time_between(
    calendar: BusinessCalendar | None, start: datetime, end: datetime
) -> timedelta:
    """As BusinessCalendar.working_time_between, with None meaning 24x7."""
    if calendar is None:
        return max(end.astimezone(UTC) - start.astimezone(UTC), timedelta(0))
    return calendar.working_time_between(start, end)


def weekly(
    timezone: str,
    weekdays: Sequence[int],
    start: time,
    end: time | None,
    holidays: Sequence[tuple[date, date]] = (),
) -> BusinessCalendar:
    """Build a calendar with the same working interval on each of `weekdays`."""
    interval = WorkingInterval(start, end)
    return BusinessCalendar(
        timezone, {day: (interval,) for day in weekdays}, tuple(holidays)
    )


def parse_clock(value: str, *, allow_end_of_day: bool = False) -> time | None:
    """Parse "HH:MM"; "24:00" (end of day) gives None when allowed."""
    if allow_end_of_day and value == "24:00":
        return None
    hours, sep, minutes = value.partition(":")
    if (
        not sep
        or len(hours) != 2
        or len(minutes) != 2
        or not (hours + minutes).isdigit()
    ):
        raise ValueError(f"time {value!r} is invalid; expected HH:MM")
    return time(int(hours), int(minutes))


def from_rows(
    timezone: str, hours: list[dict[str, object]], holidays: list[dict[str, object]]
) -> BusinessCalendar:
    """Build a calendar from its stored form (the jsonb columns of business_calendars).

    `hours` contains {"weekday": 1..7 (ISO, 1 is Monday), "start": "HH:MM", "end":
    "HH:MM" or "24:00"}; `holidays` contains {"first": date, "last": date, "name": ...}
    with ISO dates.
    """
    by_day: dict[int, list[WorkingInterval]] = {}
    for entry in hours:
        weekday = int(str(entry["weekday"])) - 1
        start = parse_clock(str(entry["start"]))
        assert start is not None
        by_day.setdefault(weekday, []).append(
            WorkingInterval(
                start, parse_clock(str(entry["end"]), allow_end_of_day=True)
            )
        )
    ranges = tuple(
        (
            date.fromisoformat(str(entry["first"])),
            date.fromisoformat(str(entry["last"])),
        )
        for entry in holidays
    )
    return BusinessCalendar(
        timezone, {day: tuple(intervals) for day, intervals in by_day.items()}, ranges
    )


async def load_calendar(
    conn: object, calendar_id: str | None
) -> BusinessCalendar | None:
    """Read a stored calendar; None (24x7) for no id. Raises KeyError for an unknown id."""
    if calendar_id is None:
        return None
    row = await conn.fetchrow(  # type: ignore[attr-defined]
        "SELECT timezone, hours, holidays FROM business_calendars WHERE id = $1",
        calendar_id,
    )
    if row is None:
        raise KeyError(calendar_id)
    return from_rows(row["timezone"], row["hours"], row["holidays"])
