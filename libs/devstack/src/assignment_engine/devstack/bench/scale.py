"""Benchmark 2: the closed loop at 50 clients as the organisation grows.

Each size runs on a fresh stack. 500 and 5,000 staff (20 and 200 units) have
WIP limits of 3 to 8 and are preloaded to 80% of their capacity. 50,000 staff in
2,000 units have WIP limits of 22 to 31, so that exactly 1,000,000 active
assignments fit at about 80%. The preload writes work items, SLA clocks,
assignments and decisions consistent with staff_load. Reported next to each size: how long seeding
took, the engine's and the reference algorithm's throughput, the p99 growth
over 500 staff, and the execution time of the assigner's ranking statement
(EXPLAIN ANALYZE of rank_and_lock for random items).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import asyncpg

from assignment_engine.devstack.bench import reference
from assignment_engine.devstack.bench.driver import closed_loop, settle
from assignment_engine.devstack.bench.engine import EngineWorkload
from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.org import (
    ItemFactory,
    OrgSpec,
    preload_assignments,
    seed_org,
)
from assignment_engine.devstack.bench.session import (
    Session,
    open_pool,
    running_stack,
    seeding_connection,
)
from assignment_engine.devstack.bench.stats import median_of, ratio
from assignment_engine.devstack.bench.throughput import summarize_load
from assignment_engine.devstack.invariants import check_all

logger = logging.getLogger(__name__)

STAFF_PER_UNIT = 25
RANK_SAMPLES = 20
# Staff per scale_reference_run_s of the reference algorithm's run.
REFERENCE_STAFF_PER_RUN = 12_500
TARGET_P99_GROWTH = 3.0
TARGET_REFERENCE_RATIO = {50_000: 30.0}
# Invariants that read every assignment or person once; the others scan the queue.
CHECKED = {
    "every load counter equals the real count",
    "nobody is over their WIP limit",
    "the ranking's copy of staff and load is current",
}


def reference_run_s(size: int, options: Options) -> float:
    """Return the reference algorithm's run length at `size` staff.

    At 50,000 staff one decision of each of the 50 clients took about 17 s on
    2 cores, so the run grows with the organisation to span several rounds.
    It has no warm-up, so that the first round counts.
    """
    return options.scale_reference_run_s * max(1.0, size / REFERENCE_STAFF_PER_RUN)


def spec_for(size: int) -> OrgSpec:
    """Return the organisation benchmarked at `size` staff."""
    units = max(1, size // STAFF_PER_UNIT)
    if size >= 50_000:
        return OrgSpec(size, units, wip_min=22, wip_max=31, preload_total=1_000_000)
    return OrgSpec(size, units, utilisation=0.8)


async def rank_timing(conn: asyncpg.Connection, units: int) -> dict[str, float]:
    """Median and max execution time of rank_and_lock, from EXPLAIN ANALYZE."""
    from assignment_engine.assigner import store

    factory = ItemFactory(units, seed=3, prefix="explain")
    times = []
    for _ in range(RANK_SAMPLES):
        _, skills, unit, _ = factory.next()
        plan = await conn.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + store.queries.rank_and_lock,
            skills,
            unit,
            1,
            40.0,
            30.0,
            20.0,
            10.0,
            5,
        )
        times.append(float(plan[0]["Execution Time"]))
    return {"median_ms": median_of(times), "max_ms": max(times)}


async def _seed(session: Session, spec: OrgSpec) -> tuple[int, float, dict[str, bool]]:
    began = time.perf_counter()
    async with seeding_connection(session) as conn:
        await seed_org(conn, spec)
        active = await preload_assignments(conn)
        seeded_s = time.perf_counter() - began
        checks = {
            result.description: result.holds
            for result in await check_all(conn)
            if result.description in CHECKED
        }
    return active, seeded_s, checks


async def run_size(size: int, options: Options) -> dict[str, Any]:
    spec = spec_for(size)
    async with running_stack(f"scale-{size}") as session:
        active, seeded_s, checks = await _seed(session, spec)
        logger.info(
            "scale %d: %d active assignments seeded in %.1f s", size, active, seeded_s
        )
        async with session.pool.acquire() as conn:
            ranking = await rank_timing(conn, spec.units)
        factory = ItemFactory(spec.units, seed=size, prefix=f"scale{size}")
        engine = await EngineWorkload.create(session.stack, session.pool, factory)
        try:
            settled = await settle(engine)
            result = await closed_loop(
                engine, options.scale_clients, options.scale_run_s, options.warmup_s
            )
        finally:
            await engine.close()
        async with seeding_connection(session) as conn:
            await reference.reset(conn)
        clients = options.scale_clients
        pool = await open_pool(
            session.stack.database_url,
            clients + reference.completer_workers(clients) + 1,
        )
        try:
            ref_workload = await reference.ReferenceWorkload.create(
                pool, ItemFactory(spec.units, seed=size, prefix=f"ref{size}")
            )
            ref_result = await closed_loop(
                ref_workload, clients, reference_run_s(size, options), warmup_s=0.0
            )
        finally:
            await pool.close()
        peaks = session.rss.peaks_mib()
    engine_summary = summarize_load([result])
    ref_summary = summarize_load([ref_result])
    engine_rate = engine_summary["assignments_per_s"]
    return {
        "staff": size,
        "units": spec.units,
        "preloaded_active": active,
        "seeding_s": round(seeded_s, 1),
        "invariants": checks,
        "rank_and_lock": ranking,
        "settle_before_engine": settled,
        "engine": engine_summary,
        "reference": ref_summary,
        "reference_retries": ref_workload.retries,
        "engine_vs_reference": ratio(engine_rate, ref_summary["assignments_per_s"]),
        "reference_run_s": ref_result.duration_s,
        # A reference run that assigned nothing in its duration ran at less than
        # one assignment per duration, so the engine was more than
        # engine_rate * duration times as fast.
        "engine_vs_reference_above": engine_rate * ref_result.duration_s
        if ref_result.total_assigned == 0
        else None,
        "peak_rss_mib": peaks,
    }


async def run(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    rows = []
    for size in options.sizes:
        rows.append(await run_size(size, options))
    base = next((row for row in rows if row["staff"] == 500), None)
    targets: dict[str, bool] = {}
    for row in rows:
        p99 = row["engine"]["latency"]["p99_ms"]
        row["p99_growth_vs_500"] = (
            ratio(p99, base["engine"]["latency"]["p99_ms"]) if base else None
        )
        if base is not None and row["staff"] != 500:
            targets[f"p99 growth < 3× at {row['staff']:,} staff"] = (
                row["p99_growth_vs_500"] < TARGET_P99_GROWTH
            )
        required_ratio = TARGET_REFERENCE_RATIO.get(row["staff"])
        if required_ratio is not None:
            achieved = row["engine_vs_reference_above"] or row["engine_vs_reference"]
            targets[f"≥{required_ratio:g}× the reference at {row['staff']:,} staff"] = (
                achieved >= required_ratio
            )
    return {
        "clients": options.scale_clients,
        "sizes": rows,
        "targets": targets,
        "elapsed_s": round(time.perf_counter() - began, 1),
    }
