"""Real PostgreSQL and NATS servers for tests, and per-test databases and prefixes.

`ServerProvider` picks each server independently, in this order:

1. the URL in `AE_TEST_DATABASE_URL` or `AE_TEST_NATS_URL`, when set;
2. a Testcontainers container, when a Docker engine responds to a ping;
3. an embedded server from `assignment_engine.devstack.servers`.

Each test gets its own database, cloned from a template database that holds the
migrated schema, and its own NATS subject prefix. The pytest fixtures built on
these helpers live in `assignment_engine.devstack.pytest_plugin`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import asyncpg
import grpc
import nats

from assignment_engine.core.auth import AuthSettings, BearerInterceptor, mint_token
from assignment_engine.core.bootstrap import (
    DEFAULT_ADMIN_ID,
    DEFAULT_UNIT_ID,
    ensure_admin,
)
from assignment_engine.core.config import CommonSettings
from assignment_engine.devstack.servers import EmbeddedNats, EmbeddedPostgres

logger = logging.getLogger(__name__)

DATABASE_URL_VARIABLE = "AE_TEST_DATABASE_URL"
NATS_URL_VARIABLE = "AE_TEST_NATS_URL"
POSTGRES_IMAGE = "postgres:18-alpine"
NATS_IMAGE = "nats:2-alpine"
DOCKER_PING_TIMEOUT_S = 3
TEST_DATABASE_PREFIX = "ae_test_"
TEMPLATE_SUFFIX = "_tpl"
DATABASE_NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
CONNECT_TIMEOUT_S = 10.0
CLONE_RETRY_TIMEOUT_S = 10.0
CLONE_RETRY_INTERVAL_S = 0.1
# Upper bound on STREAM.LIST pages read while looking for a prefix's streams.
MAX_STREAM_LIST_PAGES = 100

ServerSource = Literal["environment", "testcontainers", "embedded"]


def docker_engine_available(timeout: int = DOCKER_PING_TIMEOUT_S) -> bool:
    """Return whether a Docker engine responds to a ping within `timeout` seconds."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as error:  # docker raises many types for an absent engine
        logger.info("no Docker engine available: %s", error)
        return False


