"""NATS JetStream: the connection, the engine's stream and durable consumers.

Consumers acknowledge explicitly. A handler that raises a retryable `EngineError`
(or loses the database) gets its message redelivered after a delay; any other error
terminates the message, logged with its id, so one poison message cannot block the
stream. Handlers must tolerate redelivery: JetStream delivers at least once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    StorageType,
    StreamConfig,
)
from opentelemetry import trace

from assignment_engine.core import logs, subjects, telemetry
from assignment_engine.core.db import CONNECTION_ERRORS
from assignment_engine.core.errors import EngineError

logger = logging.getLogger(__name__)
tracer = telemetry.tracer(__name__)

CONNECT_ATTEMPTS = 30
ACK_WAIT_S = 30.0
MAX_DELIVER = 20
REDELIVERY_DELAY_S = 1.0
FETCH_TIMEOUT_S = 1.0

Handler = Callable[[Msg], Awaitable[None]]


async def connect(url: str, name: str) -> Client:
    """Connect to NATS, retrying the first connection for about 15 seconds."""

    async def disconnected() -> None:
        logger.warning(
            "disconnected from NATS", extra=logs.fields(event="nats_disconnected")
        )

    async def reconnected() -> None:
        logger.info("reconnected to NATS", extra=logs.fields(event="nats_reconnected"))

    async def error(exc: Exception) -> None:
        logger.debug(
            "NATS client error: %s", exc, extra=logs.fields(event="nats_error")
        )

    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            return await nats.connect(
                servers=[url],
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
        except (TimeoutError, nats.errors.NoServersError, OSError) as exc:
            if attempt == CONNECT_ATTEMPTS:
                raise
            logger.warning(
                "cannot reach NATS at %s (%s); retrying",
                url,
                exc,
                extra=logs.fields(event="nats_connect_retry", attempt=attempt),
            )
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def ensure_stream(js: JetStreamContext, prefix: str) -> str:
    """Create the stream for every subject under `prefix`, if missing; return its name."""
    name = subjects.stream_name(prefix)
    config = StreamConfig(
        name=name,
        subjects=[f"{prefix}.>"],
        storage=StorageType.FILE,
        duplicate_window=subjects.STREAM_DUPLICATE_WINDOW_S,
        max_age=7 * 24 * 3600.0,
    )
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError:
        # Exists with other settings (for example an older max_age): bring it in line.
        await js.update_stream(config)
    return name


async def consume(
    js: JetStreamContext,
    prefix: str,
    consumer: str,
    subject_names: list[str],
    handler: Handler,
    *,
    batch: int = 32,
) -> None:
    """Pull messages for a durable consumer and pass each to `handler`, forever."""
    durable = subjects.consumer_name(prefix, consumer)
    filters = [subjects.subject(prefix, name) for name in subject_names]
    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_S,
        max_deliver=MAX_DELIVER,
        # NATS 2.9 ignores filter_subjects (2.10 added it), so one subject goes in
        # filter_subject, which every JetStream server honours.
        filter_subject=filters[0] if len(filters) == 1 else None,
        filter_subjects=filters if len(filters) > 1 else None,
    )
    stream = subjects.stream_name(prefix)
    await js.add_consumer(stream, config)
    subscription = await js.pull_subscribe_bind(durable, stream=stream)
    logger.info(
        "consuming %s as %s",
        ", ".join(subject_names),
        durable,
        extra=logs.fields(event="consumer_started", consumer=durable),
    )
    while True:
        try:
            messages = await subscription.fetch(batch, timeout=FETCH_TIMEOUT_S)
        except nats.errors.TimeoutError:
            continue
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            logger.warning(
                "fetch for %s failed (%s); retrying",
                durable,
                type(exc).__name__,
                extra=logs.fields(event="consumer_fetch_failed", consumer=durable),
            )
            await asyncio.sleep(REDELIVERY_DELAY_S)
            continue
        for message in messages:
            await _handle(durable, message, handler)


async def _handle(durable: str, message: Msg, handler: Handler) -> None:
    headers = message.headers or {}
    event_id = headers.get(subjects.MSG_ID_HEADER, "")
    with tracer.start_as_current_span(
        f"process {message.subject}",
        context=telemetry.extract_context(headers),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "nats",
            "messaging.destination.name": message.subject,
            "messaging.consumer.group.name": durable,
            "messaging.message.id": event_id,
        },
    ):
        try:
            await handler(message)
        except (EngineError, *CONNECTION_ERRORS) as exc:
            retryable = getattr(exc, "retryable", True)
            log = logger.warning if retryable else logger.error
            log(
                "handling %s failed: %s",
                message.subject,
                exc,
                extra=logs.fields(
                    event="event_handling_failed",
                    consumer=durable,
                    event_id=event_id,
                    retryable=retryable,
                ),
            )
            if retryable:
                await message.nak(delay=REDELIVERY_DELAY_S)
            else:
                await message.term()
            return
        except Exception:
            logger.exception(
                "handling %s failed unexpectedly; message terminated",
                message.subject,
                extra=logs.fields(
                    event="event_handling_crashed", consumer=durable, event_id=event_id
                ),
            )
            await message.term()
            return
        await message.ack()
