"""An in-process SLA monitor on a fresh database, and helpers to arrange clocks."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from assignment_engine.api.v1 import sla_monitor_pb2_grpc
from assignment_engine.core.config import CommonSettings
from assignment_engine.core.db import create_pool
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import (
    auth_settings_for_tests,
    authorized_channel,
)
from assignment_engine.sla_monitor import app
from assignment_engine.sla_monitor.config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_ESCALATION_LEVEL,
    DEFAULT_ORG_TIMEZONE,
    DEFAULT_TICK_INTERVAL_S,
    SlaMonitorSettings,
)

# Upper bound of every wait for the monitor. The monitor reacts within a tick
# (0.25 s), so only a stalled monitor reaches it.
WAIT_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02


@dataclass
class RunningMonitor:
    runtime: ServiceRuntime
    stub: sla_monitor_pb2_grpc.SlaMonitorServiceStub
    settings: SlaMonitorSettings


def monitor_settings(
    database_url: str,
    nats_url: str,
    prefix: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_escalation_level: int = DEFAULT_MAX_ESCALATION_LEVEL,
    org_timezone: str = DEFAULT_ORG_TIMEZONE,
) -> SlaMonitorSettings:
    return SlaMonitorSettings(
        common=CommonSettings(
            database_url=database_url,
            nats_url=nats_url,
            subject_prefix=prefix,
            bind_host="127.0.0.1",
            db_pool_min=1,
            db_pool_max=4,
            grpc_max_message_bytes=4 * 1024 * 1024,
            log_level="INFO",
            auth=auth_settings_for_tests(),
        ),
        port=0,
        tick_interval_s=DEFAULT_TICK_INTERVAL_S,
        batch_size=batch_size,
        org_timezone=org_timezone,
        max_escalation_level=max_escalation_level,
    )


async def start_monitor(settings: SlaMonitorSettings) -> RunningMonitor:
    runtime = await app.start(settings)
    channel = authorized_channel(f"127.0.0.1:{runtime.port}")
    stub = sla_monitor_pb2_grpc.SlaMonitorServiceStub(channel)
    runtime.closers.append(channel.close)
    return RunningMonitor(runtime, stub, settings)


def stub_for(
    monitor: RunningMonitor, subject: str, role: str
) -> sla_monitor_pb2_grpc.SlaMonitorServiceStub:
    """A stub whose calls carry a token for `subject` in `role`.

    The monitor's runtime closes the channel when the monitor stops.
    """
    channel = authorized_channel(f"127.0.0.1:{monitor.runtime.port}", subject, role)
    monitor.runtime.closers.append(channel.close)
    return sla_monitor_pb2_grpc.SlaMonitorServiceStub(channel)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool like the monitor's, for driving its loops without a runtime."""
    opened = await create_pool(database_url, min_size=1, max_size=4)
    yield opened
    await opened.close()


@pytest.fixture
async def monitor(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[RunningMonitor]:
    running = await start_monitor(
        monitor_settings(database_url, nats_url, subject_prefix)
    )
    yield running
    await running.runtime.close()


async def add_clock(
    db: asyncpg.Connection,
    *,
    warning_in_s: float,
    deadline_in_s: float,
    target_unit_id: str | None = None,
    assignee_id: str | None = None,
    stopped_at: datetime | None = None,
    paused_since: datetime | None = None,
) -> uuid.UUID:
    """Insert a work item and its SLA clock in one transaction; return the item id.

    The warning time and deadline are relative to now, in seconds, and the item
    was received an hour before the earlier of now and the warning time. It is
    queued, or assigned to `assignee_id` when given; the monitor reads either the
    whole arrangement or none of it.
    """
    now = datetime.now(UTC)
    warning_at = now + timedelta(seconds=warning_in_s)
    received_at = min(now, warning_at) - timedelta(hours=1)
    deadline = now + timedelta(seconds=deadline_in_s)
    work_item_id = uuid.uuid4()
    async with db.transaction():
        await _insert_clock(
            db,
            work_item_id,
            received_at,
            warning_at,
            deadline,
            target_unit_id,
            stopped_at,
            paused_since,
        )
        if assignee_id is not None:
            await assign(db, work_item_id, assignee_id)
    return work_item_id


async def _insert_clock(
    db: asyncpg.Connection,
    work_item_id: uuid.UUID,
    received_at: datetime,
    warning_at: datetime,
    deadline: datetime,
    target_unit_id: str | None,
    stopped_at: datetime | None,
    paused_since: datetime | None,
) -> None:
    target = deadline - received_at
    await db.execute(
        """
        INSERT INTO work_items (id, type, external_id, target_unit_id, priority,
                                received_at, state)
        VALUES ($1, 'incident', $2, $3, 3, $4, 'queued')
        """,
        work_item_id,
        str(work_item_id),
        target_unit_id,
        received_at,
    )
    await db.execute(
        """
        INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction,
                                started_at, warning_at, deadline, paused_since,
                                stopped_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        work_item_id,
        target,
        (warning_at - received_at) / target,
        received_at,
        warning_at,
        deadline,
        paused_since,
        stopped_at,
    )


async def assign(
    db: asyncpg.Connection, work_item_id: uuid.UUID, assignee_id: str
) -> uuid.UUID:
    """Give a work item an active assignment; return the assignment id."""
    assignment_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO assignments (id, work_item_id, assignee_id, status, score)
        VALUES ($1, $2, $3, 'assigned', 1.0)
        """,
        assignment_id,
        work_item_id,
        assignee_id,
    )
    await db.execute(
        "UPDATE staff_load SET active_count = active_count + 1 WHERE staff_id = $1",
        assignee_id,
    )
    await db.execute(
        "UPDATE work_items SET state = 'assigned' WHERE id = $1", work_item_id
    )
    return assignment_id


async def wait_for_value(
    db: asyncpg.Connection,
    query: str,
    *args: Any,
    timeout_s: float = WAIT_TIMEOUT_S,
) -> Any:
    """Poll `query` until it returns a truthy value; return that value."""
    give_up_at = time.monotonic() + timeout_s
    while True:
        value = await db.fetchval(query, *args)
        if value:
            return value
        if time.monotonic() > give_up_at:
            raise AssertionError(f"timed out after {timeout_s} s waiting for: {query}")
        await asyncio.sleep(POLL_INTERVAL_S)


async def wait_for_breach(db: asyncpg.Connection, work_item_id: uuid.UUID) -> datetime:
    breached_at: datetime = await wait_for_value(
        db,
        "SELECT breached_at FROM sla_clocks WHERE work_item_id = $1",
        work_item_id,
    )
    return breached_at
