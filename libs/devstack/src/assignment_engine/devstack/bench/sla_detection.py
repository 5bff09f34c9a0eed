"""Benchmark 3b: detection latency of the running SLA monitor.

The stack's database gets 10,000 active clocks on assigned items, none due. Then
`detection_due` of them are moved so that their warning time (half of them) or
their deadline (the other half, already warned) falls due at evenly spread
moments of a window starting 2 s later. The latency of each is the escalation's
escalated_at minus the due time, both database timestamps. escalated_at is the
start of the monitor's transaction, so the commit comes up to one batch later.
A poll every 10 ms therefore also records when each escalation became visible.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.org import OrgSpec, preload_assignments, seed_org
from assignment_engine.devstack.bench.session import running_stack, seeding_connection
from assignment_engine.devstack.bench.stats import summarize_ms

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.01
LEAD_S = 2.0
# Time after the window's end to wait for the last escalations.
GRACE_S = 15.0
TARGET_P99_MS = 250.0

SCHEDULE = """
WITH chosen AS (
    SELECT work_item_id, row_number() OVER (ORDER BY work_item_id) - 1 AS n
    FROM sla_clocks
    ORDER BY work_item_id
    LIMIT $1
),
timed AS (
    SELECT work_item_id, n % 2 = 0 AS warning,
           clock_timestamp() + make_interval(secs => $2::float8 + $3::float8 * n / $1::integer) AS due
    FROM chosen
)
UPDATE sla_clocks c
SET warning_at = CASE WHEN t.warning THEN t.due ELSE t.due - interval '1 minute' END,
    warned_at = CASE WHEN t.warning THEN NULL ELSE clock_timestamp() END,
    deadline = CASE WHEN t.warning THEN c.deadline ELSE t.due END
FROM timed t
WHERE c.work_item_id = t.work_item_id
RETURNING c.work_item_id, t.warning, t.due
"""
SEEN = """
SELECT work_item_id, reason FROM escalation_events
WHERE reason IN ('sla_warning', 'sla_breach')
"""
OUTCOME = """
SELECT e.work_item_id, e.reason, e.escalated_at, c.warning_at, c.deadline,
       c.warned_at, c.breached_at
FROM escalation_events e
JOIN sla_clocks c ON c.work_item_id = e.work_item_id
WHERE e.reason IN ('sla_warning', 'sla_breach')
"""


async def run(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    async with running_stack("sla-detection") as session:
        async with seeding_connection(session) as conn:
            staff = options.detection_clocks // 20
            await seed_org(
                conn,
                OrgSpec(
                    staff=staff,
                    units=max(1, staff // 25),
                    wip_min=25,
                    wip_max=25,
                    preload_total=options.detection_clocks,
                ),
            )
            await preload_assignments(conn)
            scheduled = await conn.fetch(
                SCHEDULE, options.detection_due, LEAD_S, options.detection_window_s
            )
        due_at = {row["work_item_id"]: row["due"] for row in scheduled}
        seen_at: dict[tuple[object, str], float] = {}
        deadline = time.monotonic() + LEAD_S + options.detection_window_s + GRACE_S
        async with session.pool.acquire() as conn:
            while len(seen_at) < len(due_at) and time.monotonic() < deadline:
                now = time.time()
                for row in await conn.fetch(SEEN):
                    seen_at.setdefault((row["work_item_id"], row["reason"]), now)
                await asyncio.sleep(POLL_INTERVAL_S)
            outcome = await conn.fetch(OUTCOME)
        peaks = session.rss.peaks_mib()
    return _summarize(
        due_at, seen_at, outcome, peaks, options, time.perf_counter() - began
    )


def _summarize(
    due_at: dict[Any, datetime],
    seen_at: dict[tuple[object, str], float],
    outcome: list[Any],
    peaks: dict[str, float],
    options: Options,
    elapsed_s: float,
) -> dict[str, Any]:
    stamped: dict[str, list[float]] = {"sla_warning": [], "sla_breach": []}
    visible: dict[str, list[float]] = {"sla_warning": [], "sla_breach": []}
    for row in outcome:
        item = row["work_item_id"]
        if item not in due_at:
            continue
        due = row["warning_at"] if row["reason"] == "sla_warning" else row["deadline"]
        stamped[row["reason"]].append((row["escalated_at"] - due).total_seconds())
        seen = seen_at.get((item, row["reason"]))
        if seen is not None:
            visible[row["reason"]].append(seen - due.timestamp())
    breach = summarize_ms(stamped["sla_breach"])
    return {
        "active_clocks": options.detection_clocks,
        "due": len(due_at),
        "window_s": options.detection_window_s,
        "detected": {reason: len(values) for reason, values in stamped.items()},
        "escalated_at_minus_due": {r: summarize_ms(v) for r, v in stamped.items()},
        "visible_minus_due": {r: summarize_ms(v) for r, v in visible.items()},
        "target_p99_ms": TARGET_P99_MS,
        "target_met": breach["count"] > 0 and breach["p99_ms"] < TARGET_P99_MS,
        "peak_rss_mib": peaks,
        "elapsed_s": round(elapsed_s, 1),
    }
