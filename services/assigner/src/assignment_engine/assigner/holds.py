"""Holds: pausing an assignment's SLA clock, resuming it, returning work to the queue.

Each runs inside the caller's transaction, after the work item row is locked and
the caller is authorised. A resume moves the warning time and deadline later by
the working time the pause covered (`sla_clock.resume`), so the monitor, which
skips paused clocks, sees the moved times as soon as the clock runs again.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg

from assignment_engine.api.v1 import common_pb2, events_pb2
from assignment_engine.core import logs, subjects
from assignment_engine.core.calendars import load_calendar
from assignment_engine.core.errors import FailedPrecondition
from assignment_engine.core.outbox import add_event
from assignment_engine.core.sla_clock import resume
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.assigner", "holds.sql")


async def _publish(
    conn: asyncpg.Connection, row: asyncpg.Record, name: str, status: int
) -> None:
    event = events_pb2.AssignmentChanged(
        assignment_id=str(row["id"]),
        work_item_id=str(row["work_item_id"]),
        assignee_id=row["assignee_id"],
        status=status,  # type: ignore[arg-type]
    )
    await add_event(conn, name, event)


async def resume_clock(conn: asyncpg.Connection, work_item_id: uuid.UUID) -> None:
    """Restart the item's clock if it is paused, moving its times; else do nothing."""
    clock = await conn.fetchrow(queries.lock_paused_clock, work_item_id)
    if clock is None:
        return
    calendar = await load_calendar(conn, clock["calendar_id"])
    moved = resume(
        calendar,
        clock["paused_since"],
        clock["now"],
        clock["warning_at"],
        clock["deadline"],
    )
    await conn.execute(
        queries.resume_clock,
        work_item_id,
        moved.warning_at,
        moved.deadline,
        moved.paused,
    )


async def hold(conn: asyncpg.Connection, assignment_id: uuid.UUID, reason: str) -> None:
    held = await conn.fetchrow(queries.hold_assignment, assignment_id)
    if held is None:
        status = await conn.fetchval(
            "SELECT status FROM assignments WHERE id = $1", assignment_id
        )
        raise FailedPrecondition(
            f"assignment {assignment_id} is {status}, expected assigned or in_progress"
        )
    await conn.execute(queries.pause_clock, held["work_item_id"])
    await _publish(
        conn, held, subjects.ASSIGNMENT_HELD, common_pb2.ASSIGNMENT_STATUS_ON_HOLD
    )
    logger.info(
        "assignment on hold",
        extra=logs.fields(
            event="assignment_held",
            assignment_id=str(assignment_id),
            work_item_id=str(held["work_item_id"]),
            reason=reason,
        ),
    )


async def resume_assignment(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> None:
    resumed = await conn.fetchrow(queries.resume_assignment, assignment_id)
    if resumed is None:
        status = await conn.fetchval(
            "SELECT status FROM assignments WHERE id = $1", assignment_id
        )
        raise FailedPrecondition(
            f"assignment {assignment_id} is {status}, expected on_hold"
        )
    await resume_clock(conn, resumed["work_item_id"])
    await _publish(
        conn,
        resumed,
        subjects.ASSIGNMENT_RESUMED,
        common_pb2.ASSIGNMENT_STATUS_IN_PROGRESS,
    )
    logger.info(
        "assignment resumed",
        extra=logs.fields(
            event="assignment_resumed",
            assignment_id=str(assignment_id),
            work_item_id=str(resumed["work_item_id"]),
        ),
    )
