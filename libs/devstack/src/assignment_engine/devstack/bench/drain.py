"""Benchmark 4: queue drain, from a completion to the next queued item's assignment.

Every eligible person of the reference organisation is at their WIP limit and
the queue holds `drain_queue` items needing 1 or 2 skills. A completion then
frees exactly one place, so the next assignment goes to the person just freed.
The latency is the new assignment's assigned_at minus the completion's
ended_at, both database timestamps (ended_at is the completion transaction's
start, assigned_at is set just before the assignment commits). The benchmark
also records the time from the CompleteAssignment reply to the moment a 1 ms
poll finds the new assignment. Completions run one at a time, then in bursts.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from assignment_engine.devstack.bench.engine import EngineWorkload
from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.org import (
    REFERENCE_ORG,
    ItemFactory,
    OrgSpec,
    preload_assignments,
    seed_org,
    seed_queue,
)
from assignment_engine.devstack.bench.session import running_stack, seeding_connection
from assignment_engine.devstack.bench.stats import summarize_ms

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.001
SAMPLE_TIMEOUT_S = 5.0
BURST_TIMEOUT_S = 10.0
TARGET_SINGLE_P99_MS = 50.0
TARGET_BURST_S = 1.0

ROOM_LEFT = """
SELECT count(*) FROM staff s JOIN staff_load l ON l.staff_id = s.id
WHERE s.availability IN ('available', 'busy') AND s.wip_limit > 0
  AND l.active_count < s.wip_limit
"""
ACTIVE_BY_STAFF = """
SELECT a.id, a.assignee_id FROM assignments a
WHERE a.status = 'assigned'
ORDER BY a.assignee_id, a.id
"""
NEXT_ASSIGNMENT = """
SELECT assigned_at FROM assignments
WHERE assignee_id = $1 AND assigned_at > $2
ORDER BY assigned_at LIMIT 1
"""
BURST_PROGRESS = """
SELECT count(DISTINCT assignee_id) AS staff, max(assigned_at) AS last
FROM assignments
WHERE assignee_id = ANY ($1::text[]) AND assigned_at > $2
"""


class Rotation:
    """Hands out one active assignment per person, person after person."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        by_staff: dict[str, collections.deque[Any]] = {}
        for row in rows:
            by_staff.setdefault(row["assignee_id"], collections.deque()).append(
                row["id"]
            )
        self.by_staff = by_staff
        self.order = collections.deque(sorted(by_staff))

    def take(self, count: int) -> list[tuple[Any, str]]:
        """Return `count` (assignment id, staff id) pairs of distinct people."""
        pairs = []
        for _ in range(min(count, len(self.order))):
            staff_id = self.order.popleft()
            queue = self.by_staff[staff_id]
            pairs.append((queue.popleft(), staff_id))
            if queue:
                self.order.append(staff_id)
        return pairs


def _ended_at(reply: Any) -> datetime:
    return reply.assignment.ended_at.ToDatetime(tzinfo=UTC)


async def _single(
    engine: EngineWorkload, conn: asyncpg.Connection, assignment_id: Any, staff_id: str
) -> tuple[float, float] | None:
    """Complete one assignment and return the DB and observed latency in seconds."""
    reply = await engine.complete_reply(assignment_id)
    if reply is None:
        return None
    replied = time.perf_counter()
    ended = _ended_at(reply)
    give_up = replied + SAMPLE_TIMEOUT_S
    while time.perf_counter() < give_up:
        assigned = await conn.fetchval(NEXT_ASSIGNMENT, staff_id, ended)
        if assigned is not None:
            return (assigned - ended).total_seconds(), time.perf_counter() - replied
        await asyncio.sleep(POLL_INTERVAL_S)
    return None


async def _burst(
    engine: EngineWorkload, conn: asyncpg.Connection, pairs: list[tuple[Any, str]]
) -> dict[str, Any]:
    began = time.perf_counter()
    replies = await asyncio.gather(*(engine.complete_reply(aid) for aid, _ in pairs))
    completed = [reply for reply in replies if reply is not None]
    if not completed:
        return {"completed": 0, "reassigned": 0}
    first_ended = min(_ended_at(reply) for reply in completed)
    staff = [
        staff_id for (_, staff_id), reply in zip(pairs, replies, strict=True) if reply
    ]
    give_up = time.perf_counter() + BURST_TIMEOUT_S
    row = None
    while time.perf_counter() < give_up:
        row = await conn.fetchrow(BURST_PROGRESS, staff, first_ended)
        if row["staff"] >= len(staff):
            break
        await asyncio.sleep(POLL_INTERVAL_S)
    observed = time.perf_counter() - began
    reassigned = row["staff"] if row else 0
    all_s = (
        (row["last"] - first_ended).total_seconds()
        if row and row["last"] and reassigned >= len(staff)
        else None
    )
    return {
        "completed": len(completed),
        "reassigned": reassigned,
        "all_assigned_s": all_s,
        "observed_s": observed if reassigned >= len(staff) else None,
    }


async def run(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    async with running_stack("drain") as session:
        async with seeding_connection(session) as conn:
            spec = OrgSpec(
                staff=REFERENCE_ORG.staff, units=REFERENCE_ORG.units, utilisation=1.0
            )
            await seed_org(conn, spec)
            await preload_assignments(conn)
            await seed_queue(conn, options.drain_queue, spec.units)
            room = int(await conn.fetchval(ROOM_LEFT))
            rotation = Rotation(await conn.fetch(ACTIVE_BY_STAFF))
        engine = await EngineWorkload.create(
            session.stack, session.pool, ItemFactory(spec.units, seed=5, prefix="drain")
        )
        db_latencies: list[float] = []
        observed: list[float] = []
        missing = 0
        bursts = []
        try:
            async with session.pool.acquire() as conn:
                for assignment_id, staff_id in rotation.take(options.drain_samples):
                    sample = await _single(engine, conn, assignment_id, staff_id)
                    if sample is None:
                        missing += 1
                        continue
                    db_latencies.append(sample[0])
                    observed.append(sample[1])
                for _ in range(options.drain_bursts):
                    bursts.append(
                        await _burst(engine, conn, rotation.take(options.burst_size))
                    )
                queue_left = await conn.fetchval("SELECT count(*) FROM queue_entries")
        finally:
            await engine.close()
        peaks = session.rss.peaks_mib()
    single = summarize_ms(db_latencies)
    burst_times = [
        b["all_assigned_s"] for b in bursts if b.get("all_assigned_s") is not None
    ]
    return {
        "queue_length": options.drain_queue,
        "staff_with_room_before": room,
        "queue_left": int(queue_left),
        "single": {
            "samples": len(db_latencies),
            "not_reassigned": missing,
            "assigned_minus_ended": single,
            "reply_to_visible": summarize_ms(observed),
        },
        "bursts": {
            "size": options.burst_size,
            "runs": bursts,
            "all_assigned": summarize_ms(burst_times),
        },
        "targets": {
            "one at a time p99 < 50 ms": single["count"] > 0
            and single["p99_ms"] < TARGET_SINGLE_P99_MS,
            "burst of 100 assigned within 1 s": len(burst_times) == len(bursts)
            and bool(burst_times)
            and max(burst_times) < TARGET_BURST_S,
        },
        "peak_rss_mib": peaks,
        "elapsed_s": round(time.perf_counter() - began, 1),
    }
