"""Organisations and data for the benchmarks, written with COPY and INSERT ... SELECT.

The reference organisation has 500 staff in 20 units, each with 5 skills from a
pool of 60 and a WIP limit of 3 to 8. 90% of staff are available, 5% busy and
5% unavailable, and each unit's first member is its supervisor. Bulk loads (active assignments, SLA clocks, queued items) are
written by server-side INSERT ... SELECT statements, consistent with the
staff_load counters, so the engine's invariants hold.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import asyncpg

SKILL_POOL = 60
SKILLS_PER_STAFF = 5
WORK_ITEM_TYPE = "bench"
AVAILABILITY_WEIGHTS = (("available", 0.90), ("busy", 0.05), ("unavailable", 0.05))
ELIGIBLE = ("available", "busy")
# Every DUE_EVERY-th preloaded clock is past its warning time (1%) when the
# SLA pass benchmark asks for due warnings.
DUE_EVERY = 100


@dataclass(frozen=True)
class OrgSpec:
    staff: int
    units: int
    wip_min: int = 3
    wip_max: int = 8
    # Share of each eligible person's WIP limit held by preloaded assignments.
    utilisation: float = 0.0
    # Exact number of preloaded assignments, spread over eligible staff in
    # proportion to their WIP limits; overrides `utilisation` when set.
    preload_total: int | None = None
    seed: int = 1


@dataclass(frozen=True)
class StaffRow:
    id: str
    unit_id: str
    skills: list[str]
    wip_limit: int
    availability: str
    active: int


REFERENCE_ORG = OrgSpec(staff=500, units=20)


def skill_name(number: int) -> str:
    return f"skill-{number:02d}"


def unit_name(number: int) -> str:
    return f"u{number:04d}"


def build_staff(spec: OrgSpec) -> list[StaffRow]:
    """Return the staff of `spec`, the same for the same seed."""
    rng = random.Random(spec.seed)
    names = [name for name, _ in AVAILABILITY_WEIGHTS]
    weights = [weight for _, weight in AVAILABILITY_WEIGHTS]
    rows = []
    for index in range(spec.staff):
        availability = rng.choices(names, weights)[0]
        wip_limit = rng.randint(spec.wip_min, spec.wip_max)
        skills = sorted(rng.sample(range(1, SKILL_POOL + 1), SKILLS_PER_STAFF))
        active = 0
        if availability in ELIGIBLE:
            active = round(wip_limit * spec.utilisation)
        rows.append(
            StaffRow(
                id=f"s{index + 1:06d}",
                unit_id=unit_name(1 + index % spec.units),
                skills=[skill_name(number) for number in skills],
                wip_limit=wip_limit,
                availability=availability,
                active=active,
            )
        )
    if spec.preload_total is not None:
        rows = _spread(rows, spec.preload_total)
    return rows


def _spread(rows: list[StaffRow], total: int) -> list[StaffRow]:
    """Give eligible staff `total` active assignments in proportion to their limits."""
    capacity = eligible_capacity(rows)
    if total > capacity:
        raise ValueError(
            f"{total} preloaded assignments exceed the WIP capacity of {capacity}"
        )
    share = total / capacity if capacity else 0.0
    actives = [
        int(row.wip_limit * share) if row.availability in ELIGIBLE else 0
        for row in rows
    ]
    remainder = total - sum(actives)
    for index, row in enumerate(rows):
        if remainder == 0:
            break
        if row.availability in ELIGIBLE and actives[index] < row.wip_limit:
            actives[index] += 1
            remainder -= 1
    return [
        StaffRow(
            row.id, row.unit_id, row.skills, row.wip_limit, row.availability, active
        )
        for row, active in zip(rows, actives, strict=True)
    ]


def eligible_capacity(rows: list[StaffRow]) -> int:
    """Return the sum of the WIP limits of staff who may be assigned work."""
    return sum(row.wip_limit for row in rows if row.availability in ELIGIBLE)


class ItemFactory:
    """Random work items: 1 or 2 required skills from the pool, a random unit."""

    def __init__(self, units: int, seed: int, prefix: str) -> None:
        self.units = units
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.counter = 0

    def next(self) -> tuple[str, list[str], str, int]:
        """Return an external id, required skills, target unit and priority."""
        self.counter += 1
        count = self.rng.randint(1, 2)
        numbers = self.rng.sample(range(1, SKILL_POOL + 1), count)
        return (
            f"{self.prefix}-{self.counter}",
            [skill_name(number) for number in numbers],
            unit_name(self.rng.randint(1, self.units)),
            self.rng.choice((2, 3, 3, 4)),
        )


def supervisors(rows: list[StaffRow]) -> dict[str, str]:
    """Return each unit's supervisor: its first member, who also takes work."""
    chosen: dict[str, str] = {}
    for row in rows:
        chosen.setdefault(row.unit_id, row.id)
    return chosen


