"""The detection loop: marks SLA warnings and breaches, escalates them, and
re-escalates escalations that stay unacknowledged.

Each batch is one transaction that claims due clocks with FOR UPDATE SKIP LOCKED,
marks them in the same statement, inserts the escalations and writes the outbox
events. Any number of monitors may run against one database: a clock is claimed
by one transaction only, and the partial unique index on (work_item_id, level)
rejects a second level 1 escalation of an item in any case. Re-escalation runs
after the clocks in batches of its own (see `escalation`). A breach that finds
no recipient is kept in sla_unrouted_breaches and escalated once a recipient
exists, which the monitor checks every ROUTING_INTERVAL_S, never-tried breaches
first and then the least recently tried.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from assignment_engine.api.v1 import events_pb2
from assignment_engine.core import logs, subjects
from assignment_engine.core.db import CONNECTION_ERRORS, run_in_transaction
from assignment_engine.core.errors import EngineError
from assignment_engine.core.outbox import add_events
from assignment_engine.core.sql import load_queries
from assignment_engine.sla_monitor import escalation
from assignment_engine.sla_monitor.config import SlaMonitorSettings
from assignment_engine.sla_monitor.escalation import WarningEscalation

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "store.sql")

BREACH_LEVEL = 1
# Batches run back to back before a pass ends. When every batch was full, the
# next pass starts without sleeping.
MAX_BATCHES_PER_PASS = 20
# Shortest sleep between passes, so clocks that are due but held by another
# transaction are retried without spinning.
MIN_SLEEP_S = 0.01
MAX_BACKOFF_S = 5.0
# How often the monitor looks for a recipient of breaches that had none: one
# batch each time, or batch after batch while full batches find recipients.
ROUTING_INTERVAL_S = 5.0
# How often the monitor records unescalated breaches that have no row in
# sla_unrouted_breaches, such as those marked by a monitor that predates it.
SWEEP_INTERVAL_S = 600.0
# Failures of a pass that are logged and retried: the database is unreachable,
# a statement failed, or a transaction kept conflicting.
PASS_ERRORS: tuple[type[BaseException], ...] = (
    EngineError,
    asyncpg.PostgresError,
    *CONNECTION_ERRORS,
)


@dataclass(frozen=True)
class Breach:
    work_item_id: uuid.UUID
    assignee_id: str | None
    # None when no recipient qualified.
    escalation_id: uuid.UUID | None
    escalated_to_id: str | None
    # False when the item already had a level 1 escalation.
    newly_escalated: bool


@dataclass
class _Routing:
    """The outcome of one batch of breaches that had no recipient."""

    claimed: int
    # Work items whose clock stopped before anyone qualified.
    stopped: list[uuid.UUID]
    breaches: list[Breach] = field(default_factory=list)


@dataclass
class BatchResult:
    warned: list[uuid.UUID] = field(default_factory=list)
    warning_escalations: list[WarningEscalation] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    # Whether a claim returned a whole batch, so more clocks may be due.
    full: bool = False


class SlaMonitor:
    """Finds due SLA clocks and marks them, until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: SlaMonitorSettings,
        on_commit: Callable[[], None],
    ) -> None:
        self.pool = pool
        self.batch_size = settings.batch_size
        self.tick_interval_s = settings.tick_interval_s
        self.max_escalation_level = settings.max_escalation_level
        self.routing_interval_s = ROUTING_INTERVAL_S
        # Called after a transaction that wrote outbox events has committed.
        self.on_commit = on_commit
        # The first pass records missed breaches and routes the waiting ones.
        self._next_sweep_at = 0.0
        self._next_routing_at = 0.0

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                delay = await self.run_pass()
            except PASS_ERRORS as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, self.tick_interval_s * 2 ** min(failures, 8))
                # One warning per outage, then one per 20 failed passes.
                if failures == 1 or failures % 20 == 0:
                    logger.warning(
                        "SLA pass failed (%s: %s); retrying in %.2f s",
                        type(exc).__name__,
                        exc,
                        delay,
                        extra=logs.fields(
                            event="sla_pass_failed", attempt=failures, delay_s=delay
                        ),
                    )
            else:
                if failures:
                    logger.info(
                        "SLA monitor recovered after %d failed passes",
                        failures,
                        extra=logs.fields(event="sla_pass_recovered", attempt=failures),
                    )
                failures = 0
            await asyncio.sleep(delay)

    async def run_pass(self) -> float:
        """Process the due clocks, then the due re-escalations, batch by batch;
        return the seconds to sleep."""
        clocks_pending = True
        for _ in range(MAX_BATCHES_PER_PASS):
            result = await run_in_transaction(
                self.pool, self._process_batch, action="process due SLA clocks"
            )
            if result.warned or result.breaches:
                self.on_commit()
                self._log_batch(result)
            if not result.full:
                clocks_pending = False
                break
        climbs_pending = await self._climb()
        now = time.monotonic()
        sweep_due = now >= self._next_sweep_at
        routing_due = now >= self._next_routing_at
        # Both next times are set first, so a step that fails waits its interval
        # and the passes in between still mark clocks.
        if sweep_due:
            self._next_sweep_at = now + SWEEP_INTERVAL_S
        if routing_due:
            self._next_routing_at = now + self.routing_interval_s
        if sweep_due:
            await self._record_missed_breaches()
        if routing_due and await self._route_breaches():
            self._next_routing_at = 0.0
        if clocks_pending or climbs_pending:
            # A loop reached its batch limit with every batch full, so more is
            # due: start the next pass now.
            return 0.0
        async with self.pool.acquire() as conn:
            due_in: float | None = await conn.fetchval(queries.seconds_until_due)
        if due_in is None:
            return self.tick_interval_s
        return min(self.tick_interval_s, max(MIN_SLEEP_S, due_in))

    async def _climb(self) -> bool:
        """Re-escalate due escalations batch by batch; return whether more are due."""

        async def work(conn: asyncpg.Connection) -> escalation.ClimbBatch:
            return await escalation.climb_batch(
                conn, self.batch_size, self.max_escalation_level
            )

        for _ in range(MAX_BATCHES_PER_PASS):
            batch = await run_in_transaction(
                self.pool, work, action="re-escalate unacknowledged escalations"
            )
            escalation.log_climbs(batch.climbs)
            if not batch.full:
                return False
        return True

    async def _process_batch(self, conn: asyncpg.Connection) -> BatchResult:
        result = BatchResult()
        warnings = await conn.fetch(queries.claim_warnings, self.batch_size)
        warning_events = [
            _warning_event(
                row["work_item_id"],
                row["assignee_id"],
                row["deadline"],
                row["warned_at"],
            )
            for row in warnings
        ]
        result.warned.extend(row["work_item_id"] for row in warnings)
        result.warning_escalations = await escalation.add_warning_escalations(
            conn, warnings
        )

        claimed = await conn.fetch(queries.claim_breaches, self.batch_size)
        for row in claimed:
            # A breach implies the warning time passed, so a clock that was never
            # warned gets its warning event too.
            if row["warned_now"]:
                warning_events.append(
                    _warning_event(
                        row["work_item_id"],
                        row["assignee_id"],
                        row["deadline"],
                        row["breached_at"],
                    )
                )
                result.warned.append(row["work_item_id"])
        if warning_events:
            await add_events(conn, subjects.SLA_WARNING, warning_events)
        result.warning_escalations += await escalation.add_warning_escalations(
            conn, [row for row in claimed if row["warned_now"]]
        )
        result.full = self.batch_size in (len(warnings), len(claimed))
        result.breaches = await _escalate(conn, claimed, self.max_escalation_level)
        breach_events = [
            _breach_event(breach, row["breached_at"])
            for breach, row in zip(result.breaches, claimed, strict=True)
        ]
        if breach_events:
            await add_events(conn, subjects.SLA_BREACHED, breach_events)
        unrouted = [
            row
            for breach, row in zip(result.breaches, claimed, strict=True)
            if breach.escalation_id is None
        ]
        if unrouted:
            await conn.execute(
                queries.add_unrouted_breaches,
                [row["work_item_id"] for row in unrouted],
                [row["breached_at"] for row in unrouted],
            )
        return result

    async def _route_breaches(self) -> bool:
        """Escalate a batch of breaches that had no recipient, if one exists now.

        Drops the breaches whose clock has stopped. Returns whether the batch was
        full and made progress, so that more may be routable at once.
        """

        async def work(conn: asyncpg.Connection) -> _Routing:
            claimed = await conn.fetch(queries.claim_unrouted_breaches, self.batch_size)
            routing = _Routing(
                claimed=len(claimed),
                stopped=[
                    row["work_item_id"] for row in claimed if row["clock_stopped"]
                ],
            )
            routable = [
                row
                for row in claimed
                if not row["clock_stopped"] and row["escalated_to_id"] is not None
            ]
            routing.breaches = await _escalate(
                conn, routable, self.max_escalation_level
            )
            events = [
                _breach_event(breach, row["breached_at"])
                for breach, row in zip(routing.breaches, routable, strict=True)
                if breach.newly_escalated
            ]
            if events:
                await add_events(conn, subjects.SLA_BREACHED, events)
            done = [*routing.stopped, *(row["work_item_id"] for row in routable)]
            if done:
                await conn.execute(queries.delete_unrouted_breaches, done)
            waiting = [
                row["work_item_id"]
                for row in claimed
                if not row["clock_stopped"] and row["escalated_to_id"] is None
            ]
            if waiting:
                await conn.execute(queries.mark_unrouted_tried, waiting)
            return routing

        routing = await run_in_transaction(
            self.pool, work, action="escalate breaches that had no recipient"
        )
        routed = [breach for breach in routing.breaches if breach.newly_escalated]
        if routed:
            self.on_commit()
        for breach in routed:
            logger.info(
                "SLA breach of work item %s escalated to %s, now that a recipient "
                "exists",
                breach.work_item_id,
                breach.escalated_to_id,
                extra=logs.fields(
                    event="sla_breach_routed",
                    work_item_id=str(breach.work_item_id),
                    assignee_id=breach.assignee_id,
                    escalation_id=str(breach.escalation_id),
                    staff_id=breach.escalated_to_id,
                ),
            )
        for work_item_id in routing.stopped:
            logger.info(
                "SLA breach of work item %s dropped without an escalation: its "
                "clock stopped before anyone qualified",
                work_item_id,
                extra=logs.fields(
                    event="sla_breach_unrouted_dropped", work_item_id=str(work_item_id)
                ),
            )
        progressed = bool(routing.breaches or routing.stopped)
        return routing.claimed == self.batch_size and progressed

    async def _record_missed_breaches(self) -> None:
        """Record the unescalated breaches of running clocks that have no row."""
        async with self.pool.acquire() as conn:
            recorded = await conn.fetchval(queries.record_missed_unrouted_breaches)
        if recorded:
            logger.warning(
                "recorded %d unescalated SLA breaches that no monitor had recorded; "
                "they are escalated once someone qualifies",
                recorded,
                extra=logs.fields(event="sla_breach_unrouted_recorded", count=recorded),
            )

    def _log_batch(self, result: BatchResult) -> None:
        escalation.log_warning_escalations(result.warning_escalations)
        for breach in result.breaches:
            ids = {
                "work_item_id": str(breach.work_item_id),
                "assignee_id": breach.assignee_id,
            }
            if breach.escalation_id is None:
                logger.error(
                    "SLA of work item %s breached without an escalation: there is "
                    "no escalation contact, unit supervisor or admin other than "
                    "the assignee; add an admin, and the breach is escalated to "
                    "them when it is next tried (every %.0f s)",
                    breach.work_item_id,
                    self.routing_interval_s,
                    extra=logs.fields(event="sla_breach_unescalated", **ids),
                )
            elif breach.newly_escalated:
                logger.info(
                    "SLA breached and escalated to %s",
                    breach.escalated_to_id,
                    extra=logs.fields(
                        event="sla_breach_escalated",
                        escalation_id=str(breach.escalation_id),
                        staff_id=breach.escalated_to_id,
                        **ids,
                    ),
                )
            else:
                logger.info(
                    "SLA breached, but the item already had a level 1 escalation",
                    extra=logs.fields(
                        event="sla_breach_already_escalated",
                        escalation_id=str(breach.escalation_id),
                        staff_id=breach.escalated_to_id,
                        **ids,
                    ),
                )
        logger.info(
            "marked %d SLA warnings and %d breaches",
            len(result.warned),
            len(result.breaches),
            extra=logs.fields(
                event="sla_batch_marked",
                warnings=len(result.warned),
                breaches=len(result.breaches),
            ),
        )


