"""Benchmark 1: assignment throughput and latency of the reference organisation.

The engine, the reference algorithm and pgbench's bare transaction run one after
the other at each client count, round after round, so a noisy spell of the
machine hits all three alike. Reported figures are medians over the rounds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from assignment_engine.devstack.bench import pgbench, reference
from assignment_engine.devstack.bench.activity import ActivitySampler
from assignment_engine.devstack.bench.driver import (
    TARGET_UTILISATION,
    LoadResult,
    Workload,
    closed_loop,
    open_loop,
    settle,
)
from assignment_engine.devstack.bench.engine import EngineWorkload
from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.org import REFERENCE_ORG, ItemFactory, seed_org
from assignment_engine.devstack.bench.resources import CpuMeter
from assignment_engine.devstack.bench.session import (
    Session,
    open_pool,
    running_stack,
    seeding_connection,
)
from assignment_engine.devstack.bench.stats import median_of, ratio

logger = logging.getLogger(__name__)

FILL_CLIENTS = 50
FILL_TIMEOUT_S = 120.0
# pgbench clients for the open loop's ceiling: enough to keep up with the rate.
OPEN_PGBENCH_CLIENTS = 50
OTHER = "other processes"
OTHER_CORES = "other processes (cores)"
TARGETS = {
    "assignments_per_s_at_50": 1000.0,
    "assignments_per_s_at_50_stretch": 1500.0,
    "open_p99_ms": 10.0,
    "reference_ratio_at_50": 3.0,
}


async def fill(workload: Workload, target: float) -> int:
    """Submit until utilisation reaches `target` and return the submissions made.

    Bounded by three times the capacity in submissions and FILL_TIMEOUT_S.
    """
    active, _ = await workload.snapshot(1)
    goal = target * workload.capacity
    budget = 3 * workload.capacity
    deadline = time.monotonic() + FILL_TIMEOUT_S
    submitted = 0

    async def client() -> None:
        nonlocal active, submitted
        while active < goal and submitted < budget and time.monotonic() < deadline:
            submitted += 1
            if await workload.submit() == "assigned":
                active += 1

    await asyncio.gather(*(client() for _ in range(FILL_CLIENTS)))
    return submitted


def summarize_load(results: list[LoadResult]) -> dict[str, Any]:
    """Return the median figures over rounds, with each round's figures."""
    rounds = [result.to_dict() for result in results]
    keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")
    return {
        "assignments_per_s": median_of([r["assignments_per_s"] for r in rounds]),
        "replies_per_s": median_of([r["replies_per_s"] for r in rounds]),
        "latency": {k: median_of([r["latency"][k] for r in rounds]) for k in keys},
        "rounds": rounds,
    }


def summarize_pgbench(results: list[pgbench.PgbenchResult]) -> dict[str, Any]:
    keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")
    return {
        "tps": median_of([r.tps for r in results]),
        "latency": {
            k: median_of([r.latency.get(k, float("nan")) for r in results])
            for k in keys
        },
        "rounds": [
            {
                "tps": r.tps,
                "latency_avg_ms": r.latency_avg_ms,
                "transactions": r.transactions,
                "failed": r.failed,
                "latency": r.latency,
            }
            for r in results
        ],
    }


async def _reference_run(
    session: Session, factory: ItemFactory, clients: int, run: Any
) -> tuple[LoadResult, int]:
    """Reset the reference tables from the engine's state and run `run` on them."""
    async with seeding_connection(session) as conn:
        await reference.reset(conn)
    pool = await open_pool(
        session.stack.database_url, clients + reference.completer_workers(clients) + 1
    )
    try:
        workload = await reference.ReferenceWorkload.create(pool, factory)
        result = await run(workload)
        return result, workload.retries
    finally:
        await pool.close()


