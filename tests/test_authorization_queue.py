"""Queue RPCs against the permission matrix: every role reads, admins and services drain.

One item waits in the queue: it needs the skill "network", and the only person
with that skill, nick, has a WIP limit of 0 until a test raises it. Raising it
with SQL publishes no capacity.freed event, so only a DrainQueue call assigns it.
"""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import assigner_pb2, common_pb2, queue_pb2, queue_pb2_grpc
from assignment_engine.devstack import seeding
from assignment_engine.devstack.testing import ROOT_ADMIN_ID, authorized_channel

from .conftest import Engine

# Callers by role: (subject, role).
CALLERS = {
    "staff": ("nick", "staff"),
    "supervisor": ("sara", "supervisor"),
    "admin": (ROOT_ADMIN_ID, "admin"),
    "service": ("availability", "service"),
}
EVERY_ROLE = list(CALLERS)


def queue_stub(
    engine: Engine, subject: str, role: str
) -> queue_pb2_grpc.QueueServiceStub:
    """A queue stub that calls as `subject` in `role`. The engine closes its channel."""
    channel = authorized_channel(
        f"127.0.0.1:{engine.runtimes['queue'].port}", subject, role
    )
    engine.channels.append(channel)
    return queue_pb2_grpc.QueueServiceStub(channel)


@pytest.fixture
async def queued_item(db: asyncpg.Connection, engine: Engine) -> str:
    """Seed unit "desk" with nick and sara, and queue one item. Return the item id."""
    await seeding.add_unit(db, "desk")
    await seeding.add_staff(db, "nick", "desk", skills=["network"], wip_limit=0)
    await seeding.add_staff(db, "sara", "desk", role="supervisor")
    await seeding.set_supervisor(db, "desk", "sara")
    response = await engine.assigner.SubmitWorkItem(
        assigner_pb2.SubmitWorkItemRequest(
            type="incident",
            external_id="waiting",
            required_skills=["network"],
            priority=common_pb2.PRIORITY_HIGH,
        )
    )
    assert response.outcome == assigner_pb2.SUBMIT_OUTCOME_QUEUED
    return response.work_item.id


async def queued_count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM queue_entries"))


@pytest.mark.parametrize("caller", EVERY_ROLE)
async def test_queue_listing_allowed_to_every_role(
    engine: Engine, queued_item: str, caller: str
) -> None:
    stub = queue_stub(engine, *CALLERS[caller])

    response = await stub.ListQueue(queue_pb2.ListQueueRequest())

    assert [entry.work_item.id for entry in response.entries] == [queued_item]
    assert response.total == 1


@pytest.mark.parametrize("caller", EVERY_ROLE)
async def test_queue_position_allowed_to_every_role(
    engine: Engine, queued_item: str, caller: str
) -> None:
    stub = queue_stub(engine, *CALLERS[caller])

    response = await stub.GetQueuePosition(
        queue_pb2.GetQueuePositionRequest(work_item_id=queued_item)
    )

    assert response.entry.position == 1
    assert response.total == 1


@pytest.mark.parametrize("caller", ["admin", "service"])
async def test_drain_allowed_to_admin_and_service(
    db: asyncpg.Connection, engine: Engine, queued_item: str, caller: str
) -> None:
    await db.execute("UPDATE staff SET wip_limit = 1 WHERE id = 'nick'")
    stub = queue_stub(engine, *CALLERS[caller])

    response = await stub.DrainQueue(queue_pb2.DrainQueueRequest())

    assert response.offered == 1
    assert response.assigned == 1
    assert await queued_count(db) == 0


@pytest.mark.parametrize("caller", ["staff", "supervisor"])
async def test_drain_denied_to_staff_and_supervisor(
    db: asyncpg.Connection, engine: Engine, queued_item: str, caller: str
) -> None:
    await db.execute("UPDATE staff SET wip_limit = 1 WHERE id = 'nick'")
    stub = queue_stub(engine, *CALLERS[caller])

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DrainQueue(queue_pb2.DrainQueueRequest())

    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await queued_count(db) == 1


@pytest.mark.parametrize(
    ("method", "request_message"),
    [
        pytest.param("ListQueue", queue_pb2.ListQueueRequest(), id="list"),
        pytest.param("DrainQueue", queue_pb2.DrainQueueRequest(), id="drain"),
    ],
)
@pytest.mark.parametrize(
    ("subject", "role"),
    [
        pytest.param("nick", "admin", id="staff-claims-admin"),
        pytest.param("ghost", "staff", id="no-staff-record"),
    ],
)
async def test_queue_call_with_contradicting_token_denied(
    engine: Engine,
    queued_item: str,
    subject: str,
    role: str,
    method: str,
    request_message: object,
) -> None:
    stub = queue_stub(engine, subject, role)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(stub, method)(request_message)

    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_queue_position_validates_before_authorizing(
    engine: Engine, queued_item: str
) -> None:
    stub = queue_stub(engine, "ghost", "staff")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetQueuePosition(
            queue_pb2.GetQueuePositionRequest(work_item_id="not-a-uuid")
        )

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
