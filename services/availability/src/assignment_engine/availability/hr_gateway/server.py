"""The gateway's HTTP server: `POST /hr/v1/events` and `GET /healthz`.

Responses to a delivery:

- 200 when RecordHrEvent stored it as accepted or stale, and 422 when it stored
  it as rejected (for example an unknown employee). A repeated delivery id gets
  the stored outcome, so the same status and body as the first time.
- 401 for a missing, malformed or non-matching signature, and for a timestamp
  more than 5 minutes from the server clock.
- 413 for a body over the limit, and 415 for a compressed body.
- 400 for a body that is not JSON, or for a missing or ill-typed field, which
  the error names.
- 503 with Retry-After when the availability service cannot be reached or
  fails. That is the only 5xx, because every other error is caught, logged and
  gets 503 too, so the HR system retries.

Error bodies are `{"error": "..."}`. Requests that fail before the signature
is verified are logged at most LOG_BUDGET times per LOG_WINDOW_S, with a count
of the ones left out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
from aiohttp import http_exceptions, web

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc
from assignment_engine.availability.hr_gateway.config import HrGatewaySettings
from assignment_engine.availability.hr_gateway.payload import PayloadError, parse_event
from assignment_engine.availability.hr_gateway.signature import (
    ID_HEADER,
    SignatureError,
    WebhookVerifier,
)
from assignment_engine.core import logs
from assignment_engine.core.auth import ServiceToken
from assignment_engine.core.channels import open_channel

logger = logging.getLogger(__name__)

SERVICE_NAME = "hr-gateway"
EVENTS_PATH = "/hr/v1/events"
HEALTH_PATH = "/healthz"
RETRY_AFTER_S = 5
READ_CHUNK_BYTES = 16 * 1024
MAX_DELIVERY_ID_LENGTH = 128
# Longest unverified delivery id copied into a log line.
MAX_LOGGED_ID_LENGTH = 128
LOG_BUDGET = 20
LOG_WINDOW_S = 60.0
OUTCOME_NAMES = {
    availability_pb2.HR_EVENT_OUTCOME_ACCEPTED: "accepted",
    availability_pb2.HR_EVENT_OUTCOME_STALE: "stale",
    availability_pb2.HR_EVENT_OUTCOME_REJECTED: "rejected",
}


class LogBudget:
    """Allows `budget` log lines per window and counts the ones it suppresses."""

    def __init__(
        self,
        budget: int = LOG_BUDGET,
        window_s: float = LOG_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.window_s = window_s
        self.clock = clock
        self._window_start = clock()
        self._used = 0
        self.suppressed = 0

    def take(self) -> int | None:
        """Return the count suppressed since the last allowed line, or None to skip."""
        now = self.clock()
        if now - self._window_start >= self.window_s:
            self._window_start = now
            self._used = 0
        if self._used >= self.budget:
            self.suppressed += 1
            return None
        self._used += 1
        suppressed, self.suppressed = self.suppressed, 0
        return suppressed


def open_availability_channel(settings: HrGatewaySettings) -> Any:
    """Open a channel to the availability service that presents the gateway's identity."""
    common = settings.common
    return open_channel(
        settings.availability_address,
        max_message_bytes=common.grpc_max_message_bytes,
        token=ServiceToken(common.auth, SERVICE_NAME).get,
        tls=common.tls,
    )


