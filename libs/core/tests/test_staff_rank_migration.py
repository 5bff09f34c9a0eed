"""Migration 0006 copies staff into staff_rank while other clients change them.

Without the migration's table lock, a change that commits between the copy and
CREATE TRIGGER is lost. The window is short, so the test then failed in about
one run of four on a 2-core machine.
"""

from __future__ import annotations

import asyncio

import asyncpg

from assignment_engine.core.migrate import apply_migrations
from assignment_engine.devstack import invariants

STAFF = 20_000
# Bounded writer: at most this many pairs of updates.
MAX_WRITES = 5_000
UNDO_0006 = """
DROP TABLE staff_rank;
DROP FUNCTION staff_rank_copy_load() CASCADE;
DROP FUNCTION staff_rank_copy_profile() CASCADE;
DELETE FROM schema_migrations WHERE version = 6;
"""


async def test_staff_rank_migration__misses_no_concurrent_change(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO units (id, name) VALUES ('u', 'u')")
        await conn.execute(
            "INSERT INTO staff (id, unit_id, skills, wip_limit) "
            "SELECT 's' || g, 'u', ARRAY['network'], 5 FROM generate_series(1, $1) g",
            STAFF,
        )
        await conn.execute(
            "INSERT INTO staff_load (staff_id) SELECT id FROM staff ON CONFLICT DO NOTHING"
        )
        await conn.execute(UNDO_0006)
    finally:
        await conn.close()

    writer = await asyncpg.connect(database_url)
    stop = asyncio.Event()
    writes = 0

    async def write() -> None:
        nonlocal writes
        while not stop.is_set() and writes < MAX_WRITES:
            staff_id = f"s{1 + (writes * 7919) % STAFF}"
            await writer.execute(
                "UPDATE staff SET wip_limit = wip_limit + 1 WHERE id = $1", staff_id
            )
            await writer.execute(
                "UPDATE staff_load SET last_assigned_at = clock_timestamp() "
                "WHERE staff_id = $1",
                staff_id,
            )
            writes += 1

    task = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.1)
        applied = await apply_migrations(database_url)
        await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
        await writer.close()

    check = await asyncpg.connect(database_url)
    try:
        off = len(await check.fetch(invariants.queries.ranking_copy_off))
    finally:
        await check.close()
    assert applied == ["0006_staff_rank"]
    assert writes > 0
    assert off == 0
