"""Fixtures: the availability service running in-process on a fresh database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TypeAlias, TypeVar

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc, common_pb2
from assignment_engine.availability import app
from assignment_engine.availability.config import AvailabilitySettings
from assignment_engine.core.config import CommonSettings
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import (
    ROOT_ADMIN_ID,
    auth_settings_for_tests,
    authorized_channel,
)

T = TypeVar("T")
Stub: TypeAlias = availability_pb2_grpc.AvailabilityServiceStub
StubFactory: TypeAlias = Callable[[str, str], Stub]


def make_settings(
    database_url: str, nats_url: str, subject_prefix: str
) -> AvailabilitySettings:
    return AvailabilitySettings(
        common=CommonSettings(
            database_url=database_url,
            nats_url=nats_url,
            subject_prefix=subject_prefix,
            bind_host="127.0.0.1",
            db_pool_min=1,
            db_pool_max=4,
            grpc_max_message_bytes=4 * 1024 * 1024,
            log_level="INFO",
            auth=auth_settings_for_tests(),
        ),
        port=0,
    )


@pytest.fixture
async def runtime(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """The service without an outbox relay, so tests read events from the outbox table."""
    settings = make_settings(database_url, nats_url, subject_prefix)
    runtime = await app.start(settings, relay=False)
    yield runtime
    await runtime.close()


@pytest.fixture
async def relaying_runtime(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """The service as deployed, with the outbox relay publishing to JetStream."""
    settings = make_settings(database_url, nats_url, subject_prefix)
    runtime = await app.start(settings)
    yield runtime
    await runtime.close()


@pytest.fixture
async def channel(runtime: ServiceRuntime) -> AsyncIterator[grpc.aio.Channel]:
    async with authorized_channel(f"127.0.0.1:{runtime.port}") as channel:
        yield channel


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> availability_pb2_grpc.AvailabilityServiceStub:
    return availability_pb2_grpc.AvailabilityServiceStub(channel)


@pytest.fixture
async def stub_as(runtime: ServiceRuntime) -> AsyncIterator[StubFactory]:
    """Build stubs whose calls carry a token for a subject in a role."""
    channels: list[grpc.aio.Channel] = []

    def build(subject: str, role: str) -> Stub:
        channel = authorized_channel(f"127.0.0.1:{runtime.port}", subject, role)
        channels.append(channel)
        return Stub(channel)

    yield build
    for channel in channels:
        await channel.close()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for checking what was written."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def alice(stub: availability_pb2_grpc.AvailabilityServiceStub) -> str:
    """Create unit "ops" with staff member "alice" (WIP limit 3); return her id."""
    await stub.UpsertUnit(
        availability_pb2.UpsertUnitRequest(unit=common_pb2.Unit(id="ops", name="Ops"))
    )
    await stub.UpsertStaff(
        availability_pb2.UpsertStaffRequest(
            staff=common_pb2.Staff(
                id="alice", unit_id="ops", role=common_pb2.ROLE_STAFF, wip_limit=3
            )
        )
    )
    return "alice"


# The organisation of the authorization, leave and HR tests. Unit "north" is
# supervised by nora and has the staff members ned and nina. Unit "south" is
# supervised by sue and has sid. Each HR employee id is "E-" and the staff id.
NORTH_STAFF = {
    "nora": common_pb2.ROLE_SUPERVISOR,
    "ned": common_pb2.ROLE_STAFF,
    "nina": common_pb2.ROLE_STAFF,
}
SOUTH_STAFF = {"sue": common_pb2.ROLE_SUPERVISOR, "sid": common_pb2.ROLE_STAFF}
# Callers by label: (subject, role).
CALLERS = {
    "ned": ("ned", "staff"),
    "nina": ("nina", "staff"),
    "nora": ("nora", "supervisor"),
    "sue": ("sue", "supervisor"),
    "sid": ("sid", "staff"),
    "admin": (ROOT_ADMIN_ID, "admin"),
    "service": ("hr-gateway", "service"),
}


def organisation_request() -> availability_pb2.ImportOrganisationRequest:
    request = availability_pb2.ImportOrganisationRequest(
        units=[
            common_pb2.Unit(id="north", name="North", supervisor_id="nora"),
            common_pb2.Unit(id="south", name="South", supervisor_id="sue"),
        ]
    )
    for unit_id, members in (("north", NORTH_STAFF), ("south", SOUTH_STAFF)):
        for staff_id, role in members.items():
            request.staff.append(
                common_pb2.Staff(
                    id=staff_id,
                    unit_id=unit_id,
                    role=role,
                    wip_limit=3,
                    hr_employee_id=f"E-{staff_id}",
                )
            )
    return request


@pytest.fixture
async def organisation(stub: Stub, database: asyncpg.Connection) -> None:
    """Import the north and south units, then empty the outbox."""
    await stub.ImportOrganisation(organisation_request())
    await database.execute("DELETE FROM outbox")


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
) -> T:
    """Return the first truthy result of `check`, polling for up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout_s} s")
        await asyncio.sleep(interval_s)


async def outbox_events(
    database: asyncpg.Connection, subject: str
) -> list[asyncpg.Record]:
    """The outbox rows of one subject, oldest first."""
    return await database.fetch(
        "SELECT payload FROM outbox WHERE subject = $1 ORDER BY id", subject
    )


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
