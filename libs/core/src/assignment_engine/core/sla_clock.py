"""SLA clock arithmetic: deadlines at intake and their move on resume.

A clock starts when its work item is received, so time in the queue counts. It
counts working time of a business calendar (24x7 without one): the warning time
is when the warning fraction of the target has run, the deadline when all of it
has. While paused nothing runs; on resume the warning time and deadline move
later by exactly the working time the pause covered, which is the same as adding
the working time that was left at the pause to the moment of resuming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from assignment_engine.core.calendars import (
    BusinessCalendar,
    add_working_time,
    working_time_between,
)


@dataclass(frozen=True)
class Deadlines:
    warning_at: datetime
    deadline: datetime


def compute_deadlines(
    received_at: datetime,
    target: timedelta,
    warning_fraction: float,
    calendar: BusinessCalendar | None = None,
) -> Deadlines:
    """Return the warning time and deadline of a clock started at `received_at`."""
    if target <= timedelta(0):
        raise ValueError(f"resolution target {target} must be positive")
    if not 0.0 < warning_fraction < 1.0:
        raise ValueError(f"warning fraction {warning_fraction} must be between 0 and 1")
    return Deadlines(
        warning_at=add_working_time(calendar, received_at, target * warning_fraction),
        deadline=add_working_time(calendar, received_at, target),
    )


@dataclass(frozen=True)
class Resumed:
    warning_at: datetime
    deadline: datetime
    # Working time the pause covered, to add to the clock's paused total.
    paused: timedelta


def resume(
    calendar: BusinessCalendar | None,
    paused_since: datetime,
    resumed_at: datetime,
    warning_at: datetime,
    deadline: datetime,
) -> Resumed:
    """Move a paused clock's times by the working time between pause and resume.

    A time that had already passed when the clock paused stays where it is.
    """

    def moved(instant: datetime) -> datetime:
        if instant <= paused_since:
            return instant
        left = working_time_between(calendar, paused_since, instant)
        return add_working_time(calendar, resumed_at, left)

    return Resumed(
        warning_at=moved(warning_at),
        deadline=moved(deadline),
        paused=working_time_between(calendar, paused_since, resumed_at),
    )
