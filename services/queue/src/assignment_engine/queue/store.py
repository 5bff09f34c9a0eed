"""Reads of the queue, in order: priority (CRITICAL first), then time enqueued."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from assignment_engine.core.sql import load_queries

queries = load_queries("assignment_engine.queue", "store.sql")


@dataclass(frozen=True)
class QueueKey:
    """Position of an entry in queue order, for keyset pagination."""

    priority: int
    enqueued_at: datetime
    work_item_id: uuid.UUID


class QueueStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def page(
        self, unit_id: str | None, after: QueueKey | None, limit: int
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                queries.page_entries,
                unit_id,
                after.priority if after else None,
                after.enqueued_at if after else None,
                after.work_item_id if after else None,
                limit,
            )

    async def count(self, unit_id: str | None) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(queries.count_entries, unit_id))

    async def position(self, work_item_id: uuid.UUID) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(queries.entry_position, work_item_id)

    async def next_ids(self, after: QueueKey | None, limit: int) -> list[QueueKey]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                queries.offer_ids,
                after.priority if after else None,
                after.enqueued_at if after else None,
                after.work_item_id if after else None,
                limit,
            )
        return [
            QueueKey(r["priority"], r["enqueued_at"], r["work_item_id"]) for r in rows
        ]

    async def drain_worthwhile(self) -> bool:
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval(queries.drain_worthwhile))
