"""Retention: purges old completed and cancelled assignments in bounded batches.

An assignment that ended more than AE_RETENTION_DAYS ago is deleted, unless an
escalation references it: escalations and their assignments are kept for ever.
The decision audit stays whole because assignment_decisions references
assignment_summaries, which keeps one compact row per assignment for ever, and
the purge records the final assignee, status and end time there first.

Each batch is one transaction that claims rows FOR UPDATE SKIP LOCKED, so
several monitors purging at once skip the rows another one has locked instead
of waiting for them, and no row is deleted twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.sql import load_queries
from assignment_engine.sla_monitor.monitor import PASS_ERRORS

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "retention.sql")

# Maximum batches of one run. A run that reaches it leaves the rest to the next
# run, so that a large backlog is worked off over several intervals.
MAX_BATCHES_PER_RUN = 1000


@dataclass(frozen=True)
class PurgeRun:
    deleted: int
    batches: int
    # Whether the run stopped at MAX_BATCHES_PER_RUN with rows left.
    truncated: bool


class RetentionPurger:
    """Deletes expired assignments every `interval_s` seconds, until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        retention_days: int,
        batch_size: int,
        interval_s: float,
    ) -> None:
        self.pool = pool
        self.retention_days = retention_days
        self.batch_size = batch_size
        self.interval_s = interval_s

    async def run(self) -> None:
        """Purge every `interval_s` seconds, the first time one interval after start."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.purge()
            except PASS_ERRORS as exc:
                logger.warning(
                    "assignment retention run failed (%s: %s); retrying in %.0f s",
                    type(exc).__name__,
                    exc,
                    self.interval_s,
                    extra=logs.fields(event="retention_run_failed"),
                )

    async def purge(self) -> PurgeRun:
        """Delete expired assignments batch by batch until a batch is not full."""

        async def work(conn: asyncpg.Connection) -> int:
            rows = await conn.fetch(
                queries.purge_assignments, self.retention_days, self.batch_size
            )
            return len(rows)

        deleted = 0
        batches = 0
        truncated = True
        for _ in range(MAX_BATCHES_PER_RUN):
            count = await run_in_transaction(
                self.pool, work, action="purge expired assignments"
            )
            if count:
                batches += 1
                deleted += count
            if count < self.batch_size:
                truncated = False
                break
        if deleted:
            logger.info(
                "purged %d assignments that ended more than %d days ago",
                deleted,
                self.retention_days,
                extra=logs.fields(
                    event="assignments_purged",
                    deleted=deleted,
                    batches=batches,
                    truncated=truncated,
                ),
            )
        return PurgeRun(deleted=deleted, batches=batches, truncated=truncated)
