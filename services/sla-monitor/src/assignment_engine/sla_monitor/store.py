"""SQL of the SLA monitor's RPCs: clock status, policies, calendars, capacity
and escalations.

The detection loop, which marks warnings and breaches, runs its own statements
from the same store.sql in `assignment_engine.sla_monitor.monitor`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.calendars import BusinessCalendar, load_calendar
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import Aborted, FailedPrecondition, NotFound
from assignment_engine.core.permissions import Action, Principal
from assignment_engine.core.sql import load_queries
from assignment_engine.sla_monitor.calendar_requests import NewCalendar

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "store.sql")
capacity_queries = load_queries("assignment_engine.sla_monitor", "capacity.sql")


@dataclass(frozen=True)
class NewPolicy:
    work_item_type: str
    priority: int
    resolution_target: timedelta
    warning_fraction: float
    re_escalation_interval: timedelta
    # None for the target unit's default calendar, else 24x7.
    calendar_id: str | None = None


class SlaMonitorStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def work_item_access(self, work_item_id: uuid.UUID) -> asyncpg.Record | None:
        """Read the target unit and the active (else latest) assignee of an item."""
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(queries.work_item_access, work_item_id)

    async def get_status(
        self, work_item_id: uuid.UUID
    ) -> tuple[asyncpg.Record, BusinessCalendar | None]:
        """Read an item's SLA clock and the calendar it counts (None for 24x7)."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(queries.get_status, work_item_id)
            if row is None:
                raise NotFound(f"work item {work_item_id} has no SLA clock")
            calendar = await load_calendar(conn, row["calendar_id"])
        return row, calendar

    async def set_policy(self, policy: NewPolicy) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            if policy.calendar_id is not None and not await conn.fetchval(
                queries.calendar_exists, policy.calendar_id
            ):
                raise NotFound(
                    f"business calendar {policy.calendar_id} not found; create it "
                    "with SetCalendar first"
                )
            return await conn.fetchrow(
                queries.upsert_policy,
                policy.work_item_type,
                policy.priority,
                policy.resolution_target,
                policy.warning_fraction,
                policy.re_escalation_interval,
                policy.calendar_id,
            )

        row = await run_in_transaction(
            self.pool,
            work,
            action="set SLA policy",
            work_item_type=policy.work_item_type,
            priority=policy.priority,
        )
        logger.info(
            "set SLA policy for %s at priority %d",
            policy.work_item_type,
            policy.priority,
            extra=logs.fields(
                event="sla_policy_set",
                work_item_type=policy.work_item_type,
                priority=policy.priority,
                resolution_target_s=policy.resolution_target.total_seconds(),
                calendar_id=policy.calendar_id,
            ),
        )
        return row

    async def list_policies(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(queries.list_policies)

    async def set_calendar(self, calendar: NewCalendar) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            return await conn.fetchrow(
                queries.upsert_calendar,
                calendar.id,
                calendar.timezone,
                calendar.hours,
                calendar.holidays,
            )

        row = await run_in_transaction(
            self.pool, work, action="set business calendar", calendar_id=calendar.id
        )
        logger.info(
            "set business calendar %s in %s",
            calendar.id,
            calendar.timezone,
            extra=logs.fields(
                event="calendar_set",
                calendar_id=calendar.id,
                hours=len(calendar.hours),
                holidays=len(calendar.holidays),
            ),
        )
        return row

    async def list_calendars(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(queries.list_calendars)

    async def capacity(
        self, unit_id: str | None, days: tuple[date, date] | None, limit: int
    ) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        """Read the live capacity of every unit (or of `unit_id`) and up to `limit`
        snapshots of `days`, inclusive. Raises NotFound for an unknown unit."""
        async with self.pool.acquire() as conn:
            if unit_id is not None and not await conn.fetchval(
                capacity_queries.unit_exists, unit_id
            ):
                raise NotFound(f"unit {unit_id} not found")
            now = await conn.fetch(capacity_queries.unit_capacity, unit_id)
            snapshots = []
            if days is not None:
                snapshots = await conn.fetch(
                    capacity_queries.list_snapshots, days[0], days[1], unit_id, limit
                )
        return now, snapshots

    async def list_escalations(
        self,
        recipient_id: str | None,
        states: list[str] | None,
        work_item_id: uuid.UUID | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        unit_id: str | None = None,
    ) -> list[asyncpg.Record]:
        """Read a page of escalations; with `unit_id`, only those of that unit."""
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                queries.list_escalations,
                recipient_id,
                states,
                work_item_id,
                after[0] if after else None,
                after[1] if after else None,
                limit,
                unit_id,
            )

    async def acknowledge(
        self, escalation_id: uuid.UUID, note: str, principal: Principal
    ) -> asyncpg.Record:
        """Set acknowledged_at and acknowledged_by, and append `note`.

        Raises PermissionDenied unless `principal` may handle the escalation, and
        FailedPrecondition unless the escalation was open.
        """

        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_and_authorize(conn, escalation_id, principal)
            row = await conn.fetchrow(
                queries.acknowledge_escalation, escalation_id, note, principal.subject
            )
            if row is None:
                await self._raise_for_stamps(conn, escalation_id, "acknowledge")
            return row

        row = await run_in_transaction(
            self.pool,
            work,
            action="acknowledge escalation",
            escalation_id=str(escalation_id),
        )
        self._log_change(row, "acknowledged", principal.subject)
        return row

    async def resolve(
        self, escalation_id: uuid.UUID, note: str, principal: Principal
    ) -> asyncpg.Record:
        """Set resolved_at and resolved_by, and append `note`.

        Sets acknowledged_at and acknowledged_by too when they are unset. Raises
        PermissionDenied unless `principal` may handle the escalation, and
        FailedPrecondition unless the escalation was unresolved.
        """

        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_and_authorize(conn, escalation_id, principal)
            row = await conn.fetchrow(
                queries.resolve_escalation, escalation_id, note, principal.subject
            )
            if row is None:
                await self._raise_for_stamps(conn, escalation_id, "resolve")
            return row

        row = await run_in_transaction(
            self.pool,
            work,
            action="resolve escalation",
            escalation_id=str(escalation_id),
        )
        self._log_change(row, "resolved", principal.subject)
        return row

    @staticmethod
    async def _lock_and_authorize(
        conn: asyncpg.Connection, escalation_id: uuid.UUID, principal: Principal
    ) -> None:
        """Lock the escalation row, then check that `principal` may handle it.

        The check runs before the existence check, so a caller without the `all`
        scope gets PermissionDenied for an unknown escalation and cannot probe
        which ids exist.
        """
        access = await conn.fetchrow(queries.lock_escalation_access, escalation_id)
        if access is None:
            principal.require(Action.HANDLE_ESCALATION)
            raise NotFound(f"escalation {escalation_id} not found")
        principal.require(
            Action.HANDLE_ESCALATION,
            owner_id=access["escalated_to_id"],
            unit_ids=[
                access["recipient_unit_id"],
                access["assignee_unit_id"],
                access["target_unit_id"],
            ],
        )

    async def _raise_for_stamps(
        self, conn: asyncpg.Connection, escalation_id: uuid.UUID, action: str
    ) -> None:
        """Raise the error that explains why `action` changed no row."""
        stamps = await conn.fetchrow(queries.escalation_stamps, escalation_id)
        if stamps is None:
            raise NotFound(f"escalation {escalation_id} not found")
        if stamps["resolved_at"] is not None:
            raise FailedPrecondition(
                f"cannot {action} escalation {escalation_id}: it was resolved at "
                f"{stamps['resolved_at'].isoformat()}"
            )
        if stamps["acknowledged_at"] is not None:
            raise FailedPrecondition(
                f"cannot {action} escalation {escalation_id}: it was acknowledged at "
                f"{stamps['acknowledged_at'].isoformat()}"
            )
        # The row was open when re-read. The transaction holds the row lock, so
        # this is unreachable unless the statements above stop taking it.
        raise Aborted(f"escalation {escalation_id} changed during {action}; retry")

    @staticmethod
    def _log_change(row: asyncpg.Record, state: str, actor_id: str) -> None:
        logger.info(
            "escalation %s by %s",
            state,
            actor_id,
            extra=logs.fields(
                event=f"escalation_{state}",
                escalation_id=str(row["id"]),
                work_item_id=str(row["work_item_id"]),
                staff_id=row["escalated_to_id"],
                actor_id=actor_id,
            ),
        )