def _breach_event(breach: Breach, breached_at: datetime) -> events_pb2.SlaBreached:
    """Build the event of a breach. Without a recipient it has no escalation id or
    recipient, and level 0."""
    event = events_pb2.SlaBreached(
        work_item_id=str(breach.work_item_id),
        assignee_id=breach.assignee_id or "",
        escalation_id=str(breach.escalation_id) if breach.escalation_id else "",
        escalated_to_id=breach.escalated_to_id or "",
        level=BREACH_LEVEL if breach.escalation_id else 0,
    )
    event.occurred_at.FromDatetime(breached_at)
    return event


def _warning_event(
    work_item_id: uuid.UUID,
    assignee_id: str | None,
    deadline: datetime,
    warned_at: datetime,
) -> events_pb2.SlaWarning:
    event = events_pb2.SlaWarning(
        work_item_id=str(work_item_id), assignee_id=assignee_id or ""
    )
    event.deadline.FromDatetime(deadline)
    event.occurred_at.FromDatetime(warned_at)
    return event


async def _escalate(
    conn: asyncpg.Connection, claimed: list[asyncpg.Record], max_level: int
) -> list[Breach]:
    """Insert the level 1 escalation of each claimed breach that has a recipient.

    The escalation climbs later unless `max_level` is 1. Returns one `Breach` per
    row of `claimed`, in the same order.
    """
    with_recipient = [row for row in claimed if row["escalated_to_id"] is not None]
    escalations: dict[uuid.UUID, asyncpg.Record] = {}
    if with_recipient:
        inserted = await conn.fetch(
            queries.insert_breach_escalations,
            [uuid.uuid4() for _ in with_recipient],
            [row["work_item_id"] for row in with_recipient],
            [row["assignment_id"] for row in with_recipient],
            [row["assignee_id"] for row in with_recipient],
            [row["escalated_to_id"] for row in with_recipient],
            max_level,
        )
        escalations = {row["work_item_id"]: row for row in inserted}
    new_ids = set(escalations)
    skipped = [
        row["work_item_id"]
        for row in with_recipient
        if row["work_item_id"] not in escalations
    ]
    if skipped:
        existing = await conn.fetch(queries.existing_breach_escalations, skipped)
        escalations.update({row["work_item_id"]: row for row in existing})

    breaches = []
    for row in claimed:
        escalation = escalations.get(row["work_item_id"])
        breaches.append(
            Breach(
                work_item_id=row["work_item_id"],
                assignee_id=row["assignee_id"],
                escalation_id=escalation["id"] if escalation else None,
                escalated_to_id=escalation["escalated_to_id"] if escalation else None,
                newly_escalated=row["work_item_id"] in new_ids,
            )
        )
    return breaches
