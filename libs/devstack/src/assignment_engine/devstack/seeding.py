"""Direct inserts of units and staff for tests and benchmarks.

These bypass the availability service on purpose: tests of other services arrange
their organisation in one round trip. Each staff member gets a staff_load row, as
the availability service would create.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def add_unit(
    conn: asyncpg.Connection,
    unit_id: str,
    *,
    supervisor_id: str | None = None,
    timezone: str = "UTC",
) -> None:
    await conn.execute(
        "INSERT INTO units (id, name, supervisor_id, timezone) VALUES ($1, $1, $2, $3)",
        unit_id,
        supervisor_id,
        timezone,
    )


async def set_supervisor(
    conn: asyncpg.Connection, unit_id: str, supervisor_id: str | None
) -> None:
    await conn.execute(
        "UPDATE units SET supervisor_id = $2 WHERE id = $1", unit_id, supervisor_id
    )


async def add_staff(
    conn: asyncpg.Connection,
    staff_id: str,
    unit_id: str,
    *,
    skills: Sequence[str] = (),
    wip_limit: int = 3,
    availability: str = "available",
    role: str = "staff",
    escalates_to_id: str | None = None,
    active_count: int = 0,
) -> None:
    """Insert a staff member and their load row (active_count without assignments)."""
    await conn.execute(
        """
        INSERT INTO staff (id, unit_id, role, skills, wip_limit, availability, escalates_to_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        staff_id,
        unit_id,
        role,
        list(skills),
        wip_limit,
        availability,
        escalates_to_id,
    )
    await conn.execute(
        "INSERT INTO staff_load (staff_id, active_count) VALUES ($1, $2)",
        staff_id,
        active_count,
    )


async def set_policy(
    conn: asyncpg.Connection,
    work_item_type: str,
    priority: int,
    target_s: float,
    *,
    warning_fraction: float = 0.75,
) -> None:
    await conn.execute(
        """
        INSERT INTO sla_policies (work_item_type, priority, resolution_target, warning_fraction)
        VALUES ($1, $2, make_interval(secs => $3), $4)
        ON CONFLICT (work_item_type, priority) DO UPDATE
        SET resolution_target = EXCLUDED.resolution_target,
            warning_fraction = EXCLUDED.warning_fraction
        """,
        work_item_type,
        priority,
        target_s,
        warning_fraction,
    )
