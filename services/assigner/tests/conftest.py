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
    auth_settings_for_tests,
    authorized_channel,
)


@dataclass
class RunningAssigner:
    runtime: ServiceRuntime
    stub: assigner_pb2_grpc.AssignerServiceStub
    settings: AssignerSettings


def common_settings(
    database_url: str, nats_url: str, prefix: str, pool_max: int = 10
) -> CommonSettings:
    return CommonSettings(
        database_url=database_url,
        nats_url=nats_url,
        subject_prefix=prefix,
        bind_host="127.0.0.1",
        db_pool_min=1,
        db_pool_max=pool_max,
        grpc_max_message_bytes=4 * 1024 * 1024,
        log_level="INFO",
        auth=auth_settings_for_tests(),
    )


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
