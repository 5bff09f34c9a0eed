"""The demo's closing report: counts, utilisation, latency, SLA and invariants."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

from assignment_engine.devstack.invariants import CheckResult
from assignment_engine.devstack.replay_client import ReplayStats

UTILISATION_SAMPLE = """
SELECT s.unit_id, sum(l.active_count) AS active, sum(s.wip_limit) AS capacity
FROM staff s JOIN staff_load l ON l.staff_id = s.id
WHERE s.wip_limit > 0
GROUP BY s.unit_id
"""
COUNTS = """
SELECT
  (SELECT count(*) FROM assignment_decisions WHERE kind = 'assigned_from_queue') AS from_queue,
  (SELECT count(*) FROM queue_entries) AS waiting,
  (SELECT count(*) FROM sla_clocks WHERE warned_at IS NOT NULL) AS warnings,
  (SELECT count(*) FROM sla_clocks WHERE breached_at IS NOT NULL) AS breaches,
  (SELECT count(*) FROM escalation_events) AS escalations,
  (SELECT count(*) FROM sla_clocks WHERE stopped_at IS NOT NULL AND stopped_at <= deadline) AS met,
  (SELECT count(*) FROM sla_clocks
    WHERE (stopped_at IS NOT NULL AND stopped_at > deadline)
       OR (stopped_at IS NULL AND breached_at IS NOT NULL)) AS missed,
  (SELECT count(*) FROM sla_clocks WHERE stopped_at IS NULL AND breached_at IS NULL) AS open
"""
DECIDED_ITEMS = """
SELECT w.external_id, (c.stopped_at IS NOT NULL AND c.stopped_at <= c.deadline) AS met
FROM sla_clocks c JOIN work_items w ON w.id = c.work_item_id
WHERE c.stopped_at IS NOT NULL OR c.breached_at IS NOT NULL
"""


@dataclass
class UtilisationSampler:
    """Time-averaged share of WIP capacity in use, per unit."""

    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    samples: int = 0

    async def sample(self, conn: asyncpg.Connection) -> None:
        for row in await conn.fetch(UTILISATION_SAMPLE):
            self.sums[row["unit_id"]] += row["active"] / row["capacity"]
        self.samples += 1

    def averages(self) -> dict[str, float]:
        return {
            unit: total / max(self.samples, 1)
            for unit, total in sorted(self.sums.items(), key=_natural_order)
        }


def _natural_order(item: tuple[str, float]) -> list[object]:
    """Sort key of a unit id that orders its numbers by value: group-2 before group-10."""
    return [
        int(part) if part.isdigit() else part for part in re.split(r"(\d+)", item[0])
    ]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def build_report(
    conn: asyncpg.Connection,
    stats: ReplayStats,
    sampler: UtilisationSampler,
    log_made_sla: dict[str, bool],
    checks: list[CheckResult],
    *,
    synthetic: bool = False,
) -> str:
    source = "the synthetic trace's" if synthetic else "the log's"
    counts = await conn.fetchrow(COUNTS)
    decided = await conn.fetch(DECIDED_ITEMS)
    lines = ["", "== Assignment Engine demo report =="]
    lines.append(f"items submitted            {stats.submitted:>8,}")
    lines.append(f"  assigned at once         {stats.assigned_at_once:>8,}")
    lines.append(f"  queued                   {stats.queued:>8,}")
    lines.append(f"  assigned from the queue  {counts['from_queue']:>8,}")
    lines.append(f"  still waiting            {counts['waiting']:>8,}")
    lines.append(f"  completed                {stats.completed:>8,}")
    lines.append(f"availability changes       {stats.availability_changes:>8,}")
    lines.append(f"client errors              {stats.errors:>8,}")
    lines.append(f"SLA warnings               {counts['warnings']:>8,}")
    lines.append(f"SLA breaches               {counts['breaches']:>8,}")
    lines.append(f"escalations                {counts['escalations']:>8,}")
    latencies_ms = [value * 1000 for value in stats.submit_latencies_s]
    lines.append(
        "submit latency (ms)        "
        f"p50 {percentile(latencies_ms, 0.50):.1f}  p95 {percentile(latencies_ms, 0.95):.1f}  "
        f"p99 {percentile(latencies_ms, 0.99):.1f}  (n={len(latencies_ms):,})"
    )
    lines.append("utilisation per unit (time-averaged share of WIP capacity in use)")
    for unit, share in sampler.averages().items():
        lines.append(f"  {unit:<24} {share:>6.1%}")
    if sampler.averages():
        lines.append(
            f"  {'mean over units':<24} {statistics.fmean(sampler.averages().values()):>6.1%}"
        )
    met, missed = counts["met"], counts["missed"]
    decided_total = met + missed
    engine_rate = met / decided_total if decided_total else float("nan")
    flags = [
        log_made_sla[row["external_id"]]
        for row in decided
        if row["external_id"] in log_made_sla
    ]
    log_rate = sum(flags) / len(flags) if flags else float("nan")
    lines.append(
        f"SLA attainment             engine {engine_rate:.1%} of {decided_total:,} decided items "
        f"({counts['open']:,} still running); {source} made_sla for the same items {log_rate:.1%}"
    )
    lines.append("invariants")
    for check in checks:
        verdict = (
            "ok"
            if check.holds
            else f"FAILED ({len(check.violations)} rows, e.g. {check.violations[:3]})"
        )
        lines.append(f"  {check.description:<48} {verdict}")
    return "\n".join(lines)
