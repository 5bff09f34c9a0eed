"""Embedded PostgreSQL and NATS servers: start, connect, stop, restart, keep data."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import pytest

from assignment_engine.devstack.servers import (
    EmbeddedNats,
    EmbeddedPostgres,
    ServerStartError,
    free_port,
    port_accepts_connections,
)


@pytest.fixture
def work_dir() -> Iterator[Path]:
    # A fresh directory under the system temp dir, not tmp_path: as root the
    # PostgreSQL system user must traverse its parents, and pytest resets its own
    # base directory to mode 0700 whenever another session starts.
    path = Path(tempfile.mkdtemp(prefix="ae-devstack-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
    assert 1024 <= port <= 65535


def test_postgres_url_uses_loopback_and_port(work_dir: Path) -> None:
    server = EmbeddedPostgres(work_dir / "pg", port=54321)
    assert server.url() == "postgresql://postgres@127.0.0.1:54321/postgres"
    assert server.url("app") == "postgresql://postgres@127.0.0.1:54321/app"
    assert not server.is_running()


async def test_postgres_restart_keeps_rows(work_dir: Path) -> None:
    server = EmbeddedPostgres(work_dir / "pg")
    server.start()
    try:
        port = server.port
        first_pid = server.pid
        conn = await asyncpg.connect(server.url())
        try:
            assert await conn.fetchval("SHOW max_connections") == "300"
            assert await conn.fetchval("SHOW fsync") == "on"
            await conn.execute("CREATE TABLE kept (id integer PRIMARY KEY, note text)")
            await conn.execute("INSERT INTO kept VALUES (1, 'survives restart')")
        finally:
            await conn.close()

        server.stop()
        assert not server.is_running()
        assert server.pid is None
        assert not port_accepts_connections(port)

        server.start()
        assert server.port == port
        assert server.pid != first_pid
        conn = await asyncpg.connect(server.url())
        try:
            note = await conn.fetchval("SELECT note FROM kept WHERE id = 1")
        finally:
            await conn.close()
        assert note == "survives restart"
    finally:
        server.stop()
    assert not server.is_running()


async def test_postgres_fast_mode_settings(work_dir: Path) -> None:
    with EmbeddedPostgres(work_dir / "pg", fast=True) as server:
        conn = await asyncpg.connect(server.url())
        try:
            fsync = await conn.fetchval("SHOW fsync")
            synchronous_commit = await conn.fetchval("SHOW synchronous_commit")
            full_page_writes = await conn.fetchval("SHOW full_page_writes")
            encoding = await conn.fetchval("SHOW server_encoding")
        finally:
            await conn.close()
    assert fsync == "off"
    assert synchronous_commit == "off"
    assert full_page_writes == "off"
    assert encoding == "UTF8"
    assert not server.is_running()


def test_postgres_busy_port_raises_with_log(work_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = EmbeddedPostgres(work_dir / "pg", port=port, fast=True)
        with pytest.raises(ServerStartError) as caught:
            server.start()
    message = str(caught.value)
    assert "exited with code" in message
    assert "could not bind" in message
    assert not server.is_running()


async def test_nats_restart_keeps_stream_messages(work_dir: Path) -> None:
    server = EmbeddedNats(work_dir / "nats")
    server.start()
    try:
        port = server.port
        assert server.url() == f"nats://127.0.0.1:{port}"
        client = await nats.connect(server.url())
        try:
            jetstream = client.jetstream()
            await jetstream.add_stream(name="KEPT", subjects=["kept.>"])
            ack = await jetstream.publish("kept.one", b"survives restart")
        finally:
            await client.close()
        assert ack.seq == 1

        server.stop()
        assert not server.is_running()
        assert not port_accepts_connections(port)

        server.start()
        assert server.port == port
        client = await nats.connect(server.url())
        try:
            manager = client.jsm()
            info = await manager.stream_info("KEPT")
            message = await manager.get_msg("KEPT", seq=1)
        finally:
            await client.close()
        assert info.state.messages == 1
        assert message.data == b"survives restart"
        assert message.subject == "kept.one"
    finally:
        server.stop()
    assert not server.is_running()


def test_nats_context_manager_stops(work_dir: Path) -> None:
    with EmbeddedNats(work_dir / "nats") as server:
        assert server.is_running()
        assert port_accepts_connections(server.port)
    assert not server.is_running()
    assert (work_dir / "nats" / "nats-server.log").exists()


def test_nats_stop_kills_unresponsive_server(work_dir: Path) -> None:
    server = EmbeddedNats(work_dir / "nats")
    server.start()
    pid = server.pid
    assert pid is not None
    # A stopped process ignores SIGTERM until it continues, but not SIGKILL.
    os.kill(pid, signal.SIGSTOP)
    server.stop(timeout=0.5)
    assert not server.is_running()
    assert server.pid is None
    log = (work_dir / "nats" / "nats-server.log").read_text()
    assert "Server is ready" in log
