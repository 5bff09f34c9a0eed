"""One trace follows a completion through NATS to the next queued item's assignment.

Each database transaction is one span, and statements have none unless
AE_TRACE_STATEMENTS is on.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2
from assignment_engine.core import telemetry
from assignment_engine.core.db import create_pool, run_in_transaction
from assignment_engine.devstack import seeding

from .conftest import Engine

EXPORTER = InMemorySpanExporter()
telemetry.setup_tracing("tests", extra_processors=[SimpleSpanProcessor(EXPORTER)])


def spans_named(prefix: str) -> list[ReadableSpan]:
    return [
        span for span in EXPORTER.get_finished_spans() if span.name.startswith(prefix)
    ]


async def test_trace__completion_reaches_next_assignment_through_nats(
    db: asyncpg.Connection, engine: Engine
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "solo", "u1", skills=["network"], wip_limit=1)
    stub = engine.assigner
    first = await stub.SubmitWorkItem(
        pb.SubmitWorkItemRequest(
            type="t",
            external_id="a",
            required_skills=["network"],
            priority=common_pb2.PRIORITY_HIGH,
        )
    )
    await stub.SubmitWorkItem(
        pb.SubmitWorkItemRequest(
            type="t",
            external_id="b",
            required_skills=["network"],
            priority=common_pb2.PRIORITY_HIGH,
        )
    )
    EXPORTER.clear()

    await stub.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=first.assignment.id)
    )
    deadline = time.monotonic() + 10
    while (
        not spans_named("/assignment.v1.AssignerService/OfferQueuedItems")
        and time.monotonic() < deadline
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)

    complete = [
        s
        for s in spans_named("/assignment.v1.AssignerService/CompleteAssignment")
        if s.kind == SpanKind.SERVER
    ]
    assert len(complete) == 1
    trace_id = complete[0].context.trace_id
    publish = [s for s in spans_named("publish ") if s.name.endswith("capacity.freed")]
    consume = [s for s in spans_named("process ") if s.name.endswith("capacity.freed")]
    offer = [
        s
        for s in spans_named("/assignment.v1.AssignerService/OfferQueuedItems")
        if s.kind == SpanKind.SERVER
    ]
    database = [
        s
        for s in EXPORTER.get_finished_spans()
        if s.attributes and s.attributes.get("db.system") == "postgresql"
    ]
    assert [s.context.trace_id for s in publish] == [trace_id]
    assert [s.context.trace_id for s in consume] == [trace_id]
    assert [s.context.trace_id for s in offer] == [trace_id]
    assert any(s.context.trace_id == trace_id for s in database)
    transactions = [
        s
        for s in spans_named("transaction complete assignment")
        if s.context.trace_id == trace_id
    ]
    assert len(transactions) == 1
    assert transactions[0].attributes["db.system"] == "postgresql"
    assert transactions[0].attributes["ae.transaction.attempts"] == 1
    assert not [s for s in database if s.attributes and "db.statement" in s.attributes]
    assert (
        await db.fetchval("SELECT state FROM work_items WHERE external_id = 'b'")
        == "assigned"
    )


async def test_transaction_span__counts_retried_attempts(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    attempts = 0

    async def work(conn: asyncpg.Connection) -> int:
        nonlocal attempts
        attempts += 1
        value: int = await conn.fetchval("SELECT 41 + $1::int", attempts)
        if attempts == 1:
            raise asyncpg.SerializationError("could not serialize access")
        return value

    try:
        EXPORTER.clear()
        assert await run_in_transaction(pool, work, action="count twice") == 43
    finally:
        await pool.close()
    [span] = spans_named("transaction count twice")
    assert span.kind == SpanKind.CLIENT
    assert span.attributes["ae.transaction.attempts"] == 2
    assert span.status.is_ok


async def test_transaction_span__marks_a_database_error(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)

    async def work(conn: asyncpg.Connection) -> int:
        value: int = await conn.fetchval("SELECT 1 / 0")
        return value

    try:
        EXPORTER.clear()
        with pytest.raises(asyncpg.DivisionByZeroError):
            await run_in_transaction(pool, work, action="divide by zero")
    finally:
        await pool.close()
    [span] = spans_named("transaction divide by zero")
    assert not span.status.is_ok
    assert span.status.description == "DivisionByZeroError"
    assert [event.name for event in span.events] == ["exception"]


async def test_rpc_span__marks_a_rejected_call(engine: Engine) -> None:
    EXPORTER.clear()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await engine.assigner.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=str(uuid.uuid4()))
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    [span] = spans_named("/assignment.v1.AssignerService/CompleteAssignment")
    assert span.kind == SpanKind.SERVER
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    # Semantic conventions leave a server span unset on a client error.
    assert span.status.status_code == StatusCode.UNSET
    # The status is sent without raising, so no traceback is formatted.
    assert [event.name for event in span.events] == []