async def seed_org(conn: asyncpg.Connection, spec: OrgSpec) -> list[StaffRow]:
    """Write the units, staff and staff_load rows of `spec`; return the staff.

    Each unit's first member is its supervisor, so escalations go to
    supervisors as in a real organisation, and to `root` for their own items.
    """
    rows = build_staff(spec)
    heads = supervisors(rows)
    await conn.copy_records_to_table(
        "units",
        records=[(unit, unit) for unit in sorted(heads)],
        columns=["id", "name"],
    )
    head_ids = set(heads.values())
    await conn.copy_records_to_table(
        "staff",
        records=[
            (
                row.id,
                row.unit_id,
                "supervisor" if row.id in head_ids else "staff",
                row.skills,
                row.wip_limit,
                row.availability,
            )
            for row in rows
        ],
        columns=["id", "unit_id", "role", "skills", "wip_limit", "availability"],
    )
    await conn.execute(
        """
        UPDATE units u SET supervisor_id = h.staff_id
        FROM unnest($1::text[], $2::text[]) AS h (unit_id, staff_id)
        WHERE u.id = h.unit_id
        """,
        list(heads),
        list(heads.values()),
    )
    await conn.copy_records_to_table(
        "staff_load",
        records=[(row.id, row.active) for row in rows],
        columns=["staff_id", "active_count"],
    )
    return rows


