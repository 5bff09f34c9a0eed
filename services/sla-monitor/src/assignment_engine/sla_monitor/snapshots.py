"""Daily capacity snapshots per unit, recorded once each day has ended.

Days begin and end at midnight in the organisation's time zone
(AE_ORG_TIMEZONE). After midnight a pass records, for every unit, the day that
ended: its live capacity and the warnings and breaches marked during that day.
A pass also records every day missed since the most recent snapshot, at most
MAX_BACKFILL_DAYS back, for example after an outage. On a database without
snapshots the first pass records only the day that just ended.

Any number of monitors may run: a pass holds a transaction-level advisory lock,
so the others skip it, and the primary key with ON CONFLICT DO NOTHING makes a
second row for a unit and day impossible in any case.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.sql import load_queries
from assignment_engine.sla_monitor.monitor import MAX_BACKOFF_S, PASS_ERRORS

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "capacity.sql")

# An arbitrary constant shared by every monitor of this schema: "AESN".
SNAPSHOT_LOCK_KEY = 0x41_45_53_4E
MAX_BACKFILL_DAYS = 31
# Maximum sleep between passes, so a changed system clock is noticed soon.
MAX_SLEEP_S = 300.0
# Margin after midnight before the pass, because the sleep is measured on the
# monotonic clock and the day boundary on the wall clock.
AFTER_MIDNIGHT_S = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SnapshotPass:
    # Days for which this pass inserted rows, oldest first.
    days: list[date] = field(default_factory=list)
    rows: int = 0
    # Whether another transaction held the lock, so this pass recorded nothing.
    locked_out: bool = False


class CapacitySnapshotter:
    """Records the capacity snapshots of ended days, until cancelled.

    `now` returns the current instant; tests pass their own to simulate
    midnight or a missed day.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        org_timezone: str,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pool = pool
        self.zone = ZoneInfo(org_timezone)
        self.now = now

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the instants at which `day` begins and ends in the organisation's zone."""
        start = datetime.combine(day, time(0), tzinfo=self.zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def last_ended_day(self) -> date:
        return self.now().astimezone(self.zone).date() - timedelta(days=1)

    def seconds_until_next_day(self) -> float:
        now = self.now()
        today = now.astimezone(self.zone).date()
        _, next_midnight = self.day_bounds(today)
        wait = (next_midnight - now).total_seconds() + AFTER_MIDNIGHT_S
        return min(MAX_SLEEP_S, max(AFTER_MIDNIGHT_S, wait))

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self.run_pass()
            except PASS_ERRORS as exc:
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    logger.warning(
                        "capacity snapshot pass failed (%s: %s); retrying",
                        type(exc).__name__,
                        exc,
                        extra=logs.fields(
                            event="snapshot_pass_failed", attempt=failures
                        ),
                    )
                await asyncio.sleep(min(MAX_BACKOFF_S * failures, MAX_SLEEP_S))
                continue
            failures = 0
            await asyncio.sleep(self.seconds_until_next_day())

    async def run_pass(self) -> SnapshotPass:
        """Record every missing day up to the day that ended last; return what changed."""
        last_ended = self.last_ended_day()

        async def work(conn: asyncpg.Connection) -> SnapshotPass:
            result = SnapshotPass()
            if not await conn.fetchval(queries.try_snapshot_lock, SNAPSHOT_LOCK_KEY):
                result.locked_out = True
                return result
            latest: date | None = await conn.fetchval(queries.latest_snapshot_day)
            if latest is None:
                first = last_ended
            else:
                earliest = last_ended - timedelta(days=MAX_BACKFILL_DAYS - 1)
                first = max(latest + timedelta(days=1), earliest)
            day = first
            while day <= last_ended:
                start, end = self.day_bounds(day)
                units = await conn.fetch(queries.insert_snapshots, day, start, end)
                if units:
                    result.days.append(day)
                    result.rows += len(units)
                day += timedelta(days=1)
            return result

        result = await run_in_transaction(
            self.pool, work, action="record capacity snapshots"
        )
        if result.days:
            # NOTE: the capacity counts of a back-filled day are the live values
            # at recording time, not at that day's end; warnings and breaches are
            # exact.
            logger.info(
                "recorded %d capacity snapshots for %s to %s",
                result.rows,
                result.days[0].isoformat(),
                result.days[-1].isoformat(),
                extra=logs.fields(
                    event="capacity_snapshots_recorded",
                    rows=result.rows,
                    first_day=result.days[0].isoformat(),
                    last_day=result.days[-1].isoformat(),
                    back_filled_days=len([d for d in result.days if d < last_ended]),
                ),
            )
        return result
