"""Run lengths and sizes of a benchmark run, full or `--quick`."""

from __future__ import annotations

from dataclasses import dataclass

# In the order a run measures them.
BENCHMARKS = ("throughput", "scale", "sla", "drain", "memory")


@dataclass(frozen=True)
class Options:
    quick: bool = False
    # Alternating rounds of engine, reference and pgbench runs. Figures are the
    # median over rounds.
    rounds: int = 2
    clients: tuple[int, ...] = (1, 10, 50, 200)
    warmup_s: float = 3.0
    engine_run_s: float = 20.0
    reference_run_s: float = 10.0
    pgbench_run_s: int = 10
    open_rate: float = 500.0
    open_run_s: float = 20.0
    # Scale: staff counts, and the closed loop's clients and length at each.
    sizes: tuple[int, ...] = (500, 5000, 50000)
    scale_clients: int = 50
    scale_run_s: float = 15.0
    scale_reference_run_s: float = 15.0
    # SLA: active clocks of the pass benchmark, repetitions of each pass.
    sla_sizes: tuple[int, ...] = (5000, 100_000, 1_000_000)
    sla_repetitions: int = 15
    detection_clocks: int = 10_000
    detection_due: int = 1000
    detection_window_s: float = 30.0
    # Drain: queue length, one-at-a-time samples, bursts of `burst_size`.
    drain_queue: int = 10_000
    drain_samples: int = 200
    drain_bursts: int = 5
    burst_size: int = 100
    # Memory soak at a constant offered rate.
    soak_s: float = 600.0
    soak_rate: float = 200.0

    @classmethod
    def quick_run(cls) -> Options:
        return cls(
            quick=True,
            rounds=1,
            warmup_s=2.0,
            engine_run_s=6.0,
            reference_run_s=4.0,
            pgbench_run_s=4,
            open_run_s=6.0,
            sizes=(500, 5000),
            scale_run_s=5.0,
            scale_reference_run_s=5.0,
            sla_sizes=(5000, 100_000),
            sla_repetitions=5,
            detection_due=200,
            detection_window_s=10.0,
            drain_samples=100,
            drain_bursts=3,
            soak_s=60.0,
        )
