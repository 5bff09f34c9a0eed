"""Benchmark 3: the SLA monitor's pass cost at three sizes, then its detection latency."""

from __future__ import annotations

import logging
import time
from typing import Any

from assignment_engine.devstack.bench import sla_detection, sla_pass
from assignment_engine.devstack.bench.options import Options
from assignment_engine.devstack.bench.session import running_stack

logger = logging.getLogger(__name__)

LARGE_PASS = 1_000_000


async def run(options: Options) -> dict[str, Any]:
    began = time.perf_counter()
    passes = []
    async with running_stack("sla-pass") as session:
        for clocks in options.sla_sizes:
            passes.append(
                await sla_pass.run_size(session, clocks, options.sla_repetitions)
            )
    detection = await sla_detection.run(options)
    targets = {
        f"claim pass < {row['target_ms']:g} ms at {row['clocks']:,} clocks": row[
            "claim_target_met"
        ]
        for row in passes
        if row["target_ms"] is not None
    }
    targets |= {
        f"monitor code pass < {row['target_ms']:g} ms at {row['clocks']:,} clocks": row[
            "monitor_code_target_met"
        ]
        for row in passes
        if row["target_ms"] is not None
    }
    targets["detection p99 < 250 ms"] = detection["target_met"]
    return {
        "pass": passes,
        "detection": detection,
        "targets": targets,
        "elapsed_s": round(time.perf_counter() - began, 1),
    }
