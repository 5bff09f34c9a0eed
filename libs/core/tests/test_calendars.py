"""Working-time arithmetic across weekends, holidays and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from assignment_engine.core.calendars import (
    BusinessCalendar,
    WorkingInterval,
    add_working_time,
    weekly,
    working_time_between,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
RIYADH = ZoneInfo("Asia/Riyadh")
ALWAYS_NEW_YORK = weekly("America/New_York", range(7), time(0), None)
LONDON_OFFICE = weekly("Europe/London", range(5), time(9), time(17))
SUNDAY_TO_THURSDAY = [6, 0, 1, 2, 3]


def test_24x7__spring_forward_deadline_counts_real_hours() -> None:
    received = datetime(2025, 3, 8, 23, 30, tzinfo=NEW_YORK)

    deadline = ALWAYS_NEW_YORK.add_working_time(received, timedelta(hours=6))
    warning = ALWAYS_NEW_YORK.add_working_time(received, timedelta(hours=6) * 0.75)

    assert deadline == datetime(2025, 3, 9, 10, 30, tzinfo=UTC)
    assert deadline.astimezone(NEW_YORK).strftime("%H:%M %Z") == "06:30 EDT"
    assert warning == datetime(2025, 3, 9, 9, 0, tzinfo=UTC)
    assert warning.astimezone(NEW_YORK).strftime("%H:%M %Z") == "05:00 EDT"


def test_24x7__no_calendar_is_plain_elapsed_time() -> None:
    received = datetime(2025, 3, 8, 23, 30, tzinfo=NEW_YORK)

    assert add_working_time(None, received, timedelta(hours=6)) == datetime(
        2025, 3, 9, 10, 30, tzinfo=UTC
    )


def test_office_hours__friday_afternoon_item_is_due_monday_morning() -> None:
    received = datetime(2025, 6, 13, 16, 15, tzinfo=LONDON)

    deadline = LONDON_OFFICE.add_working_time(received, timedelta(hours=2))

    assert deadline.astimezone(LONDON) == datetime(2025, 6, 16, 10, 15, tzinfo=LONDON)


def test_office_hours__weekend_holds_no_working_time() -> None:
    friday_close = datetime(2025, 6, 13, 17, 0, tzinfo=LONDON)
    monday_open = datetime(2025, 6, 16, 9, 0, tzinfo=LONDON)

    assert LONDON_OFFICE.working_time_between(friday_close, monday_open) == timedelta(0)


def test_holiday__riyadh_thursday_item_skips_weekend_and_sunday_holiday() -> None:
    calendar = weekly(
        "Asia/Riyadh",
        SUNDAY_TO_THURSDAY,
        time(8),
        time(16),
        [(date(2025, 6, 15), date(2025, 6, 15))],
    )
    received = datetime(2025, 6, 12, 15, 0, tzinfo=RIYADH)

    deadline = calendar.add_working_time(received, timedelta(hours=3))

    assert deadline.astimezone(RIYADH) == datetime(2025, 6, 16, 10, 0, tzinfo=RIYADH)


def test_split_shift__counts_both_intervals() -> None:
    calendar = BusinessCalendar(
        "Europe/London",
        {0: (WorkingInterval(time(8), time(12)), WorkingInterval(time(13), time(17)))},
    )
    start = datetime(2025, 6, 16, 11, 0, tzinfo=LONDON)

    assert calendar.add_working_time(start, timedelta(hours=2)).astimezone(
        LONDON
    ) == datetime(2025, 6, 16, 14, 0, tzinfo=LONDON)


def test_fall_back__a_25_hour_day_counts_25_hours() -> None:
    start = datetime(2025, 11, 2, 0, 0, tzinfo=NEW_YORK)
    end = datetime(2025, 11, 3, 0, 0, tzinfo=NEW_YORK)

    assert ALWAYS_NEW_YORK.working_time_between(start, end) == timedelta(hours=25)


def test_received_outside_hours__clock_starts_at_opening() -> None:
    saturday = datetime(2025, 6, 14, 12, 0, tzinfo=LONDON)

    assert LONDON_OFFICE.add_working_time(saturday, timedelta(minutes=30)).astimezone(
        LONDON
    ) == datetime(2025, 6, 16, 9, 30, tzinfo=LONDON)


def test_remaining_time__same_instant_whatever_the_client_zone() -> None:
    deadline = LONDON_OFFICE.add_working_time(
        datetime(2025, 6, 13, 16, 15, tzinfo=LONDON), timedelta(hours=2)
    )
    now_tokyo = datetime(2025, 6, 16, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    now_utc = now_tokyo.astimezone(UTC)

    assert deadline - now_tokyo == deadline - now_utc


def test_working_time_between__is_the_inverse_of_add() -> None:
    start = datetime(2025, 3, 7, 15, 0, tzinfo=NEW_YORK)
    calendar = weekly("America/New_York", range(5), time(9), time(17))

    end = calendar.add_working_time(start, timedelta(hours=13))

    assert working_time_between(calendar, start, end) == timedelta(hours=13)


@pytest.mark.parametrize(
    "build",
    [
        lambda: BusinessCalendar(
            "Mars/Olympus", {0: (WorkingInterval(time(9), time(17)),)}
        ),
        lambda: BusinessCalendar("UTC", {}),
        lambda: BusinessCalendar("UTC", {7: (WorkingInterval(time(9), time(17)),)}),
        lambda: BusinessCalendar(
            "UTC",
            {
                0: (
                    WorkingInterval(time(9), time(12)),
                    WorkingInterval(time(11), time(13)),
                )
            },
        ),
        lambda: WorkingInterval(time(17), time(9)),
        lambda: weekly(
            "UTC", [0], time(9), time(17), [(date(2025, 1, 2), date(2025, 1, 1))]
        ),
    ],
    ids=[
        "unknown_zone",
        "no_hours",
        "bad_weekday",
        "overlap",
        "reversed_interval",
        "reversed_holiday",
    ],
)
def test_calendar__invalid_definitions_are_rejected(build: object) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError or ValueError
        build()  # type: ignore[operator]


def test_calendar__only_holidays_ahead_fails_instead_of_looping() -> None:
    calendar = weekly(
        "UTC", [0], time(9), time(17), [(date(2025, 1, 1), date(2030, 12, 31))]
    )

    with pytest.raises(ValueError, match="no working time"):
        calendar.add_working_time(datetime(2025, 1, 1, tzinfo=UTC), timedelta(hours=1))


def test_working_time_between__spans_longer_than_the_search_limit() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 1, tzinfo=UTC)

    assert ALWAYS_NEW_YORK.working_time_between(start, end) == end - start


def test_working_time_between__ending_in_a_long_holiday_counts_up_to_it() -> None:
    calendar = weekly(
        "UTC", range(7), time(9), time(17), [(date(2025, 1, 2), date(2025, 1, 20))]
    )
    start = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    end = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

    assert calendar.working_time_between(start, end) == timedelta(hours=8)
