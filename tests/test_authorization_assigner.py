"""Assigner RPCs against the permission matrix, and tokens the assigner rejects.

Unit ua has the supervisor supa and the staff members sa and sa2; unit ub has
supb and sb. Item A (target ua) is assigned to sa, item B (target ub) to sb, and
item Q (target ua) waits in the queue because nobody has its skill. Each test
acts as one caller and checks both what it may do and that a denial changes
nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import asyncpg
import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import assigner_pb2_grpc, common_pb2
from assignment_engine.assigner import app as assigner_app
from assignment_engine.core.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack import seeding
from assignment_engine.devstack.testing import (
    ROOT_ADMIN_ID,
    TEST_JWT_SECRET,
    authorized_channel,
)

from .conftest import assigner_settings, common_settings

Stub: TypeAlias = assigner_pb2_grpc.AssignerServiceStub

# Callers by role: (subject, role).
CALLERS = {
    "staff": ("sa", "staff"),
    "supervisor": ("supa", "supervisor"),
    "admin": (ROOT_ADMIN_ID, "admin"),
    "service": ("queue", "service"),
}
# The assigner's rows of the permission matrix, written out so that a change of
# the matrix in permissions.py fails here until the assigner is checked again.
EXPECTED_SCOPES = {
    "submit": {"staff": "no", "supervisor": "all", "admin": "all", "service": "all"},
    "read": {"staff": "own", "supervisor": "unit", "admin": "all", "service": "all"},
    "work_on": {"staff": "own", "supervisor": "unit", "admin": "all", "service": "no"},
    "cancel": {"staff": "no", "supervisor": "unit", "admin": "all", "service": "all"},
    "reassign": {"staff": "no", "supervisor": "unit", "admin": "all", "service": "no"},
    "offer": {"staff": "no", "supervisor": "no", "admin": "no", "service": "all"},
}


def cells(action: str) -> list[tuple[str, str]]:
    return list(EXPECTED_SCOPES[action].items())


@dataclass
class World:
    """The running assigner, the seeded organisation and the three items."""

    runtime: ServiceRuntime
    db: asyncpg.Connection
    item_a: pb.SubmitWorkItemResponse = field(init=False)
    item_b: pb.SubmitWorkItemResponse = field(init=False)
    item_q: pb.SubmitWorkItemResponse = field(init=False)
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.runtime.port}"

    def stub(self, subject: str, role: str) -> Stub:
        """Return a stub whose calls carry a token for `subject` in `role`."""
        channel = authorized_channel(self.target, subject, role)
        self.channels.append(channel)
        return Stub(channel)

    def caller(self, role: str) -> Stub:
        return self.stub(*CALLERS[role])

    def plain_stub(self) -> Stub:
        """Return a stub whose calls carry no token unless given metadata."""
        channel = grpc.aio.insecure_channel(self.target)
        self.channels.append(channel)
        return Stub(channel)

    async def status(self, item: pb.SubmitWorkItemResponse) -> str:
        value: str = await self.db.fetchval(
            "SELECT status FROM assignments WHERE id = $1::uuid", item.assignment.id
        )
        return value

    async def assignee(self, item: pb.SubmitWorkItemResponse) -> str:
        value: str = await self.db.fetchval(
            "SELECT assignee_id FROM assignments WHERE id = $1::uuid",
            item.assignment.id,
        )
        return value

    async def item_state(self, item: pb.SubmitWorkItemResponse) -> str:
        value: str = await self.db.fetchval(
            "SELECT state FROM work_items WHERE id = $1::uuid", item.work_item.id
        )
        return value


def submit_request(
    external_id: str, unit: str, skill: str = "network"
) -> pb.SubmitWorkItemRequest:
    return pb.SubmitWorkItemRequest(
        type="incident",
        external_id=external_id,
        required_skills=[skill],
        target_unit_id=unit,
        priority=common_pb2.PRIORITY_MODERATE,
    )


@pytest.fixture
async def world(
    db: asyncpg.Connection, database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[World]:
    await seeding.add_unit(db, "ua")
    await seeding.add_unit(db, "ub")
    await seeding.add_staff(db, "supa", "ua", role="supervisor", wip_limit=0)
    await seeding.add_staff(db, "supb", "ub", role="supervisor", wip_limit=0)
    await seeding.add_staff(db, "sa", "ua", skills=["network"], wip_limit=5)
    await seeding.add_staff(db, "sa2", "ua", skills=["database"], wip_limit=5)
    await seeding.add_staff(db, "sb", "ub", skills=["network"], wip_limit=5)
    common = common_settings(database_url, nats_url, subject_prefix)
    running = World(await assigner_app.start(assigner_settings(common)), db)
    root = running.caller("admin")
    running.item_a = await root.SubmitWorkItem(submit_request("A", "ua"))
    running.item_b = await root.SubmitWorkItem(submit_request("B", "ub"))
    running.item_q = await root.SubmitWorkItem(submit_request("Q", "ua", "mainframe"))
    assert running.item_a.assignment.assignee_id == "sa"
    assert running.item_b.assignment.assignee_id == "sb"
    assert running.item_q.outcome == pb.SUBMIT_OUTCOME_QUEUED
    yield running
    for channel in running.channels:
        await channel.close()
    await running.runtime.close()


async def rejected(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """Await a call that must fail and return its error."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value


