"""The PostgreSQL connection pool and transactions that retry on conflicts."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.errors import Aborted, Unavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ATTEMPTS = 6
BACKOFF_BASE_S = 0.005
BACKOFF_CAP_S = 0.25
DEFAULT_COMMAND_TIMEOUT_S = 30.0

# Errors after which the same transaction may succeed when run again.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
)
# Errors that mean the database cannot be reached right now.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )
    await conn.set_type_codec(
        "json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def create_pool(dsn: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    """Open a pool whose connections decode json/jsonb into Python objects."""
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            command_timeout=DEFAULT_COMMAND_TIMEOUT_S,
        )
    except CONNECTION_ERRORS as exc:
        raise Unavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    assert pool is not None
    return pool


async def run_in_transaction(
    pool: asyncpg.Pool,
    work: Callable[[asyncpg.Connection], Awaitable[T]],
    *,
    action: str,
    attempts: int = DEFAULT_ATTEMPTS,
    **ids: Any,
) -> T:
    """Run `work` in a transaction, again after a jittered backoff on a conflict.

    Serialization failures and deadlocks are retried up to `attempts` times, each
    retry logged with the attempt and delay; then `Aborted` is raised. A lost
    connection raises `Unavailable`.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        except RETRYABLE_ERRORS as exc:
            if attempt == attempts:
                logger.error(
                    "%s gave up after %d attempts: %s",
                    action,
                    attempt,
                    exc,
                    extra=logs.fields(
                        event="transaction_gave_up",
                        action=action,
                        attempt=attempt,
                        **ids,
                    ),
                )
                raise Aborted(
                    f"{action} kept conflicting with concurrent changes; retry"
                ) from exc
            delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))
            logger.warning(
                "%s conflicted (%s); retrying in %.3f s",
                action,
                type(exc).__name__,
                delay,
                extra=logs.fields(
                    event="transaction_retry",
                    action=action,
                    attempt=attempt,
                    delay_s=round(delay, 4),
                    **ids,
                ),
            )
            await asyncio.sleep(delay)
        except CONNECTION_ERRORS as exc:
            raise Unavailable(f"{action} failed: the database is unreachable") from exc
    raise AssertionError("unreachable")
