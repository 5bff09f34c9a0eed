"""SQL of the SLA monitor's RPCs: clock status, policies and escalations.

The detection loop, which marks warnings and breaches, runs its own statements
from the same store.sql in `assignment_engine.sla_monitor.monitor`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import Aborted, FailedPrecondition, NotFound
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "store.sql")


@dataclass(frozen=True)
class NewPolicy:
    work_item_type: str
    priority: int
    resolution_target: timedelta
    warning_fraction: float
    re_escalation_interval: timedelta


class SlaMonitorStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get_status(self, work_item_id: uuid.UUID) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(queries.get_status, work_item_id)
        if row is None:
            raise NotFound(f"work item {work_item_id} has no SLA clock")
        return row

    async def set_policy(self, policy: NewPolicy) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            return await conn.fetchrow(
                queries.upsert_policy,
                policy.work_item_type,
                policy.priority,
                policy.resolution_target,
                policy.warning_fraction,
                policy.re_escalation_interval,
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
            ),
        )
        return row

    async def list_policies(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(queries.list_policies)

    async def list_escalations(
        self,
        recipient_id: str | None,
        states: list[str] | None,
        work_item_id: uuid.UUID | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                queries.list_escalations,
                recipient_id,
                states,
                work_item_id,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )

    async def acknowledge(self, escalation_id: uuid.UUID, note: str) -> asyncpg.Record:
        """Set acknowledged_at and append `note`. Raises unless the escalation was open."""

        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            row = await conn.fetchrow(
                queries.acknowledge_escalation, escalation_id, note
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
        self._log_change(row, "acknowledged")
        return row

    async def resolve(self, escalation_id: uuid.UUID, note: str) -> asyncpg.Record:
        """Set resolved_at (and acknowledged_at when unset) and append `note`.

        Raises unless the escalation was unresolved.
        """

        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            row = await conn.fetchrow(queries.resolve_escalation, escalation_id, note)
            if row is None:
                await self._raise_for_stamps(conn, escalation_id, "resolve")
            return row

        row = await run_in_transaction(
            self.pool,
            work,
            action="resolve escalation",
            escalation_id=str(escalation_id),
        )
        self._log_change(row, "resolved")
        return row

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
        # The row was open again when re-read, so a concurrent change raced this one.
        raise Aborted(f"escalation {escalation_id} changed during {action}; retry")

    @staticmethod
    def _log_change(row: asyncpg.Record, state: str) -> None:
        logger.info(
            "escalation %s",
            state,
            extra=logs.fields(
                event=f"escalation_{state}",
                escalation_id=str(row["id"]),
                work_item_id=str(row["work_item_id"]),
                staff_id=row["escalated_to_id"],
            ),
        )