async def denied(call: Awaitable[Any]) -> str:
    """Await a call that must fail with PERMISSION_DENIED and return its details."""
    error = await rejected(call)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    return error.details() or ""


def read_calls(
    stub: Stub, item: pb.SubmitWorkItemResponse
) -> list[Callable[[], Awaitable[str]]]:
    """Every read RPC of the assigner on one item; each returns the item id it read."""

    async def work_item_by_id() -> str:
        request = pb.GetWorkItemRequest(work_item_id=item.work_item.id)
        return (await stub.GetWorkItem(request)).work_item.id

    async def work_item_by_external_id() -> str:
        request = pb.GetWorkItemRequest(
            type="incident", external_id=item.work_item.external_id
        )
        return (await stub.GetWorkItem(request)).work_item.id

    async def explanation() -> str:
        request = pb.ExplainAssignmentRequest(work_item_id=item.work_item.id)
        return (await stub.ExplainAssignment(request)).work_item.id

    async def assignment() -> str:
        request = pb.GetAssignmentRequest(assignment_id=item.assignment.id)
        return (await stub.GetAssignment(request)).assignment.work_item.id

    calls: list[Callable[[], Awaitable[str]]] = [
        work_item_by_id,
        work_item_by_external_id,
        explanation,
    ]
    if item.assignment.id:
        calls.append(assignment)
    return calls


# Matrix cells -------------------------------------------------------------------


@pytest.mark.parametrize(("role", "scope"), cells("submit"))
async def test_submit_work__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)
    before = await world.db.fetchval("SELECT count(*) FROM work_items")

    if scope == "no":
        details = await denied(stub.SubmitWorkItem(submit_request("NEW", "ua")))
        assert "may not submit work items" in details
        assert await world.db.fetchval("SELECT count(*) FROM work_items") == before
    else:
        response = await stub.SubmitWorkItem(submit_request("NEW", "ub"))
        assert response.created
        assert await world.db.fetchval("SELECT count(*) FROM work_items") == before + 1


@pytest.mark.parametrize(("role", "scope"), cells("read"))
async def test_read_work__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)
    readable = {
        "own": [world.item_a],
        "unit": [world.item_a, world.item_q],
        "all": [world.item_a, world.item_b, world.item_q],
    }[scope]
    unreadable = {
        "own": [world.item_b, world.item_q],
        "unit": [world.item_b],
        "all": [],
    }[scope]

    read = [await call() for item in readable for call in read_calls(stub, item)]
    denials = [
        await denied(call()) for item in unreadable for call in read_calls(stub, item)
    ]

    expected = [item.work_item.id for item in readable for _ in read_calls(stub, item)]
    assert read == expected
    for details in denials:
        assert "may not read work items" in details


