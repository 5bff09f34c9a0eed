"""Events written while NATS is down are published once it is back, once each."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import pytest

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2, events_pb2
from assignment_engine.assigner import app as assigner_app
from assignment_engine.core import subjects
from assignment_engine.core.db import create_pool
from assignment_engine.core.outbox import OutboxRelay, add_event
from assignment_engine.devstack import seeding
from assignment_engine.devstack.servers import EmbeddedNats

from .conftest import Engine, assigner_settings, common_settings

WAIT_S = 20.0


@pytest.fixture
def own_nats() -> Iterator[EmbeddedNats]:
    """A NATS server of this test's own, which it may stop and start."""
    with tempfile.TemporaryDirectory(prefix="ae-nats-") as store:
        server = EmbeddedNats(Path(store))
        server.start()
        yield server
        server.stop()


async def stream_messages(url: str, prefix: str, name: str) -> list[str]:
    """Return the Nats-Msg-Id of every message on subject `name`, oldest first."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        subscription = await js.pull_subscribe(
            subjects.subject(prefix, name), stream=subjects.stream_name(prefix)
        )
        ids: list[str] = []
        while True:
            try:
                batch = await subscription.fetch(100, timeout=1.0)
            except nats.errors.TimeoutError:
                return ids
            for message in batch:
                ids.append((message.headers or {}).get(subjects.MSG_ID_HEADER, ""))
                await message.ack()
    finally:
        await client.close()


async def wait_until_outbox_empty(db: asyncpg.Connection) -> None:
    deadline = time.monotonic() + WAIT_S
    while await db.fetchval("SELECT count(*) FROM outbox"):
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox still holds events after {WAIT_S} s")
        await asyncio.sleep(0.1)


async def test_outbox__event_written_during_outage_is_published_after(
    database_url: str,
    subject_prefix: str,
    db: asyncpg.Connection,
    own_nats: EmbeddedNats,
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"])
    common = common_settings(database_url, own_nats.url(), subject_prefix)
    runtime = await assigner_app.start(assigner_settings(common))
    engine = Engine(common, {"assigner": runtime})
    try:
        submitted = await engine.assigner.SubmitWorkItem(
            pb.SubmitWorkItemRequest(
                type="incident",
                external_id="INC1",
                required_skills=["network"],
                priority=common_pb2.PRIORITY_HIGH,
            )
        )
        await wait_until_outbox_empty(db)
        own_nats.stop()

        await engine.assigner.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
        )
        await asyncio.sleep(1.0)
        waiting = await db.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = $1", subjects.CAPACITY_FREED
        )
        event_id = str(
            await db.fetchval(
                "SELECT event_id FROM outbox WHERE subject = $1",
                subjects.CAPACITY_FREED,
            )
        )
        own_nats.start()
        await wait_until_outbox_empty(db)

        assert waiting == 1
        assert await stream_messages(
            own_nats.url(), subject_prefix, subjects.CAPACITY_FREED
        ) == [event_id]
    finally:
        await engine.close()


async def test_outbox__republished_event_is_dropped_by_jetstream(
    database_url: str, nats_url: str, subject_prefix: str, db: asyncpg.Connection
) -> None:
    from assignment_engine.core import jetstream

    client = await nats.connect(nats_url)
    js = client.jetstream()
    await jetstream.ensure_stream(js, subject_prefix)
    pool = await create_pool(database_url, min_size=1, max_size=2)
    relay = OutboxRelay(pool, js, subject_prefix)
    event = events_pb2.CapacityFreed(staff_id="p1", reason="assignment_completed")
    try:
        async with pool.acquire() as conn:
            event_id = await add_event(conn, subjects.CAPACITY_FREED, event)
        await relay.publish_batch()
        # The same event again, as after a relay crash between publish and delete.
        async with pool.acquire() as conn:
            await add_event(conn, subjects.CAPACITY_FREED, event)

        await relay.publish_batch()

        assert await stream_messages(
            nats_url, subject_prefix, subjects.CAPACITY_FREED
        ) == [str(event_id)]
        assert await db.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await pool.close()
        await client.close()
