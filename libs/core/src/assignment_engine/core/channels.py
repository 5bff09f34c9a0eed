"""gRPC client channels between services: traced, authenticated, with limits."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from assignment_engine.core import telemetry
from assignment_engine.core.auth import BearerInterceptor
from assignment_engine.core.tls import TlsSettings


def open_channel(
    target: str,
    *,
    max_message_bytes: int,
    token: Callable[[], str] | None = None,
    tls: TlsSettings | None = None,
) -> grpc.aio.Channel:
    """Open a traced channel to `target` (host:port), over TLS when `tls` is given.

    With `token`, every call carries `authorization: Bearer <token()>`.
    """
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1),
    ]
    interceptors = telemetry.client_interceptors()
    if token is not None:
        interceptors.append(BearerInterceptor(token))
    if tls is not None:
        return grpc.aio.secure_channel(
            target,
            tls.channel_credentials(),
            options=options,
            interceptors=interceptors,
        )
    return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
