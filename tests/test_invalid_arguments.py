"""Every assigner and queue RPC rejects a missing or malformed field by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2, queue_pb2

from .conftest import Engine

VALID_UUID = "6f1c1a0e-8b7e-4a59-9b4f-0a3c2d1e5f60"


def submit(**overrides: Any) -> pb.SubmitWorkItemRequest:
    fields: dict[str, Any] = {
        "type": "incident",
        "external_id": "INC1",
        "required_skills": ["network"],
        "priority": common_pb2.PRIORITY_HIGH,
    }
    fields.update(overrides)
    return pb.SubmitWorkItemRequest(**fields)


def reassign(**overrides: Any) -> pb.ReassignAssignmentRequest:
    fields: dict[str, Any] = {
        "assignment_id": VALID_UUID,
        "new_assignee_id": "p1",
        "reason": "rebalancing",
    }
    fields.update(overrides)
    return pb.ReassignAssignmentRequest(**fields)


def far_future() -> pb.SubmitWorkItemRequest:
    request = submit()
    request.received_at.FromSeconds(4_000_000_000)
    return request


def bad_nanos() -> pb.SubmitWorkItemRequest:
    request = submit()
    request.received_at.seconds = 1_700_000_000
    request.received_at.nanos = -5
    return request


ASSIGNER_CASES: list[tuple[str, str, Callable[[], Any], str]] = [
    ("SubmitWorkItem", "missing type", lambda: submit(type=""), "type"),
    ("SubmitWorkItem", "type with a space", lambda: submit(type="bad type"), "type"),
    (
        "SubmitWorkItem",
        "missing external id",
        lambda: submit(external_id=""),
        "external_id",
    ),
    (
        "SubmitWorkItem",
        "external id too long",
        lambda: submit(external_id="x" * 129),
        "external_id",
    ),
    (
        "SubmitWorkItem",
        "external id with newline",
        lambda: submit(external_id="a\nb"),
        "external_id",
    ),
    ("SubmitWorkItem", "title too long", lambda: submit(title="t" * 501), "title"),
    (
        "SubmitWorkItem",
        "bad skill name",
        lambda: submit(required_skills=["ok", "no way"]),
        "required_skills[1]",
    ),
    (
        "SubmitWorkItem",
        "duplicate skill",
        lambda: submit(required_skills=["a", "a"]),
        "required_skills",
    ),
    (
        "SubmitWorkItem",
        "too many skills",
        lambda: submit(required_skills=[f"s{i}" for i in range(33)]),
        "required_skills",
    ),
    (
        "SubmitWorkItem",
        "bad unit id",
        lambda: submit(target_unit_id="../etc"),
        "target_unit_id",
    ),
    ("SubmitWorkItem", "missing priority", lambda: submit(priority=0), "priority"),
    ("SubmitWorkItem", "unknown priority", lambda: submit(priority=9), "priority"),
    ("SubmitWorkItem", "received far in the future", far_future, "received_at"),
    ("SubmitWorkItem", "negative nanos", bad_nanos, "received_at"),
    ("GetWorkItem", "nothing given", lambda: pb.GetWorkItemRequest(), "work_item_id"),
    (
        "GetWorkItem",
        "malformed id",
        lambda: pb.GetWorkItemRequest(work_item_id="42"),
        "work_item_id",
    ),
    (
        "GetWorkItem",
        "type without external id",
        lambda: pb.GetWorkItemRequest(type="incident"),
        "external_id",
    ),
    (
        "GetWorkItem",
        "both id and type",
        lambda: pb.GetWorkItemRequest(work_item_id=VALID_UUID, type="incident"),
        "work_item_id",
    ),
    ("GetAssignment", "missing id", lambda: pb.GetAssignmentRequest(), "assignment_id"),
    (
        "GetAssignment",
        "malformed id",
        lambda: pb.GetAssignmentRequest(assignment_id="nope"),
        "assignment_id",
    ),
    (
        "ListAssignments",
        "bad assignee",
        lambda: pb.ListAssignmentsRequest(assignee_id="a b"),
        "assignee_id",
    ),
    (
        "ListAssignments",
        "bad unit",
        lambda: pb.ListAssignmentsRequest(unit_id="-x"),
        "unit_id",
    ),
    (
        "ListAssignments",
        "unknown status",
        lambda: pb.ListAssignmentsRequest(statuses=[77]),
        "statuses[0]",
    ),
    (
        "ListAssignments",
        "page size too big",
        lambda: pb.ListAssignmentsRequest(page_size=5000),
        "page_size",
    ),
    (
        "ListAssignments",
        "negative page size",
        lambda: pb.ListAssignmentsRequest(page_size=-1),
        "page_size",
    ),
    (
        "ListAssignments",
        "forged page token",
        lambda: pb.ListAssignmentsRequest(page_token="garbage!!"),
        "page_token",
    ),
    (
        "StartAssignment",
        "missing id",
        lambda: pb.StartAssignmentRequest(),
        "assignment_id",
    ),
    (
        "CompleteAssignment",
        "malformed id",
        lambda: pb.CompleteAssignmentRequest(assignment_id="1"),
        "assignment_id",
    ),
    (
        "CancelWorkItem",
        "missing id",
        lambda: pb.CancelWorkItemRequest(),
        "work_item_id",
    ),
    (
        "CancelWorkItem",
        "reason too long",
        lambda: pb.CancelWorkItemRequest(work_item_id=VALID_UUID, reason="r" * 501),
        "reason",
    ),
    (
        "ExplainAssignment",
        "malformed id",
        lambda: pb.ExplainAssignmentRequest(work_item_id="x"),
        "work_item_id",
    ),
    (
        "ReassignAssignment",
        "missing assignment id",
        lambda: reassign(assignment_id=""),
        "assignment_id",
    ),
    (
        "ReassignAssignment",
        "malformed assignment id",
        lambda: reassign(assignment_id="42"),
        "assignment_id",
    ),
    (
        "ReassignAssignment",
        "missing new assignee",
        lambda: reassign(new_assignee_id=""),
        "new_assignee_id",
    ),
    (
        "ReassignAssignment",
        "new assignee with a space",
        lambda: reassign(new_assignee_id="a b"),
        "new_assignee_id",
    ),
    (
        "ReassignAssignment",
        "missing reason",
        lambda: reassign(reason=""),
        "reason",
    ),
    (
        "ReassignAssignment",
        "reason of only spaces",
        lambda: reassign(reason="   "),
        "reason",
    ),
    (
        "ReassignAssignment",
        "reason too long",
        lambda: reassign(reason="r" * 501),
        "reason",
    ),
    (
        "ReassignAssignment",
        "reason with newline",
        lambda: reassign(reason="first\nsecond"),
        "reason",
    ),
    (
        "OfferQueuedItems",
        "malformed id",
        lambda: pb.OfferQueuedItemsRequest(work_item_ids=[VALID_UUID, "x"]),
        "work_item_ids[1]",
    ),
    (
        "OfferQueuedItems",
        "too many ids",
        lambda: pb.OfferQueuedItemsRequest(work_item_ids=[VALID_UUID] * 501),
        "work_item_ids",
    ),
]

QUEUE_CASES: list[tuple[str, str, Callable[[], Any], str]] = [
    (
        "ListQueue",
        "bad unit",
        lambda: queue_pb2.ListQueueRequest(unit_id="a/b"),
        "unit_id",
    ),
    (
        "ListQueue",
        "page size too big",
        lambda: queue_pb2.ListQueueRequest(page_size=1001),
        "page_size",
    ),
    (
        "ListQueue",
        "forged page token",
        lambda: queue_pb2.ListQueueRequest(page_token="WyJ4Il0"),
        "page_token",
    ),
    (
        "GetQueuePosition",
        "missing id",
        lambda: queue_pb2.GetQueuePositionRequest(),
        "work_item_id",
    ),
    (
        "GetQueuePosition",
        "malformed id",
        lambda: queue_pb2.GetQueuePositionRequest(work_item_id="7"),
        "work_item_id",
    ),
]


@pytest.mark.parametrize(
    ("method", "case", "build", "field"),
    ASSIGNER_CASES,
    ids=[f"{m}:{c}" for m, c, _, _ in ASSIGNER_CASES],
)
async def test_assigner__rejects_bad_field(
    engine: Engine,
    db: asyncpg.Connection,
    method: str,
    case: str,
    build: Callable[[], Any],
    field: str,
) -> None:
    call = getattr(engine.assigner, method)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(build())

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (raised.value.details() or "").startswith(f"{field}=")
    assert await db.fetchval("SELECT count(*) FROM work_items") == 0


@pytest.mark.parametrize(
    ("method", "case", "build", "field"),
    QUEUE_CASES,
    ids=[f"{m}:{c}" for m, c, _, _ in QUEUE_CASES],
)
async def test_queue__rejects_bad_field(
    engine: Engine, method: str, case: str, build: Callable[[], Any], field: str
) -> None:
    call = getattr(engine.queue, method)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(build())

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (raised.value.details() or "").startswith(f"{field}=")


async def test_assigner__unknown_ids_are_not_found(engine: Engine) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await engine.assigner.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=VALID_UUID)
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_assigner__unknown_target_unit_is_not_found(
    engine: Engine, db: asyncpg.Connection
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await engine.assigner.SubmitWorkItem(submit(target_unit_id="nowhere"))

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert await db.fetchval("SELECT count(*) FROM work_items") == 0
