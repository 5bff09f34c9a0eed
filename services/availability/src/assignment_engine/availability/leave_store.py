"""ScheduleLeave, CancelLeave and ListLeave against the database.

Each write locks the staff row first, checks the caller's permission on that
person inside the same transaction, and only then locks and changes the leave.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from assignment_engine.availability import leave
from assignment_engine.availability.authorization import availability_source
from assignment_engine.core import logs
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import FailedPrecondition, NotFound
from assignment_engine.core.permissions import Principal

logger = logging.getLogger(__name__)
queries = leave.queries

# NOTE: ListLeave has no paging, so it returns at most this many periods.
MAX_LISTED_LEAVE = 1000


@dataclass(frozen=True)
class LeaveChange:
    leave: asyncpg.Record
    # The availability change the call made at once, if any.
    effect: leave.AvailabilityEffect | None
    # False when the call found the leave as requested already.
    changed: bool = True


class LeaveStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def schedule_leave(
        self,
        staff_id: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        principal: Principal,
    ) -> LeaveChange:
        """Create a leave; one that has started already takes effect at once."""

        async def work(conn: asyncpg.Connection) -> LeaveChange:
            staff = await _lock_staff(conn, staff_id)
            source = availability_source(principal, staff_id, staff["unit_id"])
            now = await leave.transaction_time(conn)
            state = leave.planned_state(starts_at, ends_at, now)
            row = await conn.fetchrow(
                queries.insert_leave,
                uuid.uuid4(),
                staff_id,
                starts_at,
                ends_at,
                reason,
                source,
                None,
                0,
                None,
                state,
            )
            effect = None
            if state == leave.ACTIVE:
                effect = await leave.start(conn, row, source)
            return LeaveChange(row, effect)

        change = await run_in_transaction(
            self.pool, work, action="schedule leave", staff_id=staff_id
        )
        row = change.leave
        logger.info(
            "scheduled leave %s for %s from %s to %s",
            row["id"],
            staff_id,
            starts_at.isoformat(),
            ends_at.isoformat(),
            extra=logs.fields(
                event="leave_scheduled",
                leave_id=str(row["id"]),
                staff_id=staff_id,
                state=row["state"],
                source=row["source"],
                caller=principal.subject,
            ),
        )
        if change.effect is not None:
            leave.log_effect(change.effect, "scheduled after its start")
        return change

    async def cancel_leave(
        self, leave_id: uuid.UUID, principal: Principal
    ) -> LeaveChange:
        """Cancel scheduled or active leave; active leave ends at once.

        Cancelling a cancelled leave returns it unchanged. Raises NotFound for an
        unknown id and FailedPrecondition for leave that has ended.
        """

        async def work(conn: asyncpg.Connection) -> LeaveChange:
            found = await conn.fetchrow(queries.get_leave, leave_id)
            if found is None:
                raise NotFound(f"leave {leave_id} not found (leave_id)")
            # A leave never changes its staff member, so the unlocked read
            # names the row to lock.
            staff = await _lock_staff(conn, found["staff_id"])
            source = availability_source(principal, staff["id"], staff["unit_id"])
            row = await conn.fetchrow(queries.lock_leave, leave_id)
            if row["state"] == leave.ENDED:
                raise FailedPrecondition(
                    f"leave {leave_id} has already ended, so it cannot be cancelled"
                )
            if row["state"] == leave.CANCELLED:
                return LeaveChange(row, None, changed=False)
            cancelled, effect = await leave.move_to(conn, row, leave.CANCELLED, source)
            return LeaveChange(cancelled, effect)

        change = await run_in_transaction(
            self.pool, work, action="cancel leave", leave_id=str(leave_id)
        )
        if not change.changed:
            return change
        logger.info(
            "cancelled leave %s of %s",
            leave_id,
            change.leave["staff_id"],
            extra=logs.fields(
                event="leave_cancelled",
                leave_id=str(leave_id),
                staff_id=change.leave["staff_id"],
                caller=principal.subject,
            ),
        )
        if change.effect is not None:
            leave.log_effect(change.effect, "cancelled")
        return change

    async def list_leave(self, staff_id: str) -> list[asyncpg.Record]:
        """Return a person's scheduled and active leave, soonest first."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval(queries.staff_exists, staff_id):
                raise NotFound(f"staff member {staff_id!r} not found (staff_id)")
            return await conn.fetch(
                queries.list_pending_leave, staff_id, MAX_LISTED_LEAVE
            )


async def _lock_staff(conn: asyncpg.Connection, staff_id: str) -> asyncpg.Record:
    staff = await conn.fetchrow(queries.lock_staff, staff_id)
    if staff is None:
        raise NotFound(f"staff member {staff_id!r} not found (staff_id)")
    return staff
