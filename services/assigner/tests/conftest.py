"""An in-process assigner on a fresh database, and a connection to arrange data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from assignment_engine.api.v1 import assigner_pb2_grpc
from assignment_engine.assigner import app
from assignment_engine.assigner.config import DEFAULT_CANDIDATE_LIMIT, AssignerSettings
from assignment_engine.assigner.scoring import DEFAULT_MIN_SKILL_MATCHES, Weights
from assignment_engine.core.config import CommonSettings
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack.testing import (
    authorized_channel,
    common_settings_for_tests,
)


@dataclass
class RunningAssigner:
    runtime: ServiceRuntime
    stub: assigner_pb2_grpc.AssignerServiceStub
    settings: AssignerSettings


def common_settings(
    database_url: str, nats_url: str, prefix: str, pool_max: int = 10
) -> CommonSettings:
    return common_settings_for_tests(database_url, nats_url, prefix, pool_max=pool_max)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def assigner(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[RunningAssigner]:
    settings = AssignerSettings(
        common=common_settings(database_url, nats_url, subject_prefix, pool_max=20),
        port=0,
        weights=Weights(),
        min_skill_matches=DEFAULT_MIN_SKILL_MATCHES,
        candidate_limit=DEFAULT_CANDIDATE_LIMIT,
    )
    runtime = await app.start(settings)
    channel = authorized_channel(f"127.0.0.1:{runtime.port}")
    yield RunningAssigner(
        runtime, assigner_pb2_grpc.AssignerServiceStub(channel), settings
    )
    await channel.close()
    await runtime.close()
