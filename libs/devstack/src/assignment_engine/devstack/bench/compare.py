"""The headline figures of two ae-bench results files, side by side.

`ae-bench --compare OLD NEW` prints one row per figure that either run has,
with the ratio NEW ÷ OLD and whether a higher or a lower value is better. The
ratio is the verdict, as in every benchmark, because the absolute figures of
two runs move with whatever else the machine was doing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assignment_engine.devstack.bench.tables import markdown_table

HIGHER = "higher"
LOWER = "lower"


def _dig(data: Any, *keys: str | int) -> float | None:
    """Return the number at `keys` inside nested dicts and lists, or None."""
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    if isinstance(data, bool) or not isinstance(data, int | float):
        return None
    return float(data)


Figure = tuple[str, str, float | None]


def headline_figures(results: dict[str, Any]) -> Iterator[Figure]:
    """Yield (figure, better, value) for the headline figures of one results file."""
    benchmarks = results.get("benchmarks", {})
    yield from _throughput(benchmarks.get("throughput", {}))
    yield from _scale(benchmarks.get("scale", {}))
    yield from _sla(benchmarks.get("sla", {}))
    yield from _drain(benchmarks.get("drain", {}))
    yield from _memory(benchmarks.get("memory", {}))


def _closed_loop(benchmark: str, where: str, row: dict[str, Any]) -> Iterator[Figure]:
    """Yield the engine's rate, p99 and ratio to the reference of one closed-loop row."""
    yield (
        f"{benchmark}: engine /s at {where}",
        HIGHER,
        _dig(row, "engine", "assignments_per_s"),
    )
    yield (
        f"{benchmark}: engine p99 ms at {where}",
        LOWER,
        _dig(row, "engine", "latency", "p99_ms"),
    )
    yield (
        f"{benchmark}: engine ÷ reference at {where}",
        HIGHER,
        _dig(row, "engine_vs_reference"),
    )


def _throughput(throughput: dict[str, Any]) -> Iterator[Figure]:
    for row in throughput.get("closed_loop", []):
        count = row.get("clients")
        clients = f"{count} client" if count == 1 else f"{count} clients"
        yield from _closed_loop("throughput", clients, row)
    if "open_loop" in throughput:
        yield (
            "throughput: open loop achieved /s",
            HIGHER,
            _dig(throughput, "open_loop", "engine", "replies_per_s"),
        )
        yield (
            "throughput: open loop p99 ms",
            LOWER,
            _dig(throughput, "open_loop", "engine", "latency", "p99_ms"),
        )


def _scale(scale: dict[str, Any]) -> Iterator[Figure]:
    for row in scale.get("sizes", []):
        yield from _closed_loop("scale", f"{row.get('staff', 0):,} staff", row)


def _sla(sla: dict[str, Any]) -> Iterator[Figure]:
    for row in sla.get("pass", []):
        clocks = f"{row.get('clocks', 0):,}"
        yield (
            f"sla: claim pass p50 ms at {clocks} clocks",
            LOWER,
            _dig(row, "pass", "claim", "p50_ms"),
        )
        yield (
            f"sla: monitor code pass p50 ms at {clocks} clocks",
            LOWER,
            _dig(row, "pass", "monitor_code", "p50_ms"),
        )
    if "detection" not in sla:
        return
    for kind in ("sla_warning", "sla_breach"):
        yield (
            f"sla: detection p99 ms ({kind})",
            LOWER,
            _dig(sla, "detection", "escalated_at_minus_due", kind, "p99_ms"),
        )


def _drain(drain: dict[str, Any]) -> Iterator[Figure]:
    if "single" in drain:
        yield (
            "drain: one at a time p99 ms",
            LOWER,
            _dig(drain, "single", "assigned_minus_ended", "p99_ms"),
        )
        yield (
            "drain: slowest burst of 100 ms",
            LOWER,
            _dig(drain, "bursts", "all_assigned", "max_ms"),
        )


def _memory(memory: dict[str, Any]) -> Iterator[Figure]:
    if "load" in memory:
        yield ("memory: soak p99 ms", LOWER, _dig(memory, "load", "latency", "p99_ms"))
    for service in sorted(memory.get("rss", {})):
        yield (
            f"memory: {service} RSS slope MiB/min",
            LOWER,
            _dig(memory, "rss", service, "slope_mib_per_min"),
        )


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Return a Markdown table of the headline figures of `old` and `new`."""
    rows: dict[str, list[Any]] = {}
    for column, results in enumerate((old, new)):
        for figure, better, value in headline_figures(results):
            row = rows.setdefault(figure, [figure, None, None, None, better])
            row[1 + column] = value
    for row in rows.values():
        before, after = row[1], row[2]
        if before and after is not None:
            row[3] = after / before
    heading = (
        f"OLD: run of {old.get('started_at')} (`{old.get('command')}`)\n"
        f"NEW: run of {new.get('started_at')} (`{new.get('command')}`)"
    )
    if not rows:
        return f"{heading}\n\nNeither run has a headline figure."
    table = markdown_table(
        ["figure", "OLD", "NEW", "NEW ÷ OLD", "better"], list(rows.values())
    )
    return f"{heading}\n\n{table}"