def error_response(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def unavailable(message: str) -> web.Response:
    return error_response(503, message, **{"Retry-After": str(RETRY_AFTER_S)})


class HrGateway:
    def __init__(self, settings: HrGatewaySettings, channel: grpc.aio.Channel) -> None:
        self.verifier = WebhookVerifier(settings.secrets)
        self.stub = availability_pb2_grpc.AvailabilityServiceStub(channel)
        self.max_body_bytes = settings.max_body_bytes
        self.call_timeout_s = settings.call_timeout_s
        self.log_budget = LogBudget()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body_bytes)
        app.router.add_post(EVENTS_PATH, self.receive)
        app.router.add_get(HEALTH_PATH, self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def receive(self, request: web.Request) -> web.Response:
        try:
            return await self._receive(request)
        except Exception:
            logger.exception(
                "HR delivery failed in the gateway",
                extra=logs.fields(
                    event="hr_delivery_failed", delivery_id=_unverified_id(request)
                ),
            )
            return unavailable("the gateway could not process the delivery; retry")

    async def _receive(self, request: web.Request) -> web.Response:
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            return self._reject(
                request,
                415,
                "Content-Encoding is not supported; send the body uncompressed",
            )
        too_large = f"the body exceeds {self.max_body_bytes} bytes"
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            return self._reject(request, 413, too_large)
        try:
            body = await self._read_body(request)
        except (aiohttp.ClientPayloadError, http_exceptions.HttpProcessingError):
            return self._reject(request, 400, "the request body could not be read")
        if body is None:
            return self._reject(request, 413, too_large)

        try:
            delivery_id = self.verifier.verify(request.headers, body)
        except SignatureError as exc:
            return self._reject(request, 401, exc.message)
        if len(delivery_id) > MAX_DELIVERY_ID_LENGTH or not delivery_id.isprintable():
            return self._reject(
                request,
                400,
                f"{ID_HEADER} is invalid; expected 1 to {MAX_DELIVERY_ID_LENGTH} "
                "printable characters",
            )
        try:
            event = parse_event(delivery_id, body)
        except PayloadError as exc:
            return self._answer(delivery_id, 400, {"error": exc.message}, exc.field)
        return await self._record(delivery_id, event)

    async def _read_body(self, request: web.Request) -> bytes | None:
        """Read the body, or return None once it exceeds the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.read(READ_CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)

    async def _record(
        self, delivery_id: str, event: availability_pb2.RecordHrEventRequest
    ) -> web.Response:
        try:
            response = await self.stub.RecordHrEvent(event, timeout=self.call_timeout_s)
        except grpc.aio.AioRpcError as exc:
            return self._call_failed(delivery_id, exc)
        outcome = OUTCOME_NAMES.get(response.outcome, "unspecified")
        body = {
            "delivery_id": delivery_id,
            "outcome": outcome,
            "reason": response.reason,
        }
        if response.outcome == availability_pb2.HR_EVENT_OUTCOME_REJECTED:
            body["error"] = response.reason
            return self._answer(delivery_id, 422, body, outcome, response.repeated)
        if response.outcome == availability_pb2.HR_EVENT_OUTCOME_UNSPECIFIED:
            raise RuntimeError("RecordHrEvent returned no outcome")
        return self._answer(delivery_id, 200, body, outcome, response.repeated)

    def _call_failed(self, delivery_id: str, exc: grpc.aio.AioRpcError) -> web.Response:
        code = exc.code()
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return self._answer(
                delivery_id, 400, {"error": exc.details() or "invalid"}, "invalid"
            )
        level = logging.WARNING
        if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
            # The availability service rejected the gateway's identity, so the
            # gateway's auth settings do not match the service's.
            level = logging.ERROR
        logger.log(
            level,
            "RecordHrEvent failed for HR delivery %s: %s %s",
            delivery_id,
            code.name,
            exc.details(),
            extra=logs.fields(
                event="hr_delivery_unavailable", delivery_id=delivery_id, code=code.name
            ),
        )
        return unavailable("the availability service is unavailable; retry later")

    def _answer(
        self,
        delivery_id: str,
        status: int,
        body: dict[str, Any],
        outcome: str,
        repeated: bool = False,
    ) -> web.Response:
        logger.info(
            "HR delivery %s: responded %d (%s)",
            delivery_id,
            status,
            outcome,
            extra=logs.fields(
                event="hr_delivery",
                delivery_id=delivery_id,
                status=status,
                outcome=outcome,
                repeated=repeated,
                reason=body.get("reason") or body.get("error"),
            ),
        )
        return web.json_response(body, status=status)

    def _reject(self, request: web.Request, status: int, message: str) -> web.Response:
        """Respond to a request that failed before its signature was verified."""
        suppressed = self.log_budget.take()
        if suppressed is not None:
            logger.warning(
                "rejected HR delivery with %d: %s",
                status,
                message,
                extra=logs.fields(
                    event="hr_delivery_rejected",
                    delivery_id=_unverified_id(request),
                    status=status,
                    suppressed=suppressed,
                ),
            )
        return error_response(status, message)


def _unverified_id(request: web.Request) -> str | None:
    value = request.headers.get(ID_HEADER)
    return value[:MAX_LOGGED_ID_LENGTH] if value else None


async def start_gateway(
    settings: HrGatewaySettings,
    channel: grpc.aio.Channel,
    *,
    host: str | None = None,
    port: int | None = None,
) -> web.AppRunner:
    """Serve the gateway on `host`:`port` (default: the settings'; port 0 picks one).

    It serves HTTPS when the settings name a certificate and key (AE_TLS_*), and
    then requires client certificates when they name a client CA. The body is
    read as sent, without decompression, because the signature covers the raw
    bytes. Stop it with `runner.cleanup()`.
    """
    gateway = HrGateway(settings, channel)
    runner = web.AppRunner(
        gateway.application(), auto_decompress=False, access_log=None
    )
    await runner.setup()
    tls = settings.common.tls
    site = web.TCPSite(
        runner,
        host if host is not None else settings.common.bind_host,
        port if port is not None else settings.port,
        ssl_context=tls.server_ssl_context() if tls is not None else None,
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
