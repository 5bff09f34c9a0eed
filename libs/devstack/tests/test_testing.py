"""Test fixtures and helpers: cloned databases, subject prefixes, stream cleanup."""

from __future__ import annotations

import asyncio
import os
import re

import asyncpg
import nats
import pytest

from assignment_engine.devstack.testing import (
    ServerProvider,
    clone_database,
    database_name,
    delete_streams,
    drop_database,
    new_database_name,
    new_subject_prefix,
    url_for_database,
)


async def _database_exists(admin_url: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        found = await conn.fetchval(
            "SELECT true FROM pg_database WHERE datname = $1", name
        )
    finally:
        await conn.close()
    return bool(found)


async def test_clones_are_independent(
    servers: ServerProvider, template_database: str
) -> None:
    admin_url = servers.admin_database_url
    first_url = await clone_database(admin_url, template_database)
    second_url = await clone_database(admin_url, template_database)
    try:
        assert database_name(first_url) != database_name(second_url)
        assert database_name(first_url).startswith("ae_test_")

        first = await asyncpg.connect(first_url)
        try:
            await first.execute("CREATE TABLE clone_marker (id integer PRIMARY KEY)")
            await first.execute("INSERT INTO clone_marker VALUES (1)")
            first_count = await first.fetchval("SELECT count(*) FROM clone_marker")
        finally:
            await first.close()

        second = await asyncpg.connect(second_url)
        try:
            marker_table = await second.fetchval(
                "SELECT to_regclass('clone_marker')::text"
            )
        finally:
            await second.close()

        assert first_count == 1
        assert marker_table is None
    finally:
        await drop_database(admin_url, database_name(first_url))
        await drop_database(admin_url, database_name(second_url))
    assert not await _database_exists(admin_url, database_name(first_url))
    assert not await _database_exists(admin_url, database_name(second_url))


async def test_clone_waits_for_busy_template(servers: ServerProvider) -> None:
    admin_url = servers.admin_database_url
    source = new_database_name()
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{source}"')
    await admin.close()
    holder = await asyncpg.connect(url_for_database(admin_url, source))
    clone_url = None
    try:
        # Each attempt blocks for about 5 s inside CREATE DATABASE before failing.
        with pytest.raises(TimeoutError, match="timed out"):
            await clone_database(admin_url, source, max_wait=0.3)

        clone = asyncio.create_task(clone_database(admin_url, source, max_wait=10))
        await asyncio.sleep(0.3)
        assert not clone.done()
        await holder.close()
        clone_url = await asyncio.wait_for(clone, timeout=15)
        assert await _database_exists(admin_url, database_name(clone_url))
    finally:
        await holder.close()
        if clone_url is not None:
            await drop_database(admin_url, database_name(clone_url))
        await drop_database(admin_url, source)


async def test_database_url_fixture_is_migrated(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        staff_load = await conn.fetchval("SELECT to_regclass('staff_load')::text")
        migrations = await conn.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await conn.close()
    assert staff_load == "staff_load"
    assert migrations >= 1


async def test_template_rejects_connections(
    servers: ServerProvider, template_database: str
) -> None:
    template_url = url_for_database(servers.admin_database_url, template_database)
    with pytest.raises(asyncpg.PostgresError, match="not currently accepting"):
        await asyncpg.connect(template_url)


def test_subject_prefix_format() -> None:
    prefixes = {new_subject_prefix() for _ in range(100)}
    assert len(prefixes) == 100
    for prefix in prefixes:
        assert re.fullmatch(r"t[0-9a-f]{10}", prefix)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", prefix)


def test_subject_prefix_fixture_is_unique(subject_prefix: str) -> None:
    assert re.fullmatch(r"t[0-9a-f]{10}", subject_prefix)


async def test_delete_streams_matches_prefix(nats_url: str) -> None:
    prefix = new_subject_prefix()
    other = new_subject_prefix()
    other_stream = f"{other.upper()}_EVENTS"
    client = await nats.connect(nats_url)
    try:
        manager = client.jsm()
        await manager.add_stream(
            name=f"{prefix.upper()}_EVENTS", subjects=[f"{prefix}.a"]
        )
        await manager.add_stream(name=f"{prefix}_commands", subjects=[f"{prefix}.b"])
        await manager.add_stream(name=other_stream, subjects=[f"{other}.a"])

        deleted = await delete_streams(nats_url, prefix)

        remaining = [info.config.name for info in await manager.streams_info()]
        await manager.delete_stream(other_stream)
    finally:
        await client.close()
    assert sorted(deleted) == sorted([f"{prefix.upper()}_EVENTS", f"{prefix}_commands"])
    assert other_stream in remaining
    assert f"{prefix.upper()}_EVENTS" not in remaining
    assert f"{prefix}_commands" not in remaining


async def test_delete_streams_rejects_empty_prefix(nats_url: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        await delete_streams(nats_url, "")


def test_environment_has_no_ae_settings() -> None:
    leaked = [
        name
        for name in os.environ
        if name.startswith("AE_") and not name.startswith("AE_TEST_")
    ]
    assert leaked == []


def test_url_for_database_replaces_path() -> None:
    admin_url = "postgresql://postgres:secret@db:5432/postgres?sslmode=off"
    url = url_for_database(admin_url, "x")
    assert url == "postgresql://postgres:secret@db:5432/x?sslmode=off"
    assert database_name(url) == "x"
