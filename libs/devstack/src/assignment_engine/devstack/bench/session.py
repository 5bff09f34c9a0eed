"""One running stack per benchmark, with the benchmark's own pool and RSS sampler."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from assignment_engine.core.db import create_pool
from assignment_engine.devstack.bench.resources import RssSampler
from assignment_engine.devstack.stack import Stack

logger = logging.getLogger(__name__)

# Connections of the benchmark's own pool: the completer's snapshots, seeding,
# and polls of the drain and detection benchmarks.
POOL_SIZE = 8
PROFILER_DIR = Path(__file__).parent / "profiling"
# Set by `ae-bench --profile DIR`: each stack's services write their profiles
# to DIR/<label>/<service>.json.
profile_root: Path | None = None


def profiling_env(label: str) -> dict[str, str]:
    """Return the service environment that starts the sampling profiler, if enabled."""
    if profile_root is None:
        return {}
    directory = profile_root / label
    directory.mkdir(parents=True, exist_ok=True)
    # The services may run as another user than the benchmark.
    directory.chmod(0o777)
    return {"PYTHONPATH": str(PROFILER_DIR), "AE_BENCH_PROFILE_DIR": str(directory)}


@dataclass
class Session:
    stack: Stack
    pool: asyncpg.Pool
    rss: RssSampler
    started_in_s: float


@asynccontextmanager
async def running_stack(label: str) -> AsyncIterator[Session]:
    """Start a stack, yield it with a pool, and stop every process afterwards.

    `label` names the benchmark, for the profiles written with `--profile`.
    """
    began = time.perf_counter()
    stack = Stack.create(service_env=profiling_env(label))
    try:
        await stack.start()
        pool = await create_pool(stack.database_url, min_size=2, max_size=POOL_SIZE)
        rss = RssSampler(stack)
        rss.start()
        logger.info("stack started: %s", stack.describe_servers())
        try:
            yield Session(stack, pool, rss, time.perf_counter() - began)
        finally:
            rss.stop()
            await pool.close()
    finally:
        await stack.stop()


@asynccontextmanager
async def seeding_connection(session: Session) -> AsyncIterator[asyncpg.Connection]:
    """Yield a connection without a statement timeout, for bulk loads of minutes.

    The benchmark's pool has the services' 30 s statement timeout.
    """
    conn = await asyncpg.connect(session.stack.database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def open_pool(url: str, size: int) -> asyncpg.Pool:
    """Open a pool of exactly `size` connections, as one per benchmark client."""
    return await create_pool(url, min_size=size, max_size=size)
