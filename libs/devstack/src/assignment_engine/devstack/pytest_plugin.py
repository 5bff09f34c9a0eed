"""Pytest fixtures that give each test a real PostgreSQL database and NATS server.

Load it with `pytest_plugins = ["assignment_engine.devstack.pytest_plugin"]` in a
root conftest.py. How the servers are chosen is described in
`assignment_engine.devstack.testing`.

Session fixtures are synchronous and run the async helpers with asyncio.run() in
a worker thread, so they never touch the event loops pytest-asyncio gives tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from assignment_engine.devstack.testing import (
    ServerProvider,
    clone_database,
    create_template_database,
    database_name,
    delete_streams,
    drop_database,
    drop_template_database,
    new_subject_prefix,
)

T = TypeVar("T")


def _run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session", autouse=True)
def isolated_environment() -> Iterator[None]:
    """Remove every `AE_*` variable except `AE_TEST_*` for the whole session.

    A developer's shell settings then cannot change what the services under test
    read. The variables are restored when the session ends.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AE_") and not name.startswith("AE_TEST_"):
                patch.delenv(name)
        yield


@pytest.fixture(scope="session")
def servers(isolated_environment: None) -> Iterator[ServerProvider]:
    """PostgreSQL and NATS servers shared by every test of the session."""
    with ServerProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
def template_database(servers: ServerProvider) -> Iterator[str]:
    """Name of a migrated template database, dropped when the session ends."""
    admin_url = servers.admin_database_url
    name = _run_in_thread(create_template_database(admin_url))
    yield name
    _run_in_thread(drop_template_database(admin_url, name))


@pytest.fixture
async def database_url(
    servers: ServerProvider, template_database: str
) -> AsyncIterator[str]:
    """URL of a fresh migrated database for one test, dropped afterwards."""
    admin_url = servers.admin_database_url
    url = await clone_database(admin_url, template_database)
    yield url
    await drop_database(admin_url, database_name(url))


@pytest.fixture
def nats_url(servers: ServerProvider) -> str:
    """URL of the session's NATS server, with JetStream enabled."""
    return servers.nats_url


@pytest.fixture
async def subject_prefix(nats_url: str) -> AsyncIterator[str]:
    """Subject prefix unique to one test.

    Streams whose names contain the prefix are deleted after the test.
    """
    prefix = new_subject_prefix()
    yield prefix
    await delete_streams(nats_url, prefix)
