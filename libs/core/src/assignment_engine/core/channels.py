"""gRPC client channels between services, traced, with limits and keepalive."""

from __future__ import annotations

import grpc

from assignment_engine.core import telemetry


def open_channel(target: str, *, max_message_bytes: int) -> grpc.aio.Channel:
    """Open a traced insecure channel to `target` (host:port)."""
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1),
    ]
    return grpc.aio.insecure_channel(
        target, options=options, interceptors=telemetry.client_interceptors()
    )
