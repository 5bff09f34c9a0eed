"""The Markdown report of a run: one section of tables per benchmark."""

from __future__ import annotations

import math
from typing import Any

from assignment_engine.devstack.bench.stats import median_of
from assignment_engine.devstack.bench.tables import fmt, markdown_table


def _targets(targets: dict[str, bool]) -> str:
    if not targets:
        return "No target applies to the sizes of this run."
    return markdown_table(
        ["target", "result"], [[name, met] for name, met in targets.items()]
    )


def throughput_section(data: dict[str, Any]) -> str:
    rows = []
    for row in data["closed_loop"]:
        engine, ref, ceiling = row["engine"], row["reference"], row["pgbench"]
        rows.append(
            [
                row["clients"],
                engine["assignments_per_s"],
                engine["latency"]["p50_ms"],
                engine["latency"]["p95_ms"],
                engine["latency"]["p99_ms"],
                engine["latency"]["max_ms"],
                ref["assignments_per_s"],
                ref["latency"]["p99_ms"],
                ceiling["tps"],
                ceiling["latency"]["p99_ms"],
                row["engine_vs_reference"],
                row["engine_vs_pgbench"],
                median_of([r["queued"] for r in engine["rounds"]]),
                median_of(
                    [r["mean_utilisation"] or math.nan for r in engine["rounds"]]
                ),
            ]
        )
    closed = markdown_table(
        [
            "clients",
            "engine /s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "reference /s",
            "ref p99 ms",
            "pgbench tps",
            "pgbench p99 ms",
            "engine ÷ ref",
            "engine ÷ pgbench",
            "engine queued",
            "utilisation",
        ],
        rows,
    )

    opened = data["open_loop"]
    open_rows = []
    for name in ("engine", "reference", "pgbench"):
        part = opened[name]
        achieved = part.get("replies_per_s", part.get("tps"))
        latency = part["latency"]
        open_rows.append(
            [
                name,
                opened["rate"],
                achieved,
                latency["p50_ms"],
                latency["p99_ms"],
                latency["max_ms"],
            ]
        )
    open_table = markdown_table(
        ["system", "offered /s", "achieved /s", "p50 ms", "p99 ms", "max ms"], open_rows
    )

    cpu_rows = []
    components: list[str] = []
    for row in data["closed_loop"]:
        first = row["cpu_ms_per_assignment"][0] if row["cpu_ms_per_assignment"] else {}
        components = components or list(first)
        cpu_rows.append([row["clients"], *(first.get(name) for name in components)])
    cpu_table = markdown_table(["clients", *components], cpu_rows)

    activity_rows = []
    at_50 = next((r for r in data["closed_loop"] if r["clients"] == 50), None)
    if at_50 and at_50["postgres_activity"]:
        for entry in at_50["postgres_activity"][0]["top"][:8]:
            activity_rows.append(
                [
                    entry["state"],
                    entry["wait"],
                    entry["statement"],
                    entry["mean_backends"],
                ]
            )
    parts = [
        "### 1. Assignment throughput and latency (500 staff, 20 units)",
        "Closed loop, medians over rounds. Latency is that of assigned submissions. "
        "`engine queued` counts submissions that found no one with room, and "
        "`utilisation` is the mean share of WIP capacity in use.",
        closed,
        "Open loop (latency from each request's scheduled start):",
        open_table,
        "CPU milliseconds per assignment (first round, warm-up and completions included):",
        cpu_table,
    ]
    if at_50 is not None and activity_rows:
        summary = at_50["postgres_activity"][0]
        parts += [
            "PostgreSQL client backends during the engine's 50-client run "
            "(mean number in each state, from pg_stat_activity every 20 ms). "
            f"{fmt(summary['mean_backends_in_transaction_or_active'])} backends were "
            "in a transaction on average, "
            f"{fmt(summary['mean_idle_in_transaction_client_read'])} of them idle in "
            "transaction waiting for the service to send the next statement "
            f"(ClientRead) and {fmt(summary['mean_active'])} running a statement:",
            markdown_table(
                ["state", "wait event", "statement", "backends"], activity_rows
            ),
        ]
    parts += ["Targets:", _targets(data["targets"])]
    return "\n\n".join(parts)


def _reference_ratio(row: dict[str, Any]) -> object:
    """Format the engine ÷ reference cell: the ratio, or its lower bound as '> N'."""
    above = row.get("engine_vs_reference_above")
    if above is not None:
        return f"> {fmt(above)}"
    return row["engine_vs_reference"]


def scale_section(data: dict[str, Any]) -> str:
    rows = []
    for row in data["sizes"]:
        rows.append(
            [
                row["staff"],
                row["units"],
                row["preloaded_active"],
                row["seeding_s"],
                row["engine"]["assignments_per_s"],
                row["engine"]["latency"]["p50_ms"],
                row["engine"]["latency"]["p99_ms"],
                row.get("p99_growth_vs_500"),
                row["reference"]["assignments_per_s"],
                _reference_ratio(row),
                row["rank_and_lock"]["median_ms"],
            ]
        )
    table = markdown_table(
        [
            "staff",
            "units",
            "preloaded active",
            "seeding s",
            "engine /s",
            "p50 ms",
            "p99 ms",
            "p99 ÷ 500-staff p99",
            "reference /s",
            "engine ÷ ref",
            "rank_and_lock ms",
        ],
        rows,
    )
    return "\n\n".join(
        [
            f"### 2. Scale ({data['clients']} clients, closed loop)",
            table,
            "Targets:",
            _targets(data["targets"]),
        ]
    )


