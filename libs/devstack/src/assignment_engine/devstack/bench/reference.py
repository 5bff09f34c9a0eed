"""The research algorithm, implemented as described, as the throughput baseline.

For each item it loads every staff row with its current assignment count and
scores each person in Python. A score is the share of the required skills held
x 40, plus spare capacity (1 - count / limit) x 30, 20 when available and 10 in
the target unit.
Unavailable staff and staff at their limit are disqualified. It sorts, takes the
top, bumps that person's row under an optimistic version check and inserts the
assignment. When the version moved, it starts again from loading the staff.
It runs on its own tables, `ref_staff` and `ref_assignments`, copied from the
engine's organisation in the same database, so it never touches the engine's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from assignment_engine.devstack.bench.driver import Outcome
from assignment_engine.devstack.bench.org import ItemFactory

# Attempts of one item before it counts as an error. Each attempt reloads staff.
MAX_ATTEMPTS = 50
MAX_ERRORS_KEPT = 20

SETUP_SQL = """
DROP TABLE IF EXISTS ref_assignments, ref_staff;
CREATE TABLE ref_staff (
    id           text PRIMARY KEY,
    unit_id      text NOT NULL,
    skills       text[] NOT NULL,
    wip_limit    integer NOT NULL,
    availability text NOT NULL,
    version      bigint NOT NULL DEFAULT 0,
    count        integer NOT NULL DEFAULT 0
);
CREATE TABLE ref_assignments (
    id          uuid PRIMARY KEY,
    external_id text NOT NULL,
    staff_id    text NOT NULL REFERENCES ref_staff (id),
    status      text NOT NULL,
    score       double precision NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
CREATE INDEX ref_assignments_active_idx ON ref_assignments (assigned_at)
    WHERE status = 'assigned';
INSERT INTO ref_staff (id, unit_id, skills, wip_limit, availability, count)
SELECT s.id, s.unit_id, s.skills, s.wip_limit, s.availability, l.active_count
FROM staff s JOIN staff_load l ON l.staff_id = s.id;
INSERT INTO ref_assignments (id, external_id, staff_id, status, score, assigned_at)
SELECT a.id, 'preload', a.assignee_id, 'assigned', a.score, a.assigned_at
FROM assignments a WHERE a.status = 'assigned';
ANALYZE ref_staff;
ANALYZE ref_assignments;
"""
LOAD_STAFF = """
SELECT id, unit_id, skills, wip_limit, availability, version, count FROM ref_staff
"""
BUMP = """
UPDATE ref_staff SET version = version + 1, count = count + 1
WHERE id = $1 AND version = $2
"""
INSERT_ASSIGNMENT = """
INSERT INTO ref_assignments (id, external_id, staff_id, status, score)
VALUES ($1, $2, $3, 'assigned', $4)
"""
END_ASSIGNMENT = """
UPDATE ref_assignments SET status = 'completed', ended_at = now()
WHERE id = $1 AND status = 'assigned'
RETURNING staff_id
"""
RELEASE = "UPDATE ref_staff SET version = version + 1, count = count - 1 WHERE id = $1"
ACTIVE_COUNT = "SELECT coalesce(sum(count), 0) FROM ref_staff"
OLDEST_ACTIVE = """
SELECT id FROM ref_assignments WHERE status = 'assigned' ORDER BY assigned_at LIMIT $1
"""
CAPACITY = """
SELECT coalesce(sum(wip_limit), 0) FROM ref_staff WHERE availability <> 'unavailable'
"""


def completer_workers(clients: int) -> int:
    """Return the concurrent completions for `clients` clients, at most 32.

    A completion is two short statements, so fewer completers than clients keep
    up, and the pool (one connection per client and per completer) fits
    PostgreSQL's 300 connections beside the services' pools at 200 clients.
    """
    return max(2, min(clients, 32))


@dataclass(frozen=True)
class Scored:
    score: float
    staff_id: str
    version: int


def score_staff(
    rows: Sequence[Any],
    required_skills: Sequence[str],
    target_unit: str | None,
) -> list[Scored]:
    """Score every qualified person and return them best first (a stable sort)."""
    required = set(required_skills)
    scored = []
    for row in rows:
        limit = int(row["wip_limit"])
        count = int(row["count"])
        if row["availability"] == "unavailable" or limit <= 0 or count >= limit:
            continue
        share = (
            len(required.intersection(row["skills"])) / len(required)
            if required
            else 1.0
        )
        total = (
            share * 40.0
            + (1.0 - count / limit) * 30.0
            + (20.0 if row["availability"] == "available" else 0.0)
            + (10.0 if row["unit_id"] == target_unit else 0.0)
        )
        scored.append(Scored(total, str(row["id"]), int(row["version"])))
    scored.sort(key=lambda entry: entry.score, reverse=True)
    return scored


class ReferenceWorkload:
    """The research algorithm against `ref_staff`, one connection per client."""

    name = "reference"

    def __init__(self, pool: asyncpg.Pool, factory: ItemFactory, capacity: int) -> None:
        self.pool = pool
        self.factory = factory
        self.capacity = capacity
        self.retries = 0
        self._errors: list[str] = []

    @classmethod
    async def create(
        cls, pool: asyncpg.Pool, factory: ItemFactory
    ) -> ReferenceWorkload:
        return cls(pool, factory, int(await pool.fetchval(CAPACITY)))

    async def submit(self) -> Outcome:
        external_id, skills, unit, _priority = self.factory.next()
        try:
            async with self.pool.acquire() as conn:
                for _attempt in range(MAX_ATTEMPTS):
                    ranked = score_staff(await conn.fetch(LOAD_STAFF), skills, unit)
                    if not ranked:
                        return "queued"
                    best = ranked[0]
                    async with conn.transaction():
                        status = await conn.execute(BUMP, best.staff_id, best.version)
                        if status == "UPDATE 1":
                            await conn.execute(
                                INSERT_ASSIGNMENT,
                                uuid.uuid4(),
                                external_id,
                                best.staff_id,
                                best.score,
                            )
                            return "assigned"
                    self.retries += 1
                self._record(f"no assignment after {MAX_ATTEMPTS} version conflicts")
        except asyncpg.PostgresError as error:
            self._record(f"{type(error).__name__}: {error}")
        return "error"

    async def complete(self, assignment_id: object) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            staff_id = await conn.fetchval(END_ASSIGNMENT, assignment_id)
            if staff_id is None:
                return False
            await conn.execute(RELEASE, staff_id)
        return True

    async def snapshot(self, limit: int) -> tuple[int, list[object]]:
        async with self.pool.acquire() as conn:
            active = int(await conn.fetchval(ACTIVE_COUNT))
            rows = await conn.fetch(OLDEST_ACTIVE, limit)
        return active, [row["id"] for row in rows]

    async def queued(self) -> int:
        # The research algorithm has no queue, so an item that no one can take
        # is dropped.
        return 0

    def completer_workers(self, clients: int) -> int:
        return completer_workers(clients)

    def errors(self) -> list[str]:
        return list(self._errors)

    def _record(self, message: str) -> None:
        if len(self._errors) < MAX_ERRORS_KEPT:
            self._errors.append(message)


async def prepare(conn: asyncpg.Connection) -> None:
    """Create the reference tables as a copy of the engine's staff and assignments."""
    await conn.execute(SETUP_SQL)


async def reset(conn: asyncpg.Connection) -> None:
    """Drop the reference tables' state and copy the engine's organisation again."""
    await conn.execute(SETUP_SQL)