class ServerProvider:
    """PostgreSQL and NATS servers for one test session.

    `admin_database_url` connects as a superuser to a maintenance database, so
    tests can create and drop databases through it. close() stops the servers
    started here and leaves servers given by URL running.
    """

    def __init__(self, work_dir: Path | None = None) -> None:
        self._work_dir = work_dir
        self._owned_work_dir: Path | None = None
        self._docker: bool | None = None
        self._resources: list[Any] = []
        self.admin_database_url = ""
        self.nats_url = ""
        self.database_source: ServerSource | None = None
        self.nats_source: ServerSource | None = None

    def start(self) -> Self:
        """Choose and start both servers, then return self."""
        try:
            self._start_postgres()
            self._start_nats()
        except BaseException:
            self.close()
            raise
        logger.info(
            "test servers: PostgreSQL from %s at %s, NATS from %s at %s",
            self.database_source,
            _redact_password(self.admin_database_url),
            self.nats_source,
            self.nats_url,
        )
        return self

    def close(self) -> None:
        """Stop every server and container this provider started."""
        while self._resources:
            resource = self._resources.pop()
            try:
                resource.stop()
            except Exception:
                logger.exception("failed to stop test server %r", resource)
        if self._owned_work_dir is not None:
            shutil.rmtree(self._owned_work_dir, ignore_errors=True)
            self._owned_work_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _start_postgres(self) -> None:
        url = os.environ.get(DATABASE_URL_VARIABLE)
        if url:
            self.admin_database_url = url
            self.database_source = "environment"
            return
        if self._docker_available():
            try:
                self.admin_database_url = self._start_postgres_container()
                self.database_source = "testcontainers"
                return
            except Exception:
                logger.exception(
                    "failed to start the %s container; using embedded PostgreSQL",
                    POSTGRES_IMAGE,
                )
        server = EmbeddedPostgres(self._directory() / "postgres", fast=True)
        server.start()
        self._resources.append(server)
        self.admin_database_url = server.url()
        self.database_source = "embedded"

    def _start_nats(self) -> None:
        url = os.environ.get(NATS_URL_VARIABLE)
        if url:
            self.nats_url = url
            self.nats_source = "environment"
            return
        if self._docker_available():
            try:
                self.nats_url = self._start_nats_container()
                self.nats_source = "testcontainers"
                return
            except Exception:
                logger.exception(
                    "failed to start the %s container; using embedded NATS",
                    NATS_IMAGE,
                )
        server = EmbeddedNats(self._directory() / "nats")
        server.start()
        self._resources.append(server)
        self.nats_url = server.url()
        self.nats_source = "embedded"

    # NOTE: the two container paths below have never been run against a Docker
    # engine, so the image tags and container settings are unverified.
    def _start_postgres_container(self) -> str:
        from testcontainers.community.postgres import PostgresContainer

        container = PostgresContainer(
            POSTGRES_IMAGE,
            username="postgres",
            password="postgres",
            dbname="postgres",
            driver=None,
        ).with_command("postgres -c max_connections=300 -c fsync=off")
        container.start()
        self._resources.append(container)
        url: str = container.get_connection_url()
        return url

    def _start_nats_container(self) -> str:
        from testcontainers.community.nats import NatsContainer

        container = NatsContainer(NATS_IMAGE, jetstream=True)
        container.start()
        self._resources.append(container)
        url: str = container.nats_uri()
        return url

    def _docker_available(self) -> bool:
        if self._docker is None:
            self._docker = docker_engine_available()
        return self._docker

    def _directory(self) -> Path:
        if self._work_dir is not None:
            return self._work_dir
        if self._owned_work_dir is None:
            # Under the system temp dir, not pytest's tmp_path: as root, the
            # PostgreSQL system user must traverse every parent directory.
            self._owned_work_dir = Path(tempfile.mkdtemp(prefix="ae-test-servers-"))
        return self._owned_work_dir


def _redact_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def new_database_name(suffix: str = "") -> str:
    """Return a fresh database name `ae_test_<12 hex chars><suffix>`."""
    return f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}{suffix}"


def url_for_database(admin_url: str, database: str) -> str:
    """Return `admin_url` with its database replaced by `database`."""
    return urlsplit(admin_url)._replace(path=f"/{database}").geturl()


def database_name(url: str) -> str:
    """Return the database name in the path of a PostgreSQL URL."""
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError(f"URL {_redact_password(url)!r} names no database")
    return name


def _quoted(name: str) -> str:
    if not DATABASE_NAME_PATTERN.match(name):
        raise ValueError(
            f"database name {name!r} is invalid; expected lowercase letters, "
            "digits and '_', at most 63 characters"
        )
    return f'"{name}"'


async def _execute(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=CONNECT_TIMEOUT_S)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


# The staff member tests act as unless a test picks another caller.
ROOT_ADMIN_ID = DEFAULT_ADMIN_ID
ROOT_UNIT_ID = DEFAULT_UNIT_ID
# HMAC secret of every test run; services under test verify tokens signed with it.
TEST_JWT_SECRET = b"assignment-engine-test-secret-0123456789abcdef"


def auth_settings_for_tests() -> AuthSettings:
    return AuthSettings.for_secret(TEST_JWT_SECRET)


def common_settings_for_tests(
    database_url: str, nats_url: str, prefix: str, *, pool_max: int = 10
) -> CommonSettings:
    """Settings of a service started in-process by a test, on loopback."""
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


def token_for(
    subject: str = ROOT_ADMIN_ID, role: str = "admin", ttl_s: float = 3600
) -> str:
    """Return a valid test token for `subject` in `role`."""
    return mint_token(auth_settings_for_tests(), subject, role, ttl_s)


def authorized_channel(
    target: str, subject: str = ROOT_ADMIN_ID, role: str = "admin"
) -> grpc.aio.Channel:
    """Open an insecure channel whose calls carry a token for `subject` in `role`."""
    token = token_for(subject, role)
    return grpc.aio.insecure_channel(
        target, interceptors=[BearerInterceptor(lambda: token)]
    )