def sla_section(data: dict[str, Any]) -> str:
    parts = ["### 3. SLA monitor"]
    if data.get("pass"):
        rows = []
        for row in data["pass"]:
            passes = row["pass"]
            rows.append(
                [
                    row["clocks"],
                    row["due"],
                    row["seeding_s"],
                    passes["claim"]["p50_ms"],
                    passes["claim"]["max_ms"],
                    passes["monitor_code"]["p50_ms"],
                    passes["reference"]["p50_ms"],
                    row["target_ms"],
                    row["claim_target_met"],
                    row["monitor_code_target_met"],
                ]
            )
        parts += [
            "One pass (median of repetitions, each rolled back):",
            markdown_table(
                [
                    "active clocks",
                    "due",
                    "seeding s",
                    "claim p50 ms",
                    "claim max ms",
                    "monitor code p50 ms",
                    "research query p50 ms",
                    "target ms",
                    "claim",
                    "monitor code",
                ],
                rows,
            ),
        ]
    detection = data.get("detection")
    if detection:
        rows = []
        for reason in ("sla_warning", "sla_breach"):
            stamped = detection["escalated_at_minus_due"][reason]
            visible = detection["visible_minus_due"][reason]
            rows.append(
                [
                    reason,
                    stamped["count"],
                    stamped["p50_ms"],
                    stamped["p99_ms"],
                    stamped["max_ms"],
                    visible["p50_ms"],
                    visible["p99_ms"],
                ]
            )
        parts += [
            f"Detection with {detection['active_clocks']:,} active clocks, "
            f"{detection['due']:,} falling due over {fmt(detection['window_s'])} s "
            f"(target p99 < {fmt(detection['target_p99_ms'], 0)} ms: "
            f"{fmt(detection['target_met'])}):",
            markdown_table(
                [
                    "escalation",
                    "n",
                    "escalated_at − due p50 ms",
                    "p99 ms",
                    "max ms",
                    "visible − due p50 ms",
                    "visible p99 ms",
                ],
                rows,
            ),
        ]
    if data.get("targets"):
        parts += ["Targets:", _targets(data["targets"])]
    return "\n\n".join(parts)


def drain_section(data: dict[str, Any]) -> str:
    single = data["single"]
    latency = single["assigned_minus_ended"]
    visible = single["reply_to_visible"]
    bursts = data["bursts"]
    rows = [
        [
            "one at a time",
            single["samples"],
            latency["p50_ms"],
            latency["p95_ms"],
            latency["p99_ms"],
            latency["max_ms"],
            visible["p99_ms"],
        ]
    ]
    burst_rows = [
        [index + 1, run["completed"], run["reassigned"], run.get("all_assigned_s")]
        for index, run in enumerate(bursts["runs"])
    ]
    return "\n\n".join(
        [
            f"### 4. Queue drain ({data['queue_length']:,} queued, everyone eligible full)",
            markdown_table(
                [
                    "mode",
                    "samples",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "reply → visible p99 ms",
                ],
                rows,
            ),
            f"Bursts of {bursts['size']} completions (time from the first completion's "
            "ended_at to the last new assignment's assigned_at):",
            markdown_table(
                ["burst", "completed", "assigned from the queue", "all assigned s"],
                burst_rows,
            ),
            "Targets:",
            _targets(data["targets"]),
        ]
    )


def memory_section(data: dict[str, Any]) -> str:
    peaks = data.get("peaks", {})
    services = sorted({name for values in peaks.values() for name in values})
    rows = [
        [phase, *(values.get(name) for name in services)]
        for phase, values in peaks.items()
    ]
    parts = ["### 5. Memory", "Peak RSS (MiB) of each service, sampled every 0.5 s:"]
    if rows:
        parts.append(markdown_table(["benchmark", *services], rows))
    soak = data.get("soak")
    if soak:
        minutes = max(
            (len(r["per_minute_mib"]) for r in soak["rss"].values()), default=0
        )
        soak_rows = []
        for name, timeline in sorted(soak["rss"].items()):
            per_minute = timeline["per_minute_mib"] + [None] * (
                minutes - len(timeline["per_minute_mib"])
            )
            soak_rows.append(
                [
                    name,
                    timeline["start_mib"],
                    *per_minute,
                    timeline["end_mib"],
                    timeline["slope_mib_per_min"],
                    "growth" if timeline.get("growth_flagged") else "flat",
                ]
            )
        load = soak["load"]
        parts += [
            f"Soak: {fmt(soak['duration_s'], 0)} s at {fmt(soak['offered_per_s'], 0)} "
            f"submissions/s offered ({fmt(load['replies_per_s'])}/s achieved, p99 "
            f"{fmt(load['latency']['p99_ms'])} ms). RSS in MiB:",
            markdown_table(
                [
                    "service",
                    "start",
                    *(f"min {m + 1}" for m in range(minutes)),
                    "end",
                    "slope MiB/min",
                    "verdict",
                ],
                soak_rows,
            ),
        ]
    return "\n\n".join(parts)
