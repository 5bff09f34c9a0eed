"""Leave periods: their states and what each change does to availability.

A leave is scheduled, active, ended or cancelled. When it becomes active, the
person goes on_leave and the staff row records the leave in
availability_leave_id. When it stops being active, the person becomes available
again, but only while availability_leave_id still names that leave, because
any other change, such as SetAvailability, clears the column. Another active leave of the
same person then takes over instead, so overlapping leave keeps them on_leave
until the last one ends.

Every function here runs inside the caller's transaction, which must hold the
staff row FOR NO KEY UPDATE (lock_staff, or the timer's claim) before it reads
or changes the person's leave. That lock also orders leave changes against
assignment decisions, which read the staff row FOR SHARE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from assignment_engine.api.v1 import events_pb2
from assignment_engine.availability import convert
from assignment_engine.core import logs, subjects
from assignment_engine.core.outbox import add_event
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.availability", "leave.sql")

SCHEDULED = "scheduled"
ACTIVE = "active"
ENDED = "ended"
CANCELLED = "cancelled"
ON_LEAVE = "on_leave"
AVAILABLE = "available"
# Availability values that make a person eligible for new work.
ELIGIBLE = frozenset({"available", "busy"})


@dataclass(frozen=True)
class AvailabilityEffect:
    """A change of a person's availability made by a leave, with its events written."""

    staff_id: str
    leave_id: str
    previous: str
    current: str
    source: str
    capacity_freed: bool


def planned_state(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """Return the state a leave with these times has at `now`."""
    if ends_at <= now:
        return ENDED
    if starts_at <= now:
        return ACTIVE
    return SCHEDULED


async def transaction_time(conn: asyncpg.Connection) -> datetime:
    now: datetime = await conn.fetchval(queries.transaction_time)
    return now


async def start(
    conn: asyncpg.Connection, leave: asyncpg.Record, source: str
) -> AvailabilityEffect:
    """Put the leave's staff member on leave until its end, and write the event."""
    staff_id = leave["staff_id"]
    staff = await conn.fetchrow(queries.staff_availability, staff_id)
    await conn.execute(
        queries.start_leave_availability,
        staff_id,
        leave["id"],
        leave["ends_at"],
        leave["reason"],
        source,
    )
    await _add_changed_event(conn, staff_id, staff["availability"], ON_LEAVE, source)
    return AvailabilityEffect(
        staff_id=staff_id,
        leave_id=str(leave["id"]),
        previous=staff["availability"],
        current=ON_LEAVE,
        source=source,
        capacity_freed=False,
    )


async def release(
    conn: asyncpg.Connection, leave: asyncpg.Record, source: str
) -> AvailabilityEffect | None:
    """Undo the availability a leave set, once it is no longer active.

    Returns None and changes nothing when availability_leave_id does not name
    the leave. When another active leave of theirs has not ended, it takes
    over and the person stays on_leave without an event. Otherwise they become
    available, and AvailabilityChanged and CapacityFreed are written.
    """
    staff_id = leave["staff_id"]
    staff = await conn.fetchrow(queries.staff_availability, staff_id)
    if staff["availability_leave_id"] != leave["id"]:
        return None
    other = await conn.fetchrow(queries.other_active_leave, staff_id, leave["id"])
    if other is not None:
        await conn.execute(
            queries.start_leave_availability,
            staff_id,
            other["id"],
            other["ends_at"],
            other["reason"],
            other["source"],
        )
        return None
    await conn.execute(queries.end_leave_availability, staff_id, source)
    previous = staff["availability"]
    await _add_changed_event(conn, staff_id, previous, AVAILABLE, source)
    freed = previous not in ELIGIBLE
    if freed:
        event = events_pb2.CapacityFreed(
            staff_id=staff_id, unit_id=staff["unit_id"], reason="became_available"
        )
        await add_event(conn, subjects.CAPACITY_FREED, event)
    return AvailabilityEffect(
        staff_id=staff_id,
        leave_id=str(leave["id"]),
        previous=previous,
        current=AVAILABLE,
        source=source,
        capacity_freed=freed,
    )


async def move_to(
    conn: asyncpg.Connection, leave: asyncpg.Record, state: str, source: str
) -> tuple[asyncpg.Record, AvailabilityEffect | None]:
    """Move a locked leave to `state` and apply what that does to availability.

    An active leave that stays active copies its current end and reason to the
    staff row while availability_leave_id names it. Returns the updated leave row
    and the availability change, if any.
    """
    current = leave["state"]
    if state == current:
        if current == ACTIVE:
            await conn.execute(
                queries.refresh_leave_availability,
                leave["staff_id"],
                leave["id"],
                leave["ends_at"],
                leave["reason"],
            )
        return leave, None
    row = await conn.fetchrow(queries.set_leave_state, leave["id"], state)
    if state == ACTIVE:
        return row, await start(conn, row, source)
    if current == ACTIVE:
        return row, await release(conn, row, source)
    return row, None


async def _add_changed_event(
    conn: asyncpg.Connection, staff_id: str, previous: str, current: str, source: str
) -> None:
    changed = events_pb2.AvailabilityChanged(
        staff_id=staff_id,
        previous=convert.AVAILABILITY[previous],  # type: ignore[arg-type]
        current=convert.AVAILABILITY[current],  # type: ignore[arg-type]
        source=convert.AVAILABILITY_SOURCE[source],  # type: ignore[arg-type]
    )
    await add_event(conn, subjects.AVAILABILITY_CHANGED, changed)


def log_effect(effect: AvailabilityEffect, cause: str) -> None:
    """Log an availability change made by a leave; `cause` names what moved the leave."""
    logger.info(
        "availability of %s changed from %s to %s by leave %s (%s)",
        effect.staff_id,
        effect.previous,
        effect.current,
        effect.leave_id,
        cause,
        extra=logs.fields(
            event="leave_availability_changed",
            staff_id=effect.staff_id,
            leave_id=effect.leave_id,
            previous=effect.previous,
            current=effect.current,
            source=effect.source,
            cause=cause,
            capacity_freed=effect.capacity_freed,
        ),
    )