async def test_read_work__colleague_denied(world: World) -> None:
    colleague = world.stub("sa2", "staff")

    details = await denied(
        colleague.GetAssignment(
            pb.GetAssignmentRequest(assignment_id=world.item_a.assignment.id)
        )
    )

    assert "other than their own" in details


async def test_read_work__other_unit_supervisor_denied(world: World) -> None:
    other = world.stub("supb", "supervisor")

    details = await denied(
        other.ExplainAssignment(
            pb.ExplainAssignmentRequest(work_item_id=world.item_a.work_item.id)
        )
    )

    assert "outside their unit" in details


async def test_read_work__follows_reassignment(
    world: World,
) -> None:
    await world.caller("admin").ReassignAssignment(
        pb.ReassignAssignmentRequest(
            assignment_id=world.item_a.assignment.id,
            new_assignee_id="sb",
            reason="covering for sa",
        )
    )
    request = pb.GetAssignmentRequest(assignment_id=world.item_a.assignment.id)

    details = await denied(world.caller("staff").GetAssignment(request))
    reassigned_to = await world.stub("sb", "staff").GetAssignment(request)

    assert "other than their own" in details
    assert reassigned_to.assignment.assignee_id == "sb"


@pytest.mark.parametrize(("role", "scope"), cells("work_on"))
async def test_work_on__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)
    a_id = world.item_a.assignment.id
    b_id = world.item_b.assignment.id

    if scope == "no":
        start = await denied(
            stub.StartAssignment(pb.StartAssignmentRequest(assignment_id=a_id))
        )
        complete = await denied(
            stub.CompleteAssignment(pb.CompleteAssignmentRequest(assignment_id=a_id))
        )
        assert "may not start and complete assignments" in start
        assert "may not start and complete assignments" in complete
        assert await world.status(world.item_a) == "assigned"
        return

    # "own" and "unit" callers work on item A (sa's, in ua) and are denied item
    # B (sb's, in ub). An "all" caller works on item B.
    allowed_id = b_id if scope == "all" else a_id
    started = await stub.StartAssignment(
        pb.StartAssignmentRequest(assignment_id=allowed_id)
    )
    completed = await stub.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=allowed_id)
    )

    assert started.assignment.status == common_pb2.ASSIGNMENT_STATUS_IN_PROGRESS
    assert completed.assignment.status == common_pb2.ASSIGNMENT_STATUS_COMPLETED
    if scope != "all":
        await denied(
            stub.StartAssignment(pb.StartAssignmentRequest(assignment_id=b_id))
        )
        await denied(
            stub.CompleteAssignment(pb.CompleteAssignmentRequest(assignment_id=b_id))
        )
        assert await world.status(world.item_b) == "assigned"


async def test_work_on__colleague_start_denied(
    world: World,
) -> None:
    colleague = world.stub("sa2", "staff")

    details = await denied(
        colleague.StartAssignment(
            pb.StartAssignmentRequest(assignment_id=world.item_a.assignment.id)
        )
    )

    assert "other than their own" in details
    assert await world.status(world.item_a) == "assigned"


async def test_work_on__other_unit_supervisor_denied(
    world: World,
) -> None:
    other = world.stub("supb", "supervisor")

    details = await denied(
        other.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=world.item_a.assignment.id)
        )
    )

    assert "outside their unit" in details
    assert await world.status(world.item_a) == "assigned"
    assert (
        await world.db.fetchval(
            "SELECT active_count FROM staff_load WHERE staff_id = 'sa'"
        )
        == 1
    )


