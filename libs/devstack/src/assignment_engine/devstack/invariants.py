"""Database invariants that must hold whenever the engine is at rest.

The demo checks them at the end of a run and the tests after concurrent load;
each check returns the offending rows, so an empty list means it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from assignment_engine.core.sql import load_queries

queries = load_queries("assignment_engine.devstack", "invariants.sql")

CHECKS = (
    ("no item has two active assignments", "items_with_two_active_assignments"),
    ("nobody is over their WIP limit", "staff_over_wip_limit"),
    ("every load counter equals the real count", "counters_off"),
    ("the ranking's copy of staff and load is current", "ranking_copy_off"),
    ("no item is both queued and assigned", "items_both_queued_and_assigned"),
    ("every breach is escalated exactly once", "breaches_not_escalated_once"),
    ("no item waits while someone eligible has room", "queued_while_someone_has_room"),
)


@dataclass(frozen=True)
class CheckResult:
    description: str
    violations: list[dict[str, object]]

    @property
    def holds(self) -> bool:
        return not self.violations


async def check_all(
    conn: asyncpg.Connection, *, min_skill_matches: int = 1
) -> list[CheckResult]:
    """Run every invariant check; a result's `violations` lists offending rows."""
    results = []
    for description, name in CHECKS:
        statement = queries[name]
        if name == "queued_while_someone_has_room":
            rows = await conn.fetch(statement, min_skill_matches)
        else:
            rows = await conn.fetch(statement)
        results.append(CheckResult(description, [dict(row) for row in rows]))
    return results
