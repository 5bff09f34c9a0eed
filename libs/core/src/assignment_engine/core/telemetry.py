"""OpenTelemetry tracing for every hop: gRPC server and client, PostgreSQL, NATS.

Every database transaction is a span (db.py). AE_TRACE_STATEMENTS=true adds a span
for each statement through the asyncpg instrumentation, for finding a slow query.
It is off by default, because that span costs more CPU than most statements.

The exporter follows the standard variables: OTEL_TRACES_EXPORTER (`otlp`,
`console` or `none`, comma-separated), OTEL_EXPORTER_OTLP_PROTOCOL (`grpc` or
`http/protobuf`), OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER and
OTEL_SERVICE_NAME. The specification's default exporter is `otlp`; here it is used
only when OTEL_TRACES_EXPORTER or an OTLP endpoint is set, so a developer machine
without a collector does not log export failures. Spans are still created (and
trace ids logged) with no exporter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.grpc import (
    aio_client_interceptors,
    aio_server_interceptor,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from assignment_engine.core.config import ConfigError, env_bool

logger = logging.getLogger(__name__)

_provider: TracerProvider | None = None


def _exporters() -> list[SpanExporter]:
    names = os.environ.get("OTEL_TRACES_EXPORTER", "")
    if not names:
        has_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        )
        names = "otlp" if has_endpoint else "none"
    exporters: list[SpanExporter] = []
    for name in (part.strip() for part in names.split(",")):
        if name == "none" or not name:
            continue
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            variable = (
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
                if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                else "OTEL_EXPORTER_OTLP_PROTOCOL"
            )
            protocol = os.environ.get(variable) or "grpc"
            if protocol not in ("grpc", "http/protobuf"):
                raise ConfigError(
                    f"{variable}={protocol!r} is invalid; expected grpc or http/protobuf"
                )
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter,
                )
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
                    OTLPSpanExporter,
                )
            exporters.append(OTLPSpanExporter())
        else:
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER={names!r} names {name!r}; expected otlp, console or none"
            )
    return exporters


def setup_tracing(
    service_name: str,
    *,
    extra_processors: list[SpanProcessor] | None = None,
    statement_spans: bool | None = None,
) -> TracerProvider:
    """Install the process's tracer provider once.

    `statement_spans` (default: AE_TRACE_STATEMENTS) also instruments asyncpg,
    giving each statement a span.
    """
    global _provider
    if _provider is not None:
        for processor in extra_processors or []:
            _provider.add_span_processor(processor)
        return _provider
    attributes = (
        {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    )
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in extra_processors or []:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    if statement_spans is None:
        statement_spans = env_bool("AE_TRACE_STATEMENTS", False)
    if statement_spans:
        AsyncPGInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush(timeout_millis=2000)


def server_interceptor() -> Any:
    return aio_server_interceptor()


def client_interceptors() -> list[Any]:
    return list(aio_client_interceptors())


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def inject_context(
    headers: MutableMapping[str, str], ctx: Context | None = None
) -> None:
    """Write the W3C trace context of `ctx` (default: the current one) into `headers`."""
    propagate.inject(headers, context=ctx)


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """Read the W3C trace context from message headers (a fresh root when absent)."""
    return propagate.extract(dict(headers or {}))


def attach(ctx: Context) -> object:
    return context.attach(ctx)


def detach(token: object) -> None:
    context.detach(token)  # type: ignore[arg-type]