@pytest.mark.parametrize(("role", "scope"), cells("cancel"))
async def test_cancel_work__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)

    if scope == "no":
        details = await denied(
            stub.CancelWorkItem(
                pb.CancelWorkItemRequest(work_item_id=world.item_a.work_item.id)
            )
        )
        assert "may not cancel work items" in details
        assert await world.item_state(world.item_a) == "assigned"
        return

    if scope == "unit":
        await denied(
            stub.CancelWorkItem(
                pb.CancelWorkItemRequest(work_item_id=world.item_b.work_item.id)
            )
        )
        assert await world.item_state(world.item_b) == "assigned"
    allowed = [world.item_a, world.item_q]
    if scope == "all":
        allowed.append(world.item_b)
    for item in allowed:
        response = await stub.CancelWorkItem(
            pb.CancelWorkItemRequest(work_item_id=item.work_item.id, reason="duplicate")
        )
        assert response.work_item.state == common_pb2.WORK_ITEM_STATE_CANCELLED


@pytest.mark.parametrize(("role", "scope"), cells("reassign"))
async def test_reassign__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)

    if scope == "no":
        details = await denied(
            stub.ReassignAssignment(
                pb.ReassignAssignmentRequest(
                    assignment_id=world.item_a.assignment.id,
                    new_assignee_id="sa2",
                    reason="rebalancing",
                )
            )
        )
        assert "may not reassign assignments" in details
        assert await world.assignee(world.item_a) == "sa"
        return

    if scope == "unit":
        # The assignment outside the unit, then the new assignee outside it.
        for item, new_assignee in ((world.item_b, "sa2"), (world.item_a, "sb")):
            await denied(
                stub.ReassignAssignment(
                    pb.ReassignAssignmentRequest(
                        assignment_id=item.assignment.id,
                        new_assignee_id=new_assignee,
                        reason="rebalancing",
                    )
                )
            )
        assert await world.assignee(world.item_a) == "sa"
        assert await world.assignee(world.item_b) == "sb"
    item = world.item_b if scope == "all" else world.item_a
    response = await stub.ReassignAssignment(
        pb.ReassignAssignmentRequest(
            assignment_id=item.assignment.id,
            new_assignee_id="sa2",
            reason="rebalancing",
        )
    )
    assert response.assignment.assignee_id == "sa2"


@pytest.mark.parametrize("role", ["staff", "supervisor", "service"])
async def test_reassign__over_limit_only_for_admins(world: World, role: str) -> None:
    stub = world.caller(role)

    details = await denied(
        stub.ReassignAssignment(
            pb.ReassignAssignmentRequest(
                assignment_id=world.item_a.assignment.id,
                new_assignee_id="sa2",
                reason="rebalancing",
                allow_over_limit=True,
            )
        )
    )

    assert "allow_over_limit" in details
    assert await world.assignee(world.item_a) == "sa"


@pytest.mark.parametrize(("role", "scope"), cells("offer"))
async def test_offer_queued__by_role(world: World, role: str, scope: str) -> None:
    stub = world.caller(role)
    request = pb.OfferQueuedItemsRequest(work_item_ids=[world.item_q.work_item.id])

    if scope == "no":
        details = await denied(stub.OfferQueuedItems(request))
        assert "may not offer queued items" in details
    else:
        response = await stub.OfferQueuedItems(request)
        assert [r.outcome for r in response.results] == [pb.OFFER_OUTCOME_STILL_QUEUED]
    assert await world.item_state(world.item_q) == "queued"


# Listing ------------------------------------------------------------------------


async def listed(stub: Stub, **filters: Any) -> list[str]:
    response = await stub.ListAssignments(pb.ListAssignmentsRequest(**filters))
    return sorted(a.work_item.external_id for a in response.assignments)