async def run(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    async with running_stack("throughput") as session:
        async with seeding_connection(session) as conn:
            staff = await seed_org(conn, REFERENCE_ORG)
            await pgbench.prepare(conn, len(staff))
        engine_factory = ItemFactory(REFERENCE_ORG.units, seed=11, prefix="engine")
        reference_factory = ItemFactory(REFERENCE_ORG.units, seed=11, prefix="ref")
        engine = await EngineWorkload.create(
            session.stack, session.pool, engine_factory
        )
        try:
            filled = await fill(engine, TARGET_UTILISATION)
            logger.info(
                "filled to %.0f%% with %d submissions", TARGET_UTILISATION * 100, filled
            )
            closed: dict[int, dict[str, list[Any]]] = {
                clients: {
                    "engine": [],
                    "reference": [],
                    "pgbench": [],
                    "retries": [],
                    "cpu": [],
                    "activity": [],
                    "settle": [],
                }
                for clients in options.clients
            }
            opened: dict[str, list[Any]] = {
                "settle": [],
                "engine": [],
                "reference": [],
                "pgbench": [],
                "cpu": [],
            }
            for round_number in range(options.rounds):
                for clients in options.clients:
                    logger.info("round %d: %d clients", round_number + 1, clients)
                    closed[clients]["settle"].append(await settle(engine))
                    cpu = CpuMeter(session.stack)
                    activity = ActivitySampler(session.stack.database_url)
                    cpu.start()
                    activity.start()
                    result = await closed_loop(
                        engine, clients, options.engine_run_s, options.warmup_s
                    )
                    closed[clients]["activity"].append(await activity.stop())
                    closed[clients]["cpu"].append(
                        _cpu_per_assignment(cpu.stop(), result)
                    )
                    closed[clients]["engine"].append(result)
                    ref_result, retries = await _reference_run(
                        session,
                        reference_factory,
                        clients,
                        lambda w, c=clients: closed_loop(
                            w, c, options.reference_run_s, options.warmup_s / 2
                        ),
                    )
                    closed[clients]["reference"].append(ref_result)
                    closed[clients]["retries"].append(retries)
                    async with session.pool.acquire() as conn:
                        closed[clients]["pgbench"].append(
                            await pgbench.run(
                                session.stack.database_url,
                                conn,
                                clients=clients,
                                duration_s=options.pgbench_run_s,
                                rows=len(staff),
                            )
                        )
                logger.info(
                    "round %d: open loop at %.0f/s", round_number + 1, options.open_rate
                )
                opened["settle"].append(await settle(engine))
                cpu = CpuMeter(session.stack)
                cpu.start()
                result = await open_loop(
                    engine, options.open_rate, options.open_run_s, options.warmup_s
                )
                opened["cpu"].append(_cpu_per_assignment(cpu.stop(), result))
                opened["engine"].append(result)
                ref_result, _ = await _reference_run(
                    session,
                    reference_factory,
                    OPEN_PGBENCH_CLIENTS,
                    lambda w: open_loop(
                        w,
                        options.open_rate,
                        options.reference_run_s,
                        options.warmup_s / 2,
                    ),
                )
                opened["reference"].append(ref_result)
                async with session.pool.acquire() as conn:
                    opened["pgbench"].append(
                        await pgbench.run(
                            session.stack.database_url,
                            conn,
                            clients=OPEN_PGBENCH_CLIENTS,
                            duration_s=options.pgbench_run_s,
                            rows=len(staff),
                            rate=options.open_rate,
                        )
                    )
        finally:
            await engine.close()
        peaks = session.rss.peaks_mib()
    return _assemble(options, closed, opened, peaks, time.perf_counter() - began)


def _cpu_per_assignment(cpu: dict[str, float], result: LoadResult) -> dict[str, float]:
    """CPU milliseconds per assignment of each component, warm-up included.

    The figure includes the completions and queue drains that the run caused.
    "other processes" becomes the mean number of cores that processes outside
    the benchmark used during the run.
    """
    total = result.total_assigned or 1
    wall = result.wall_s or 1.0
    report = {
        name: round(seconds * 1000.0 / total, 3)
        for name, seconds in cpu.items()
        if name != OTHER
    }
    report[OTHER_CORES] = round(cpu.get(OTHER, 0.0) / wall, 2)
    return report


def _assemble(
    options: Options,
    closed: dict[int, dict[str, list[Any]]],
    opened: dict[str, list[Any]],
    peaks: dict[str, float],
    elapsed_s: float,
) -> dict[str, Any]:
    rows = []
    for clients, runs in closed.items():
        engine = summarize_load(runs["engine"])
        ref = summarize_load(runs["reference"])
        ceiling = summarize_pgbench(runs["pgbench"])
        rows.append(
            {
                "clients": clients,
                "engine": engine,
                "reference": ref,
                "reference_retries": runs["retries"],
                "pgbench": ceiling,
                "engine_vs_reference": ratio(
                    engine["assignments_per_s"], ref["assignments_per_s"]
                ),
                "engine_vs_pgbench": ratio(engine["assignments_per_s"], ceiling["tps"]),
                "cpu_ms_per_assignment": runs["cpu"],
                "postgres_activity": runs["activity"],
                "settle_before_engine": runs["settle"],
            }
        )
    open_engine = summarize_load(opened["engine"])
    open_summary = {
        "rate": options.open_rate,
        "engine": open_engine,
        "reference": summarize_load(opened["reference"]),
        "pgbench": summarize_pgbench(opened["pgbench"]),
        "cpu_ms_per_assignment": opened["cpu"],
        "settle_before_engine": opened["settle"],
    }
    at_50 = next((row for row in rows if row["clients"] == 50), None)
    targets = {}
    if at_50 is not None:
        rate = at_50["engine"]["assignments_per_s"]
        targets["≥1,000 assignments/s at 50 clients"] = (
            rate >= TARGETS["assignments_per_s_at_50"]
        )
        targets["≥1,500 assignments/s at 50 clients (stretch)"] = (
            rate >= TARGETS["assignments_per_s_at_50_stretch"]
        )
        targets["≥3× the reference algorithm at 50 clients"] = (
            at_50["engine_vs_reference"] >= TARGETS["reference_ratio_at_50"]
        )
    targets["p99 < 10 ms at 500/s offered"] = (
        open_engine["latency"]["p99_ms"] < TARGETS["open_p99_ms"]
    )
    return {
        "closed_loop": rows,
        "open_loop": open_summary,
        "peak_rss_mib": peaks,
        "targets": targets,
        "elapsed_s": round(elapsed_s, 1),
    }
