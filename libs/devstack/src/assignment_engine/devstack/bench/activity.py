"""Samples of PostgreSQL's client backends during a run, from pg_stat_activity.

A sample every 20 ms counts each backend of the run's database by state and
wait event, with the start of its current (or last) statement. "idle in
transaction" with wait event ClientRead means the backend waits for the client
(a service) to send the next statement of an open transaction.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import asyncpg

SAMPLE_INTERVAL_S = 0.02
STATEMENT_CHARS = 60
TOP = 12
ACTIVITY = """
SELECT state, wait_event_type, wait_event, query
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
"""


def statement_start(query: str, length: int = STATEMENT_CHARS) -> str:
    """Return the first `length` characters of `query` without its comment lines."""
    lines = [line.strip() for line in query.splitlines()]
    code = " ".join(line for line in lines if line and not line.startswith("--"))
    return code[:length]


class ActivitySampler:
    """Samples pg_stat_activity on its own connection until stopped."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.samples = 0
        self.counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        """Stop sampling; return the mean number of backends in each state."""
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.summary()

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            while not self._stop.is_set():
                rows = await conn.fetch(ACTIVITY)
                self.samples += 1
                for row in rows:
                    state = row["state"] or "unknown"
                    if state == "idle":
                        self.counts[("idle", "", "")] += 1
                        continue
                    wait = "/".join(
                        part
                        for part in (row["wait_event_type"], row["wait_event"])
                        if part
                    )
                    self.counts[(state, wait, statement_start(row["query"] or ""))] += 1
                try:
                    await asyncio.wait_for(self._stop.wait(), SAMPLE_INTERVAL_S)
                except TimeoutError:
                    pass
        finally:
            await conn.close()

    def summary(self) -> dict[str, Any]:
        samples = max(self.samples, 1)
        busy = sum(count for key, count in self.counts.items() if key[0] != "idle")
        return {
            "samples": self.samples,
            "mean_backends_in_transaction_or_active": round(busy / samples, 2),
            "mean_idle_in_transaction_client_read": round(
                sum(
                    count
                    for (state, wait, _), count in self.counts.items()
                    if state == "idle in transaction" and wait == "Client/ClientRead"
                )
                / samples,
                2,
            ),
            "mean_active": round(
                sum(c for (state, _, _), c in self.counts.items() if state == "active")
                / samples,
                2,
            ),
            "top": [
                {
                    "state": state,
                    "wait": wait,
                    "statement": statement,
                    "mean_backends": round(count / samples, 2),
                }
                for (state, wait, statement), count in self.counts.most_common(TOP)
                if state != "idle"
            ],
        }
