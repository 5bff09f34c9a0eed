"""SetAvailability: the stored status and the events each transition writes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TypeAlias

import asyncpg
import grpc
import nats
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js.errors import NotFoundError

from assignment_engine.api.v1 import (
    availability_pb2,
    availability_pb2_grpc,
    common_pb2,
    events_pb2,
)
from assignment_engine.core import subjects
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import authorized_channel

from .conftest import StubFactory

Stub: TypeAlias = availability_pb2_grpc.AvailabilityServiceStub

AVAILABLE = common_pb2.AVAILABILITY_STATUS_AVAILABLE
BUSY = common_pb2.AVAILABILITY_STATUS_BUSY
UNAVAILABLE = common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
ON_LEAVE = common_pb2.AVAILABILITY_STATUS_ON_LEAVE
PUBLISH_TIMEOUT_S = 10.0


async def set_status(
    stub: Stub, staff_id: str, status: int, **fields: object
) -> availability_pb2.SetAvailabilityResponse:
    request = availability_pb2.SetAvailabilityRequest(
        staff_id=staff_id,
        status=status,
        **fields,  # type: ignore[arg-type]
    )
    return await stub.SetAvailability(request)


async def outbox_subjects(database: asyncpg.Connection) -> list[str]:
    rows = await database.fetch("SELECT subject FROM outbox ORDER BY id")
    return [row["subject"] for row in rows]


async def test_set_availability__stores_status_reason_and_until(
    stub_as: StubFactory, database: asyncpg.Connection, alice: str
) -> None:
    until = datetime(2031, 5, 1, 8, 30, tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(until)
    own = stub_as(alice, "staff")

    response = await set_status(
        own, alice, ON_LEAVE, until=stamp, reason="parental leave"
    )

    assert response.staff.availability == ON_LEAVE
    assert response.staff.availability_reason == "parental leave"
    assert response.staff.availability_source == common_pb2.AVAILABILITY_SOURCE_MANUAL
    assert response.staff.unavailable_until == stamp
    row = await database.fetchrow(
        "SELECT unavailable_until, availability_source, availability_changed_at > created_at"
        " AS changed FROM staff WHERE id = $1",
        alice,
    )
    assert row["unavailable_until"] == until
    assert row["availability_source"] == "manual"
    assert row["changed"]


async def test_set_availability__becoming_available_clears_until(
    stub: Stub, alice: str
) -> None:
    await set_status(stub, alice, UNAVAILABLE, until=Timestamp(seconds=2_000_000_000))

    response = await set_status(stub, alice, AVAILABLE)

    assert not response.staff.HasField("unavailable_until")
    assert response.staff.availability_reason == ""


async def test_set_availability__unknown_staff_is_not_found(
    stub: Stub, database: asyncpg.Connection
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await set_status(stub, "nobody", BUSY)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert await outbox_subjects(database) == []


@pytest.mark.parametrize(
    ("before", "after", "frees_capacity"),
    [
        (AVAILABLE, UNAVAILABLE, False),
        (AVAILABLE, ON_LEAVE, False),
        (AVAILABLE, BUSY, False),
        (BUSY, AVAILABLE, False),
        (UNAVAILABLE, ON_LEAVE, False),
        (UNAVAILABLE, AVAILABLE, True),
        (UNAVAILABLE, BUSY, True),
        (ON_LEAVE, AVAILABLE, True),
        (ON_LEAVE, BUSY, True),
        (AVAILABLE, AVAILABLE, False),
        (UNAVAILABLE, UNAVAILABLE, False),
    ],
)
async def test_set_availability__writes_events_for_the_transition(
    stub_as: StubFactory,
    database: asyncpg.Connection,
    alice: str,
    before: int,
    after: int,
    frees_capacity: bool,
) -> None:
    own = stub_as(alice, "staff")
    if before != AVAILABLE:
        await set_status(own, alice, before)
    await database.execute("DELETE FROM outbox")

    await set_status(own, alice, after, reason="shift change")

    expected = [subjects.AVAILABILITY_CHANGED]
    if frees_capacity:
        expected.append(subjects.CAPACITY_FREED)
    assert await outbox_subjects(database) == expected
    payloads = await database.fetch("SELECT subject, payload FROM outbox ORDER BY id")
    changed = events_pb2.AvailabilityChanged.FromString(payloads[0]["payload"])
    assert changed.staff_id == alice
    assert changed.previous == before
    assert changed.current == after
    assert changed.source == common_pb2.AVAILABILITY_SOURCE_MANUAL
    if frees_capacity:
        freed = events_pb2.CapacityFreed.FromString(payloads[1]["payload"])
        assert (freed.staff_id, freed.unit_id, freed.reason) == (
            alice,
            "ops",
            "became_available",
        )


async def test_set_availability__publishes_events_to_jetstream(
    relaying_runtime: ServiceRuntime, nats_url: str, subject_prefix: str
) -> None:
    client = await nats.connect(nats_url)
    address = f"127.0.0.1:{relaying_runtime.port}"
    try:
        async with authorized_channel(address) as channel:
            stub = availability_pb2_grpc.AvailabilityServiceStub(channel)
            await stub.UpsertUnit(
                availability_pb2.UpsertUnitRequest(
                    unit=common_pb2.Unit(id="ops", name="Ops")
                )
            )
            await stub.UpsertStaff(
                availability_pb2.UpsertStaffRequest(
                    staff=common_pb2.Staff(
                        id="alice",
                        unit_id="ops",
                        role=common_pb2.ROLE_STAFF,
                        wip_limit=1,
                    )
                )
            )

            await set_status(stub, "alice", ON_LEAVE)
            subject = subjects.subject(subject_prefix, subjects.AVAILABILITY_CHANGED)
            message = await last_message(client, subject_prefix, subject)
    finally:
        await client.close()

    changed = events_pb2.AvailabilityChanged.FromString(message)
    assert changed.staff_id == "alice"
    assert changed.current == ON_LEAVE


async def last_message(client: nats.NATS, prefix: str, subject: str) -> bytes:
    """Return the newest message on `subject`, waiting up to PUBLISH_TIMEOUT_S for one."""
    js = client.jetstream()
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while True:
        try:
            stored = await js.get_last_msg(subjects.stream_name(prefix), subject)
            return stored.data or b""
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
