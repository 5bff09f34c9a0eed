"""Migration 0007 records the breaches of running clocks that have no escalation."""

from __future__ import annotations

import uuid

import asyncpg

from assignment_engine.core.migrate import apply_migrations
from assignment_engine.devstack import seeding

UNDO_0007 = """
DROP INDEX sla_clocks_breached_running_idx;
DROP TABLE sla_unrouted_breaches;
DELETE FROM schema_migrations WHERE version = 7;
"""


async def add_breached_clock(
    conn: asyncpg.Connection, *, stopped: bool, escalated_to_id: str | None
) -> uuid.UUID:
    """Insert a work item whose clock breached an hour ago; return the item id."""
    work_item_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO work_items (id, type, external_id, priority, received_at, state) "
        "VALUES ($1, 'incident', $2, 3, now() - interval '3 hours', 'queued')",
        work_item_id,
        str(work_item_id),
    )
    await conn.execute(
        """
        INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction,
                                started_at, warning_at, deadline, warned_at,
                                breached_at, stopped_at)
        VALUES ($1, interval '2 hours', 0.75, now() - interval '3 hours',
                now() - interval '90 minutes', now() - interval '1 hour',
                now() - interval '90 minutes', now() - interval '1 hour',
                CASE WHEN $2 THEN now() END)
        """,
        work_item_id,
        stopped,
    )
    if escalated_to_id is not None:
        await conn.execute(
            "INSERT INTO escalation_events (id, work_item_id, escalated_to_id, "
            "reason, level) VALUES ($1, $2, $3, 'sla_breach', 1)",
            uuid.uuid4(),
            work_item_id,
            escalated_to_id,
        )
    return work_item_id


async def test_unrouted_breaches_migration__backfills_running_clocks(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await seeding.add_unit(conn, "ops")
        await seeding.add_staff(conn, "olivia", "ops", role="supervisor")
        await conn.execute(UNDO_0007)
        unrouted = await add_breached_clock(conn, stopped=False, escalated_to_id=None)
        await add_breached_clock(conn, stopped=True, escalated_to_id=None)
        await add_breached_clock(conn, stopped=False, escalated_to_id="olivia")

        applied = await apply_migrations(database_url)
        recorded = await conn.fetch(
            "SELECT u.work_item_id, u.breached_at = c.breached_at AS same_time "
            "FROM sla_unrouted_breaches u JOIN sla_clocks c USING (work_item_id)"
        )
    finally:
        await conn.close()

    assert applied == ["0007_unrouted_breaches"]
    assert [row["work_item_id"] for row in recorded] == [unrouted]
    assert recorded[0]["same_time"]
