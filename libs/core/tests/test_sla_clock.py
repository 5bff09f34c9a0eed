"""Pausing and resuming SLA clocks, around the clock and on office hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from assignment_engine.core.calendars import weekly, working_time_between
from assignment_engine.core.sla_clock import compute_deadlines, resume

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def test_resume__returned_after_ten_hours_has_three_hours_left() -> None:
    clock = compute_deadlines(T0, timedelta(hours=4), 0.75)
    paused_since = T0 + timedelta(hours=1)
    returned_at = paused_since + timedelta(hours=10)

    resumed = resume(None, paused_since, returned_at, clock.warning_at, clock.deadline)

    assert resumed.deadline - returned_at == timedelta(hours=3)
    assert resumed.warning_at - returned_at == timedelta(hours=2)
    assert resumed.paused == timedelta(hours=10)


def test_resume__two_active_hours_then_four_days_on_hold_leaves_six_hours() -> None:
    clock = compute_deadlines(T0, timedelta(hours=8), 0.75)
    paused_since = T0 + timedelta(hours=2)
    resumed_at = paused_since + timedelta(days=4)

    resumed = resume(None, paused_since, resumed_at, clock.warning_at, clock.deadline)

    assert resumed.deadline == resumed_at + timedelta(hours=6)
    assert working_time_between(None, T0, resumed_at) - resumed.paused == timedelta(
        hours=2
    )


def test_resume__times_already_passed_stay() -> None:
    clock = compute_deadlines(T0, timedelta(hours=4), 0.5)
    paused_since = T0 + timedelta(hours=3)

    resumed = resume(
        None,
        paused_since,
        paused_since + timedelta(hours=5),
        clock.warning_at,
        clock.deadline,
    )

    assert resumed.warning_at == clock.warning_at
    assert resumed.deadline == paused_since + timedelta(hours=5) + timedelta(hours=1)


def test_resume__office_hours_count_only_working_time_paused() -> None:
    office = weekly("Europe/London", range(5), time(9), time(17))
    friday = datetime(2025, 6, 13, 16, 0, tzinfo=LONDON)
    clock = compute_deadlines(friday, timedelta(hours=4), 0.75, office)
    monday_ten = datetime(2025, 6, 16, 10, 0, tzinfo=LONDON)

    resumed = resume(
        office,
        friday + timedelta(minutes=30),
        monday_ten,
        clock.warning_at,
        clock.deadline,
    )

    assert clock.deadline.astimezone(LONDON) == datetime(
        2025, 6, 16, 12, 0, tzinfo=LONDON
    )
    assert resumed.paused == timedelta(hours=1, minutes=30)
    assert resumed.deadline.astimezone(LONDON) == datetime(
        2025, 6, 16, 13, 30, tzinfo=LONDON
    )
