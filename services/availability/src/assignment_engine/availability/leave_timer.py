"""The leave timer: starts scheduled leave and ends active leave when due.

Each batch is one transaction. claim_starts and claim_ends each claim due leave
and its staff row with FOR UPDATE SKIP LOCKED and mark the leave in the same
statement. Any number of availability replicas may therefore run the timer,
because a leave is claimed by one transaction only. A row locked by a request or
by another replica is skipped and retried on the next pass. Starts are applied before ends,
so back-to-back leave hands over without making the person available between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from assignment_engine.availability import leave
from assignment_engine.core import logs
from assignment_engine.core.db import CONNECTION_ERRORS, run_in_transaction
from assignment_engine.core.errors import EngineError

logger = logging.getLogger(__name__)
queries = leave.queries

DEFAULT_BATCH_SIZE = 100
# Maximum sleep between passes. A leave scheduled through another replica is
# seen within this time.
MAX_SLEEP_S = 1.0
# Minimum sleep between passes, so due leave locked by another transaction is
# retried without spinning.
MIN_SLEEP_S = 0.05
MAX_BATCHES_PER_PASS = 20
MAX_BACKOFF_S = 5.0
PASS_ERRORS: tuple[type[BaseException], ...] = (
    EngineError,
    asyncpg.PostgresError,
    *CONNECTION_ERRORS,
)


@dataclass
class TimerBatch:
    started: list[asyncpg.Record] = field(default_factory=list)
    ended: list[asyncpg.Record] = field(default_factory=list)
    # Scheduled leave whose end had passed too when it was claimed.
    missed: list[asyncpg.Record] = field(default_factory=list)
    effects: list[leave.AvailabilityEffect] = field(default_factory=list)
    full: bool = False


class LeaveTimer:
    """Applies due leave until cancelled; run it with `ServiceRuntime.spawn`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        on_commit: Callable[[], None],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.pool = pool
        # Called after a transaction that wrote outbox events has committed.
        self.on_commit = on_commit
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Recompute the next due time now: a leave was scheduled or changed."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                delay = await self.run_pass()
            except PASS_ERRORS as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, MIN_SLEEP_S * 2 ** min(failures, 8))
                # One warning per outage, then one per 20 failed passes.
                if failures == 1 or failures % 20 == 0:
                    logger.warning(
                        "leave timer pass failed (%s: %s); retrying in %.2f s",
                        type(exc).__name__,
                        exc,
                        delay,
                        extra=logs.fields(
                            event="leave_timer_failed", attempt=failures, delay_s=delay
                        ),
                    )
            else:
                if failures:
                    logger.info(
                        "leave timer recovered after %d failed passes",
                        failures,
                        extra=logs.fields(
                            event="leave_timer_recovered", attempt=failures
                        ),
                    )
                failures = 0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def run_pass(self) -> float:
        """Apply due leave batch by batch; return the seconds to sleep."""
        for _ in range(MAX_BATCHES_PER_PASS):
            batch = await run_in_transaction(
                self.pool, self._process_batch, action="apply due leave"
            )
            if batch.effects:
                self.on_commit()
            self._log_batch(batch)
            if not batch.full:
                break
        else:
            # Every batch was full, so more leave is due: start the next pass now.
            return 0.0
        async with self.pool.acquire() as conn:
            due_in: float | None = await conn.fetchval(queries.seconds_until_due)
        if due_in is None:
            return MAX_SLEEP_S
        return min(MAX_SLEEP_S, max(MIN_SLEEP_S, due_in))

    async def _process_batch(self, conn: asyncpg.Connection) -> TimerBatch:
        batch = TimerBatch()
        starts = await conn.fetch(queries.claim_starts, self.batch_size)
        for row in sorted(starts, key=lambda r: (r["starts_at"], r["id"])):
            if row["state"] == leave.ACTIVE:
                batch.effects.append(await leave.start(conn, row, row["source"]))
                batch.started.append(row)
            else:
                batch.missed.append(row)
        ends = await conn.fetch(queries.claim_ends, self.batch_size)
        for row in sorted(ends, key=lambda r: (r["ends_at"], r["id"])):
            effect = await leave.release(conn, row, row["source"])
            if effect is not None:
                batch.effects.append(effect)
            batch.ended.append(row)
        batch.full = self.batch_size in (len(starts), len(ends))
        return batch

    def _log_batch(self, batch: TimerBatch) -> None:
        for row in batch.started:
            logger.info(
                "leave %s of %s started",
                row["id"],
                row["staff_id"],
                extra=logs.fields(
                    event="leave_started",
                    leave_id=str(row["id"]),
                    staff_id=row["staff_id"],
                ),
            )
        for row in batch.ended:
            logger.info(
                "leave %s of %s ended",
                row["id"],
                row["staff_id"],
                extra=logs.fields(
                    event="leave_ended",
                    leave_id=str(row["id"]),
                    staff_id=row["staff_id"],
                ),
            )
        for row in batch.missed:
            logger.warning(
                "leave %s of %s ended before the timer started it, so it changed "
                "no availability",
                row["id"],
                row["staff_id"],
                extra=logs.fields(
                    event="leave_missed",
                    leave_id=str(row["id"]),
                    staff_id=row["staff_id"],
                ),
            )
        for effect in batch.effects:
            leave.log_effect(effect, "timer")
