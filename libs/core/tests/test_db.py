"""The connection pool: what a released connection keeps and what it loses."""

from __future__ import annotations

import asyncpg

from assignment_engine.core.db import create_pool


async def test_released_connection__rolls_back_an_open_transaction(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TEMPORARY TABLE scratch (n int)")
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO scratch VALUES (1)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM scratch") == 0
            assert await conn.fetchval("SHOW jit") == "off"
    finally:
        await pool.close()


async def test_pool__decodes_json_columns(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        value = await pool.fetchval("SELECT '{\"a\": [1, 2]}'::jsonb")
    finally:
        await pool.close()
    assert value == {"a": [1, 2]}
    assert isinstance(pool, asyncpg.Pool)