# One row per active assignment of staff_load. Every 100th item ($1 = true) was
# received 3.5 h ago at priority 1, so its 4 h clock is past the warning time and
# before the deadline; the rest were received within the last hour, so no
# warning falls due during a benchmark.
PRELOAD_SQL = """
CREATE TEMP TABLE bench_preload ON COMMIT DROP AS
SELECT work_item_id, assignment_id, staff_id, unit_id, required_skills,
       CASE WHEN due THEN 1 ELSE priority END::smallint AS priority,
       CASE WHEN due THEN now() - interval '3.5 hours'
            ELSE now() - random() * interval '1 hour' END AS received_at
FROM (
    SELECT gen_random_uuid() AS work_item_id, gen_random_uuid() AS assignment_id,
           s.id AS staff_id, s.unit_id,
           ARRAY[s.skills[1 + n % cardinality(s.skills)]] AS required_skills,
           1 + floor(random() * 4) AS priority,
           $1::boolean AND row_number() OVER () % $2 = 0 AS due
    FROM staff s
    JOIN staff_load l ON l.staff_id = s.id
    CROSS JOIN LATERAL generate_series(1, l.active_count) AS n
) AS drawn;

INSERT INTO work_items (id, type, external_id, required_skills, target_unit_id,
                        priority, received_at, state)
SELECT work_item_id, 'bench', 'preload-' || work_item_id, required_skills, unit_id,
       priority, received_at, 'assigned'
FROM bench_preload;

INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction, started_at,
                        warning_at, deadline)
SELECT p.work_item_id, pol.resolution_target, pol.warning_fraction, p.received_at,
       p.received_at + pol.resolution_target * pol.warning_fraction,
       p.received_at + pol.resolution_target
FROM bench_preload p
JOIN sla_policies pol ON pol.work_item_type = '*' AND pol.priority = p.priority;

INSERT INTO assignments (id, work_item_id, assignee_id, status, score, assigned_at)
SELECT assignment_id, work_item_id, staff_id, 'assigned', 0, received_at
FROM bench_preload;

INSERT INTO assignment_decisions (work_item_id, assignment_id, kind, reason)
SELECT work_item_id, assignment_id, 'assigned', 'preloaded by the benchmark'
FROM bench_preload;
"""
# Queued items with 1 or 2 required skills, each with its clock, queue entry and
# decision. The first statement takes $1 count and $2 units, the second $1 the
# run prefix of the external ids.
QUEUE_SQL = """
CREATE TEMP TABLE bench_queue ON COMMIT DROP AS
SELECT gen_random_uuid() AS work_item_id,
       ARRAY(SELECT DISTINCT 'skill-' || lpad((1 + floor(random() * 60))::integer::text, 2, '0')
             FROM generate_series(1, 1 + i % 2) WHERE i > 0) AS required_skills,
       'u' || lpad((1 + floor(random() * $2::integer))::integer::text, 4, '0') AS unit_id,
       (2 + floor(random() * 3))::smallint AS priority,
       clock_timestamp() AS received_at
FROM generate_series(1, $1::integer) AS i;

INSERT INTO work_items (id, type, external_id, required_skills, target_unit_id,
                        priority, received_at, state)
SELECT work_item_id, 'bench', $1::text || '-' || work_item_id, required_skills, unit_id,
       priority, received_at, 'queued'
FROM bench_queue;

INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction, started_at,
                        warning_at, deadline)
SELECT q.work_item_id, pol.resolution_target, pol.warning_fraction, q.received_at,
       q.received_at + pol.resolution_target * pol.warning_fraction,
       q.received_at + pol.resolution_target
FROM bench_queue q
JOIN sla_policies pol ON pol.work_item_type = '*' AND pol.priority = q.priority;

INSERT INTO queue_entries (work_item_id, priority, enqueued_at, target_unit_id,
                           required_skills)
SELECT work_item_id, priority, received_at, unit_id, required_skills FROM bench_queue;

INSERT INTO assignment_decisions (work_item_id, kind, reason)
SELECT work_item_id, 'queued', 'queued by the benchmark' FROM bench_queue;
"""


async def preload_assignments(
    conn: asyncpg.Connection, *, due_warnings: bool = False
) -> int:
    """Write one assigned work item with its clock per unit of staff_load.

    With `due_warnings`, every 100th clock is past its warning time. Returns the
    number of assignments written.
    """
    async with conn.transaction():
        # The statements after the first read the temporary table, so they run
        # one by one: asyncpg takes arguments only in single statements.
        statements = [part.strip() for part in PRELOAD_SQL.split(";") if part.strip()]
        await conn.execute(statements[0], due_warnings, DUE_EVERY)
        for statement in statements[1:]:
            await conn.execute(statement)
        count = await conn.fetchval("SELECT count(*) FROM bench_preload")
    await conn.execute("ANALYZE")
    return int(count)


async def seed_queue(conn: asyncpg.Connection, count: int, units: int) -> None:
    """Write `count` queued items with their clocks and queue entries."""
    prefix = f"queued-{uuid.uuid4().hex[:8]}"
    async with conn.transaction():
        statements = [part.strip() for part in QUEUE_SQL.split(";") if part.strip()]
        await conn.execute(statements[0], count, units)
        await conn.execute(statements[1], prefix)
        for statement in statements[2:]:
            await conn.execute(statement)
    await conn.execute("ANALYZE")
