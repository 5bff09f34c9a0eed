"""The PostgreSQL connection pool and transactions that retry on conflicts.

Each transaction is one span, named by its action, with the attempts it took.
Statements get spans of their own only when AE_TRACE_STATEMENTS is on
(telemetry.py), because a span per statement costs more CPU than the statement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from opentelemetry.trace import SpanKind, Status, StatusCode

from assignment_engine.core import logs, telemetry
from assignment_engine.core.errors import Aborted, Unavailable

logger = logging.getLogger(__name__)
tracer = telemetry.tracer(__name__)

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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Return a connection to the pool as it is.

    asyncpg rolls back an open transaction itself. Its default reset also runs
    RESET ALL, UNLISTEN * and pg_advisory_unlock_all(), a round trip on every
    release. No code here changes session settings, listens or holds a
    session-level advisory lock on a pooled connection, so that is skipped.
    """


async def create_pool(dsn: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    """Open a pool whose connections decode json/jsonb into Python objects.

    Released connections keep their session state (see `_keep_session`). JIT
    compilation is off, because it is meant for long analytical queries and
    costs the engine's short statements more time than it saves.
    """
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_session,
            server_settings={"jit": "off"},
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
    with tracer.start_as_current_span(
        f"transaction {action}",
        kind=SpanKind.CLIENT,
        attributes={"db.system": "postgresql", "db.operation.name": "transaction"},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            return await _run_attempts(pool, work, action, attempts, span, ids)
        except (Aborted, Unavailable) as exc:
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        except asyncpg.PostgresError as exc:
            # A database error that is not a conflict is a fault, unlike the
            # engine's own errors (not found, failed precondition), which pass
            # through the span unmarked.
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


async def _run_attempts(
    pool: asyncpg.Pool,
    work: Callable[[asyncpg.Connection], Awaitable[T]],
    action: str,
    attempts: int,
    span: Any,
    ids: dict[str, Any],
) -> T:
    for attempt in range(1, attempts + 1):
        span.set_attribute("ae.transaction.attempts", attempt)
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