async def create_template_database(admin_url: str) -> str:
    """Create a database `ae_test_<random>_tpl` holding the migrated schema.

    The template also contains the admin `root` (unit `engine-ops`, WIP limit 0), whom
    test clients call as by default. Returns its name. The database is marked as a template that accepts no
    connections, so a stray session cannot block cloning it. Drop it with
    drop_template_database().
    """
    from assignment_engine.core.migrate import apply_migrations

    name = new_database_name(TEMPLATE_SUFFIX)
    await _execute(admin_url, f"CREATE DATABASE {_quoted(name)}")
    try:
        applied = await apply_migrations(url_for_database(admin_url, name))
        await ensure_admin(
            url_for_database(admin_url, name), ROOT_ADMIN_ID, ROOT_UNIT_ID
        )
        await _execute(
            admin_url,
            f"ALTER DATABASE {_quoted(name)} WITH IS_TEMPLATE true",
            f"ALTER DATABASE {_quoted(name)} WITH ALLOW_CONNECTIONS false",
        )
    except BaseException:
        await drop_template_database(admin_url, name)
        raise
    logger.info("created template database %s with %d migrations", name, len(applied))
    return name


async def clone_database(
    admin_url: str, template: str, *, max_wait: float = CLONE_RETRY_TIMEOUT_S
) -> str:
    """Create a database `ae_test_<random>` from `template`; return its URL.

    CREATE DATABASE fails while another session is connected to the template,
    after PostgreSQL itself has waited about 5 s for it to leave (measured on
    PostgreSQL 15). That error is retried until `max_wait` seconds have passed,
    so the actual wait can exceed `max_wait` by one such attempt.
    """
    name = new_database_name()
    statement = f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(template)}"
    deadline = time.monotonic() + max_wait
    attempts = 0
    while True:
        attempts += 1
        try:
            await _execute(admin_url, statement)
            break
        except asyncpg.ObjectInUseError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"cloning template database {template} timed out after "
                    f"{attempts} attempts: {error}"
                ) from error
            if attempts == 1:
                logger.info("template %s is in use; retrying the clone", template)
            await asyncio.sleep(CLONE_RETRY_INTERVAL_S)
    return url_for_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists, disconnecting its sessions first."""
    await _execute(admin_url, f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


async def drop_template_database(admin_url: str, name: str) -> None:
    """Clear the template flag of database `name`, then drop it."""
    conn = await asyncpg.connect(admin_url, timeout=CONNECT_TIMEOUT_S)
    try:
        exists = await conn.fetchval(
            "SELECT true FROM pg_database WHERE datname = $1", name
        )
        if exists:
            await conn.execute(f"ALTER DATABASE {_quoted(name)} WITH IS_TEMPLATE false")
        await conn.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
    finally:
        await conn.close()


def new_subject_prefix() -> str:
    """Return a fresh subject prefix: `t` and 10 lowercase hex characters.

    It matches the `AE_SUBJECT_PREFIX` pattern `^[A-Za-z0-9_-]{1,32}$`.
    """
    return f"t{secrets.token_hex(5)}"


async def delete_streams(nats_url: str, prefix: str) -> list[str]:
    """Delete every JetStream stream whose name contains `prefix`, in any case.

    Returns the deleted stream names. Matching by containment covers stream names
    derived from the prefix, such as its uppercase form with a suffix.
    """
    if not prefix:
        raise ValueError("an empty prefix is invalid because it matches every stream")
    needle = prefix.lower()
    client = await nats.connect(nats_url, connect_timeout=CONNECT_TIMEOUT_S)
    try:
        manager = client.jsm()
        names: list[str] = []
        for _ in range(MAX_STREAM_LIST_PAGES):
            page = await manager.streams_info(offset=len(names))
            if not page:
                break
            names += [str(info.config.name) for info in page]
        matching = [name for name in names if needle in name.lower()]
        for name in matching:
            await manager.delete_stream(name)
    finally:
        await client.close()
    if matching:
        logger.info("deleted JetStream streams %s", ", ".join(matching))
    return matching