async def test_list__staff_sees_only_their_own(world: World) -> None:
    staff = world.caller("staff")

    default = await listed(staff)
    named = await listed(staff, assignee_id="sa")
    other = await denied(
        staff.ListAssignments(pb.ListAssignmentsRequest(assignee_id="sb"))
    )

    assert default == ["A"]
    assert named == ["A"]
    assert "other than their own" in other


async def test_list__supervisor_sees_only_their_unit(world: World) -> None:
    supervisor = world.caller("supervisor")

    default = await listed(supervisor)
    own_unit = await listed(supervisor, unit_id="ua")
    unit_member = await listed(supervisor, assignee_id="sa")
    other_unit = await denied(
        supervisor.ListAssignments(pb.ListAssignmentsRequest(unit_id="ub"))
    )
    outsider = await denied(
        supervisor.ListAssignments(pb.ListAssignmentsRequest(assignee_id="sb"))
    )

    assert default == ["A"]
    assert own_unit == ["A"]
    assert unit_member == ["A"]
    assert "outside their unit" in other_unit
    assert "outside their unit" in outsider


@pytest.mark.parametrize("role", ["admin", "service"])
async def test_list__all_scope_sees_every_unit(world: World, role: str) -> None:
    stub = world.caller(role)

    everything = await listed(stub)
    one_unit = await listed(stub, unit_id="ub")

    assert everything == ["A", "B"]
    assert one_unit == ["B"]


# Identity -----------------------------------------------------------------------


async def test_identity__role_mismatch_denied(
    world: World,
) -> None:
    pretender = world.stub("sa", "supervisor")

    details = await denied(
        pretender.StartAssignment(
            pb.StartAssignmentRequest(assignment_id=world.item_a.assignment.id)
        )
    )

    assert "staff record says staff" in details
    assert await world.status(world.item_a) == "assigned"


async def test_identity__unknown_subject_denied(world: World) -> None:
    ghost = world.stub("ghost", "admin")

    details = await denied(ghost.SubmitWorkItem(submit_request("GHOST", "ua")))

    assert "has no staff record" in details


def forged_token(secret: bytes = TEST_JWT_SECRET, **overrides: Any) -> str:
    """Sign a token for root as admin, with `overrides` replacing claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": ROOT_ADMIN_ID,
        "role": "admin",
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def test_token__missing_is_unauthenticated(world: World) -> None:
    stub = world.plain_stub()

    error = await rejected(stub.SubmitWorkItem(submit_request("NEW", "ua")))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing authorization" in (error.details() or "")


async def test_token__expired_is_unauthenticated(world: World) -> None:
    stub = world.plain_stub()
    an_hour_ago = int(time.time()) - 3600
    token = forged_token(iat=an_hour_ago - 600, nbf=an_hour_ago - 600, exp=an_hour_ago)

    error = await rejected(
        stub.GetAssignment(
            pb.GetAssignmentRequest(assignment_id=world.item_a.assignment.id),
            metadata=bearer(token),
        )
    )

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in (error.details() or "")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: forged_token(aud="another-service"), "audience"),
        (lambda: forged_token(iss="someone-else"), "issuer"),
        (lambda: forged_token(secret=b"x" * 48), "signature"),
        (lambda: "not-a-jwt", "malformed"),
    ],
    ids=["wrong_audience", "wrong_issuer", "wrong_signature", "malformed"],
)
async def test_token__invalid_is_unauthenticated(
    world: World, token: Callable[[], str], message: str
) -> None:
    stub = world.plain_stub()

    error = await rejected(
        stub.CancelWorkItem(
            pb.CancelWorkItemRequest(work_item_id=world.item_a.work_item.id),
            metadata=bearer(token()),
        )
    )

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert message in (error.details() or "")
    assert await world.item_state(world.item_a) == "assigned"


async def test_health__open_without_token(world: World) -> None:
    channel = grpc.aio.insecure_channel(world.target)
    world.channels.append(channel)

    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="assignment.v1.AssignerService")
    )

    assert response.status == health_pb2.HealthCheckResponse.SERVING
