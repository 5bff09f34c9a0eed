"""Validation of business calendars and calendar dates in requests.

`validate_calendar` checks every field of a SetCalendar request, naming its
path (for example `calendar.hours[2].end`), and returns the calendar in the
stored jsonb form that `assignment_engine.core.calendars.from_rows` reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise
from typing import Any

from assignment_engine.api.v1 import sla_monitor_pb2
from assignment_engine.core import calendars, validation
from assignment_engine.core.errors import InvalidArgument
from assignment_engine.sla_monitor.zones import ZONE_EXPECTED, is_iana_zone

MAX_HOURS_ENTRIES = 200
MAX_HOLIDAY_RANGES = 1000
MAX_HOLIDAY_NAME_LENGTH = 200
END_OF_DAY = "24:00"
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATE_EXPECTED = "a date as YYYY-MM-DD"


@dataclass(frozen=True)
class NewCalendar:
    id: str
    timezone: str
    # Sorted by weekday, then start.
    hours: list[dict[str, Any]]
    # Sorted by first day, then last day.
    holidays: list[dict[str, Any]]


@dataclass(frozen=True)
class _Interval:
    index: int
    weekday: int
    start: time
    # None for "24:00".
    end: time | None


def parse_day(field: str, value: str) -> date:
    """Parse a required "YYYY-MM-DD" date."""
    if not value:
        raise InvalidArgument(field, value, f"a required {DATE_EXPECTED}")
    if not DATE_PATTERN.match(value):
        raise InvalidArgument(field, value, DATE_EXPECTED)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(
            field, value, f"a valid calendar {DATE_EXPECTED}"
        ) from None


def _clock(field: str, value: str, *, end: bool) -> time | None:
    if end:
        expected = "a time as HH:MM, or 24:00 for the end of the day"
    else:
        expected = "a time as HH:MM from 00:00 to 23:59"
    if not value:
        raise InvalidArgument(field, value, f"a required {expected}")
    if not value.isascii():
        raise InvalidArgument(field, value, expected)
    try:
        return calendars.parse_clock(value, allow_end_of_day=end)
    except ValueError:
        raise InvalidArgument(field, value, expected) from None


def _interval(index: int, entry: sla_monitor_pb2.WorkingHours) -> _Interval:
    path = f"calendar.hours[{index}]"
    if not 1 <= entry.weekday <= 7:
        raise InvalidArgument(
            f"{path}.weekday", entry.weekday, "1 (Monday) to 7 (Sunday)"
        )
    start = _clock(f"{path}.start", entry.start, end=False)
    assert start is not None
    end = _clock(f"{path}.end", entry.end, end=True)
    if end is not None and end <= start:
        raise InvalidArgument(
            f"{path}.end", entry.end, f"a time after start {entry.start}, or 24:00"
        )
    return _Interval(index, entry.weekday, start, end)


def _reject_overlaps(intervals: list[_Interval]) -> None:
    """Raise InvalidArgument naming the later of two overlapping intervals of a day."""
    ordered = sorted(intervals, key=lambda i: (i.weekday, i.start, i.index))
    for earlier, later in pairwise(ordered):
        if earlier.weekday != later.weekday:
            continue
        if earlier.end is None or earlier.end > later.start:
            shown_end = END_OF_DAY if earlier.end is None else f"{earlier.end:%H:%M}"
            raise InvalidArgument(
                f"calendar.hours[{later.index}]",
                f"weekday {later.weekday} from {later.start:%H:%M}",
                f"no overlap with calendar.hours[{earlier.index}] "
                f"({earlier.start:%H:%M} to {shown_end})",
            )


def _holiday(index: int, entry: sla_monitor_pb2.HolidayRange) -> dict[str, Any]:
    path = f"calendar.holidays[{index}]"
    first = parse_day(f"{path}.first", entry.first)
    last = parse_day(f"{path}.last", entry.last)
    if last < first:
        raise InvalidArgument(
            f"{path}.last", entry.last, f"a date on or after first {entry.first}"
        )
    name = validation.optional_text(
        f"{path}.name", entry.name, max_length=MAX_HOLIDAY_NAME_LENGTH
    )
    return {"first": first.isoformat(), "last": last.isoformat(), "name": name}


def validate_calendar(request: sla_monitor_pb2.SetCalendarRequest) -> NewCalendar:
    """Validate a SetCalendar request; return the calendar in its stored form."""
    if not request.HasField("calendar"):
        raise InvalidArgument("calendar", None, "a required BusinessCalendar")
    calendar = request.calendar
    calendar_id = validation.require_id("calendar.id", calendar.id)
    if not calendar.timezone:
        raise InvalidArgument(
            "calendar.timezone", calendar.timezone, f"a required {ZONE_EXPECTED}"
        )
    if not is_iana_zone(calendar.timezone):
        raise InvalidArgument("calendar.timezone", calendar.timezone, ZONE_EXPECTED)

    if not calendar.hours:
        raise InvalidArgument(
            "calendar.hours", "no entries", "at least one WorkingHours entry"
        )
    if len(calendar.hours) > MAX_HOURS_ENTRIES:
        raise InvalidArgument(
            "calendar.hours",
            f"{len(calendar.hours)} entries",
            f"at most {MAX_HOURS_ENTRIES} entries",
        )
    intervals = [_interval(index, entry) for index, entry in enumerate(calendar.hours)]
    _reject_overlaps(intervals)

    if len(calendar.holidays) > MAX_HOLIDAY_RANGES:
        raise InvalidArgument(
            "calendar.holidays",
            f"{len(calendar.holidays)} ranges",
            f"at most {MAX_HOLIDAY_RANGES} ranges",
        )
    holidays = sorted(
        (_holiday(index, entry) for index, entry in enumerate(calendar.holidays)),
        key=lambda holiday: (holiday["first"], holiday["last"]),
    )

    hours = [
        {
            "weekday": interval.weekday,
            "start": f"{interval.start:%H:%M}",
            "end": END_OF_DAY if interval.end is None else f"{interval.end:%H:%M}",
        }
        for interval in sorted(intervals, key=lambda i: (i.weekday, i.start))
    ]
    # The checks above cover every rule of BusinessCalendar; building it keeps
    # the stored form readable by the code that counts working time.
    try:
        calendars.from_rows(calendar.timezone, hours, holidays)
    except ValueError as exc:
        raise InvalidArgument(
            "calendar", calendar_id, f"a valid calendar ({exc})"
        ) from None
    return NewCalendar(calendar_id, calendar.timezone, hours, holidays)
