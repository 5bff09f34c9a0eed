"""RecordHrEvent: store each HR delivery once and apply it to the person's leave.

One transaction stores the delivery (ON CONFLICT DO NOTHING on its id), locks
the staff member the HR employee id maps to, applies the event to their HR
leave and records the outcome. A delivery id stored before returns its stored
outcome and changes nothing; a concurrent duplicate waits on the first insert
and then finds it.

Events are ordered per leave by (version, event time): when both the event and
the leave carry a nonzero version, versions are compared first and the event
time breaks a tie, otherwise only event times are compared. An event older than
the last one applied to its leave is stored as stale with no effect. A
cancellation of leave that is not known yet is accepted and stored, so an older
approval that arrives after it is stale too.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from assignment_engine.availability import leave
from assignment_engine.availability.leave import AvailabilityEffect
from assignment_engine.core import logs
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.availability", "hr_events.sql")
leave_queries = leave.queries

HR_SOURCE = "hr_system"
ACCEPTED = "accepted"
STALE = "stale"
REJECTED = "rejected"
LEAVE_APPROVED = "leave_approved"
LEAVE_CANCELLED = "leave_cancelled"
EMPLOYEE_RETURNED = "employee_returned"


@dataclass(frozen=True)
class HrEvent:
    """A validated HR delivery, with the event type in its database spelling."""

    delivery_id: str
    type: str
    employee_id: str
    # The HR leave id; empty when the event names no leave.
    leave_id: str
    # Set for LEAVE_APPROVED; ends_at is after starts_at.
    starts_at: datetime | None
    ends_at: datetime | None
    reason: str
    event_time: datetime
    # 0 when the HR system sent no version.
    version: int

    def payload(self) -> dict[str, Any]:
        """Return the event as stored in hr_events.payload."""
        return {
            "type": self.type,
            "employee_id": self.employee_id,
            "leave_id": self.leave_id,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "reason": self.reason,
            "event_time": self.event_time.isoformat(),
            "version": self.version,
        }


@dataclass
class HrOutcome:
    outcome: str
    reason: str = ""
    # Whether the delivery id was stored by an earlier call.
    repeated: bool = False
    staff_id: str | None = None
    # The leave the event applied to, or was about.
    leave: asyncpg.Record | None = None
    effects: list[AvailabilityEffect] = field(default_factory=list)
    # Whether a leave now waits for the timer to start or end it.
    pending: bool = False


def is_older(
    version: int,
    event_time: datetime,
    applied_version: int,
    applied_time: datetime | None,
) -> bool:
    """Return whether an event is older than the one applied before it."""
    if version and applied_version and version != applied_version:
        return version < applied_version
    if applied_time is None:
        return False
    return event_time < applied_time


class HrEventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, event: HrEvent) -> HrOutcome:
        """Store a delivery and apply it once; return the outcome."""

        async def work(conn: asyncpg.Connection) -> HrOutcome:
            stored = await conn.fetchval(
                queries.insert_hr_event,
                event.delivery_id,
                event.type,
                event.employee_id,
                event.leave_id,
                event.version,
                event.event_time,
                event.payload(),
            )
            if not stored:
                return await _stored_outcome(conn, event.delivery_id)
            outcome = await _apply(conn, event)
            await conn.execute(
                queries.finish_hr_event,
                event.delivery_id,
                outcome.outcome,
                outcome.reason,
                outcome.staff_id,
                outcome.leave["id"] if outcome.leave is not None else None,
            )
            return outcome

        outcome = await run_in_transaction(
            self.pool, work, action="record HR event", delivery_id=event.delivery_id
        )
        logger.info(
            "HR delivery %s (%s) stored as %s%s",
            event.delivery_id,
            event.type,
            outcome.outcome,
            " before" if outcome.repeated else "",
            extra=logs.fields(
                event="hr_event_recorded",
                delivery_id=event.delivery_id,
                event_type=event.type,
                outcome=outcome.outcome,
                reason=outcome.reason,
                repeated=outcome.repeated,
                staff_id=outcome.staff_id,
                hr_leave_id=event.leave_id or None,
            ),
        )
        for effect in outcome.effects:
            leave.log_effect(effect, f"HR event {event.type}")
        return outcome


async def _stored_outcome(conn: asyncpg.Connection, delivery_id: str) -> HrOutcome:
    row = await conn.fetchrow(queries.get_hr_event, delivery_id)
    leave_row = None
    if row["leave_period_id"] is not None:
        leave_row = await conn.fetchrow(leave_queries.get_leave, row["leave_period_id"])
    return HrOutcome(
        outcome=row["outcome"],
        reason=row["reason"],
        repeated=True,
        staff_id=row["staff_id"],
        leave=leave_row,
    )


async def _apply(conn: asyncpg.Connection, event: HrEvent) -> HrOutcome:
    staff = await conn.fetchrow(
        leave_queries.lock_staff_by_hr_employee_id, event.employee_id
    )
    if staff is None:
        return HrOutcome(REJECTED, f"unknown employee {event.employee_id}")
    staff_id: str = staff["id"]
    if event.type == LEAVE_APPROVED:
        outcome = await _approve(conn, event, staff_id)
    elif event.type == LEAVE_CANCELLED:
        outcome = await _cancel(conn, event, staff_id)
    else:
        outcome = await _return(conn, event, staff_id)
    outcome.staff_id = staff_id
    return outcome


async def _lock_own_leave(
    conn: asyncpg.Connection, event: HrEvent, staff_id: str
) -> tuple[asyncpg.Record | None, HrOutcome | None]:
    """Lock the event's leave; return it, or the outcome that ends processing.

    The outcome is REJECTED when the leave belongs to someone else and STALE
    when a newer event was applied to it.
    """
    row = await conn.fetchrow(leave_queries.lock_hr_leave, event.leave_id)
    if row is None:
        return None, None
    if row["staff_id"] != staff_id:
        return None, HrOutcome(
            REJECTED,
            f"leave {event.leave_id} belongs to another staff member, not to "
            f"employee {event.employee_id}",
        )
    if is_older(
        event.version, event.event_time, row["hr_version"], row["hr_event_time"]
    ):
        return None, _stale(
            event.leave_id, row["hr_version"], row["hr_event_time"], row
        )
    return row, None


def _stale(
    hr_leave_id: str,
    version: int,
    event_time: datetime | None,
    row: asyncpg.Record | None,
) -> HrOutcome:
    applied = event_time.isoformat() if event_time else "none"
    return HrOutcome(
        STALE,
        f"a newer event for leave {hr_leave_id} was applied before "
        f"(version {version}, event time {applied})",
        leave=row,
    )


async def _record_order(
    conn: asyncpg.Connection, row: asyncpg.Record, event: HrEvent
) -> asyncpg.Record:
    version = event.version or row["hr_version"]
    updated: asyncpg.Record = await conn.fetchrow(
        leave_queries.record_hr_order, row["id"], version, event.event_time
    )
    return updated


async def _approve(
    conn: asyncpg.Connection, event: HrEvent, staff_id: str
) -> HrOutcome:
    assert event.starts_at is not None and event.ends_at is not None
    row, finished = await _lock_own_leave(conn, event, staff_id)
    if finished is not None:
        return finished
    now = await leave.transaction_time(conn)
    state = leave.planned_state(event.starts_at, event.ends_at, now)
    effects = []
    if row is None:
        for cancelled in await conn.fetch(
            queries.unknown_leave_cancellations, event.leave_id, staff_id
        ):
            if is_older(
                event.version,
                event.event_time,
                cancelled["version"],
                cancelled["event_time"],
            ):
                return _stale(
                    event.leave_id, cancelled["version"], cancelled["event_time"], None
                )
        row = await conn.fetchrow(
            leave_queries.insert_leave,
            uuid.uuid4(),
            staff_id,
            event.starts_at,
            event.ends_at,
            event.reason,
            HR_SOURCE,
            event.leave_id,
            event.version,
            event.event_time,
            state,
        )
        if state == leave.ACTIVE:
            effects.append(await leave.start(conn, row, HR_SOURCE))
    else:
        updated = await conn.fetchrow(
            leave_queries.update_hr_leave,
            row["id"],
            event.starts_at,
            event.ends_at,
            event.reason,
            event.version or row["hr_version"],
            event.event_time,
        )
        row, effect = await leave.move_to(conn, updated, state, HR_SOURCE)
        if effect is not None:
            effects.append(effect)
    return HrOutcome(
        ACCEPTED,
        leave=row,
        effects=effects,
        pending=row["state"] in (leave.SCHEDULED, leave.ACTIVE),
    )


async def _cancel(conn: asyncpg.Connection, event: HrEvent, staff_id: str) -> HrOutcome:
    row, finished = await _lock_own_leave(conn, event, staff_id)
    if finished is not None:
        return finished
    if row is None:
        return HrOutcome(
            ACCEPTED,
            f"leave {event.leave_id} is not known, so nothing was cancelled; an "
            "older approval of it will be stale",
        )
    row = await _record_order(conn, row, event)
    if row["state"] not in (leave.SCHEDULED, leave.ACTIVE):
        return HrOutcome(
            ACCEPTED,
            f"leave {event.leave_id} was {row['state']} already",
            leave=row,
        )
    row, effect = await leave.move_to(conn, row, leave.CANCELLED, HR_SOURCE)
    return HrOutcome(ACCEPTED, leave=row, effects=[effect] if effect else [])


async def _return(conn: asyncpg.Connection, event: HrEvent, staff_id: str) -> HrOutcome:
    """End the leave the event names, or every active HR leave of the person."""
    if event.leave_id:
        row, finished = await _lock_own_leave(conn, event, staff_id)
        if finished is not None:
            return finished
        if row is None:
            return HrOutcome(
                ACCEPTED, f"leave {event.leave_id} is not known, so nothing ended"
            )
        candidates = [row]
    else:
        candidates = await conn.fetch(leave_queries.active_hr_leave, staff_id)
        if not candidates:
            return HrOutcome(ACCEPTED, "the employee has no active HR leave")
        fresh = [
            row
            for row in candidates
            if not is_older(
                event.version, event.event_time, row["hr_version"], row["hr_event_time"]
            )
        ]
        if not fresh:
            newest = candidates[-1]
            return _stale(
                newest["hr_leave_id"],
                newest["hr_version"],
                newest["hr_event_time"],
                newest,
            )
        candidates = fresh

    effects = []
    ended = []
    for candidate in candidates:
        row = await _record_order(conn, candidate, event)
        if row["state"] == leave.ACTIVE:
            row, effect = await leave.move_to(conn, row, leave.ENDED, HR_SOURCE)
            if effect is not None:
                effects.append(effect)
        ended.append(row)
    last = ended[-1]
    if last["state"] != leave.ENDED:
        return HrOutcome(
            ACCEPTED,
            f"leave {event.leave_id} was {last['state']}, not active, so nothing ended",
            leave=last,
        )
    return HrOutcome(ACCEPTED, leave=last, effects=effects)
