"""The resources of one service process, opened and closed in order.

A service's `start` opens a `ServiceRuntime` (database pool, NATS, outbox relay),
spawns its background loops under supervision and serves gRPC; `run_service`
does that from a console script and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import asyncpg
import grpc
import uvloop
from nats.aio.client import Client
from nats.js import JetStreamContext

from assignment_engine.core import db, jetstream, logs, telemetry
from assignment_engine.core.auth import ServiceToken, TokenVerifier
from assignment_engine.core.channels import open_channel
from assignment_engine.core.config import CommonSettings, ConfigError
from assignment_engine.core.errors import Unavailable
from assignment_engine.core.grpc_server import GrpcServer, ServiceBinding
from assignment_engine.core.outbox import OutboxRelay

logger = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0
STOP_ATTEMPTS = 10


class ServiceRuntime:
    def __init__(self, name: str, settings: CommonSettings) -> None:
        self.name = name
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._nats: Client | None = None
        self._js: JetStreamContext | None = None
        self.relay: OutboxRelay | None = None
        self.server: GrpcServer | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.closers: list[Callable[[], Awaitable[None]]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "runtime not opened"
        return self._pool

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "runtime opened without NATS"
        return self._js

    async def open(self, *, relay: bool = True) -> None:
        """Open the pool and NATS, make sure the stream exists, start the relay."""
        settings = self.settings
        self._pool = await db.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
        )
        self._nats = await jetstream.connect(settings.nats_url, f"ae-{self.name}")
        self._js = self._nats.jetstream()
        await jetstream.ensure_stream(self._js, settings.subject_prefix)
        if relay:
            self.relay = OutboxRelay(self._pool, self._js, settings.subject_prefix)
            self.spawn("outbox-relay", self.relay.run)

    def spawn(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `loop` in the background; restart it after a delay if it crashes."""

        async def supervised() -> None:
            while True:
                try:
                    await loop()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception(
                        "background loop %s crashed; restarting in %.0f s",
                        name,
                        RESTART_DELAY_S,
                        extra=logs.fields(event="loop_crashed", loop=name),
                    )
                    await asyncio.sleep(RESTART_DELAY_S)

        self.tasks.append(asyncio.create_task(supervised(), name=f"{self.name}:{name}"))

    def open_client(self, target: str) -> grpc.aio.Channel:
        """Open a channel to another service that presents this service's identity."""
        token = ServiceToken(self.settings.auth, self.name)
        channel = open_channel(
            target,
            max_message_bytes=self.settings.grpc_max_message_bytes,
            token=token.get,
            tls=self.settings.tls,
        )

        async def close() -> None:
            await channel.close()

        self.closers.append(close)
        return channel

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def serve(self, bindings: Sequence[ServiceBinding], port: int) -> int:
        """Start the gRPC server; return the port it listens on."""
        self.server = GrpcServer(
            bindings,
            host=self.settings.bind_host,
            port=port,
            max_message_bytes=self.settings.grpc_max_message_bytes,
            verifier=TokenVerifier(self.settings.auth),
            tls=self.settings.tls,
        )
        await self.server.start()
        logger.info(
            "%s serving on %s:%d",
            self.name,
            self.settings.bind_host,
            self.server.port,
            extra=logs.fields(event="service_started", port=self.server.port),
        )
        return self.server.port

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    async def close(self) -> None:
        """Stop serving, stop the loops, then close NATS and the pool."""
        if self.server is not None:
            await self.server.stop()
        pending = {task for task in self.tasks if not task.done()}
        # A loop blocked in a NATS fetch can swallow one cancellation, so cancel
        # again until every loop has ended.
        for _ in range(STOP_ATTEMPTS):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        if pending:
            logger.error(
                "%d background loops did not stop: %s",
                len(pending),
                ", ".join(task.get_name() for task in pending),
                extra=logs.fields(event="loops_not_stopped"),
            )
        for closer in reversed(self.closers):
            await closer()
        if self._nats is not None and not self._nats.is_closed:
            await self._nats.close()
        if self._pool is not None:
            await self._pool.close()
        logger.info("%s stopped", self.name, extra=logs.fields(event="service_stopped"))


def run_service(name: str, start: Callable[[], Awaitable[ServiceRuntime]]) -> None:
    """Entry point of a console script: start, wait for SIGTERM/SIGINT, close."""
    try:
        level = CommonSettings.from_env().log_level
        logs.setup(name, level)
        telemetry.setup_tracing(name)
    except ConfigError as exc:
        raise SystemExit(f"{name}: {exc}") from None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runtime = await start()
        await stop.wait()
        logger.info(
            "%s shutting down", name, extra=logs.fields(event="service_stopping")
        )
        await runtime.close()
        telemetry.shutdown_tracing()

    try:
        uvloop.run(main())
    except ConfigError as exc:
        raise SystemExit(f"{name}: {exc}") from None
    except Unavailable as exc:
        logger.error(
            "%s cannot start: %s",
            name,
            exc,
            extra=logs.fields(event="service_start_failed"),
        )
        raise SystemExit(f"{name}: cannot start: {exc}") from None
