"""Services started in-process on one fresh database and subject prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import (
    assigner_pb2_grpc,
    availability_pb2_grpc,
    queue_pb2_grpc,
    sla_monitor_pb2_grpc,
)
from assignment_engine.assigner import app as assigner_app
from assignment_engine.assigner.config import DEFAULT_CANDIDATE_LIMIT, AssignerSettings
from assignment_engine.assigner.scoring import DEFAULT_MIN_SKILL_MATCHES, Weights
from assignment_engine.availability import app as availability_app
from assignment_engine.availability.config import AvailabilitySettings
from assignment_engine.core.config import CommonSettings
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import (
    authorized_channel,
    common_settings_for_tests,
)
from assignment_engine.queue import app as queue_app
from assignment_engine.queue.config import QueueSettings
from assignment_engine.sla_monitor import app as sla_monitor_app
from assignment_engine.sla_monitor.config import SlaMonitorSettings


def common_settings(database_url: str, nats_url: str, prefix: str) -> CommonSettings:
    return common_settings_for_tests(database_url, nats_url, prefix)


def assigner_settings(common: CommonSettings) -> AssignerSettings:
    return AssignerSettings(
        common=common,
        port=0,
        weights=Weights(),
        min_skill_matches=DEFAULT_MIN_SKILL_MATCHES,
        candidate_limit=DEFAULT_CANDIDATE_LIMIT,
    )


def queue_settings(
    common: CommonSettings, assigner_port: int, sweep_interval_s: float = 30.0
) -> QueueSettings:
    return QueueSettings(
        common=common,
        port=0,
        assigner_address=f"127.0.0.1:{assigner_port}",
        debounce_s=0.01,
        sweep_interval_s=sweep_interval_s,
        offer_batch=50,
        assigner_timeout_s=10.0,
    )


@dataclass
class Engine:
    common: CommonSettings
    runtimes: dict[str, ServiceRuntime] = field(default_factory=dict)
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def channel(self, name: str) -> grpc.aio.Channel:
        channel = authorized_channel(f"127.0.0.1:{self.runtimes[name].port}")
        self.channels.append(channel)
        return channel

    @property
    def assigner(self) -> assigner_pb2_grpc.AssignerServiceStub:
        return assigner_pb2_grpc.AssignerServiceStub(self.channel("assigner"))

    @property
    def queue(self) -> queue_pb2_grpc.QueueServiceStub:
        return queue_pb2_grpc.QueueServiceStub(self.channel("queue"))

    @property
    def availability(self) -> availability_pb2_grpc.AvailabilityServiceStub:
        return availability_pb2_grpc.AvailabilityServiceStub(
            self.channel("availability")
        )

    @property
    def sla_monitor(self) -> sla_monitor_pb2_grpc.SlaMonitorServiceStub:
        return sla_monitor_pb2_grpc.SlaMonitorServiceStub(self.channel("sla_monitor"))

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
        for runtime in reversed(list(self.runtimes.values())):
            await runtime.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def engine(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[Engine]:
    """The assigner and the queue service; the sweep is slow so events do the work."""
    common = common_settings(database_url, nats_url, subject_prefix)
    running = Engine(common)
    running.runtimes["assigner"] = await assigner_app.start(assigner_settings(common))
    running.runtimes["queue"] = await queue_app.start(
        queue_settings(common, running.runtimes["assigner"].port)
    )
    yield running
    await running.close()


async def full_engine_start(common: CommonSettings) -> Engine:
    """Start all four services on the database and subject prefix of `common`."""
    running = Engine(common)
    running.runtimes["availability"] = await availability_app.start(
        AvailabilitySettings(common=common, port=0)
    )
    running.runtimes["assigner"] = await assigner_app.start(assigner_settings(common))
    running.runtimes["queue"] = await queue_app.start(
        queue_settings(common, running.runtimes["assigner"].port)
    )
    running.runtimes["sla_monitor"] = await sla_monitor_app.start(
        SlaMonitorSettings(common=common, port=0, tick_interval_s=0.05)
    )
    return running


@pytest.fixture
async def full_engine(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[Engine]:
    """All four services on one database and subject prefix."""
    running = await full_engine_start(
        common_settings(database_url, nats_url, subject_prefix)
    )
    yield running
    await running.close()
