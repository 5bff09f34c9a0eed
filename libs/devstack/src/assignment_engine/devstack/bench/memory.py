"""Benchmark 5: memory. Peak RSS per service, and a soak at constant load.

Peak RSS of each service during benchmarks 1 to 4 comes from their samplers.
The soak fills the reference organisation to 80% and then offers `soak_rate`
submissions per second for `soak_s` seconds while completions hold utilisation
near 80%. It reports each service's RSS at the start, at each minute and at the
end, and the least-squares slope over the samples after the first minute (over
all samples when the soak is shorter than two minutes). A slope above 1 MiB per
minute is flagged as growth: a heuristic, since allocators return memory late.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from assignment_engine.devstack.bench.driver import TARGET_UTILISATION, open_loop
from assignment_engine.devstack.bench.engine import EngineWorkload
from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.org import REFERENCE_ORG, ItemFactory, seed_org
from assignment_engine.devstack.bench.session import running_stack, seeding_connection
from assignment_engine.devstack.bench.stats import slope
from assignment_engine.devstack.bench.throughput import fill

logger = logging.getLogger(__name__)

GROWTH_FLAG_MIB_PER_MIN = 1.0


def rss_timeline(
    samples: list[tuple[float, float]], start_s: float, duration_s: float
) -> dict[str, Any]:
    """Summarize (time s, RSS MiB) samples between start_s and start_s + duration_s.

    Returns the first and last RSS, the RSS at each whole minute (the last sample
    at or before it), the slope in MiB per minute and whether it is flagged.
    """
    window = [
        (t - start_s, rss) for t, rss in samples if start_s <= t <= start_s + duration_s
    ]
    if not window:
        return {
            "start_mib": None,
            "end_mib": None,
            "per_minute_mib": [],
            "slope_mib_per_min": None,
        }
    per_minute = []
    for minute in range(1, int(duration_s // 60) + 1):
        before = [rss for t, rss in window if t <= minute * 60]
        if before:
            per_minute.append(round(before[-1], 1))
    settled = (
        [(t, rss) for t, rss in window if t >= 60] if duration_s >= 120 else window
    )
    rate = slope([t / 60 for t, _ in settled], [rss for _, rss in settled])
    return {
        "start_mib": round(window[0][1], 1),
        "end_mib": round(window[-1][1], 1),
        "per_minute_mib": per_minute,
        "slope_mib_per_min": round(rate, 3),
        "growth_flagged": rate > GROWTH_FLAG_MIB_PER_MIN,
    }


async def soak(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    async with running_stack("soak") as session:
        async with seeding_connection(session) as conn:
            await seed_org(conn, REFERENCE_ORG)
        engine = await EngineWorkload.create(
            session.stack,
            session.pool,
            ItemFactory(REFERENCE_ORG.units, seed=7, prefix="soak"),
        )
        try:
            await fill(engine, TARGET_UTILISATION)
            soak_from = time.monotonic() - session.rss.started
            result = await open_loop(engine, options.soak_rate, options.soak_s, 0.0)
        finally:
            await engine.close()
        samples = dict(session.rss.samples)
    services = {
        name: rss_timeline(values, soak_from, options.soak_s)
        for name, values in samples.items()
    }
    return {
        "duration_s": options.soak_s,
        "offered_per_s": options.soak_rate,
        "load": result.to_dict(),
        "rss": services,
        "growth_flagged": sorted(
            name for name, r in services.items() if r.get("growth_flagged")
        ),
        "elapsed_s": round(time.perf_counter() - began, 1),
    }
