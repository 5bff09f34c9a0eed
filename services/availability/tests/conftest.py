"""Fixtures: the availability service running in-process on a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc, common_pb2
from assignment_engine.availability import app
from assignment_engine.availability.config import AvailabilitySettings
from assignment_engine.core.config import CommonSettings
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import (
    auth_settings_for_tests,
    authorized_channel,
)


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
