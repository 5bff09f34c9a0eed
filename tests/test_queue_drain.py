"""Completions and reassignments drain the queue through capacity.freed events over NATS."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2, queue_pb2
from assignment_engine.devstack import seeding

from .conftest import Engine

WAIT_S = 10.0


def request(
    external_id: str, priority: int, skills: list[str] | None = None
) -> pb.SubmitWorkItemRequest:
    return pb.SubmitWorkItemRequest(
        type="incident",
        external_id=external_id,
        required_skills=skills if skills is not None else ["network"],
        priority=priority,  # type: ignore[arg-type]
    )


async def wait_for_assignment(db: asyncpg.Connection, external_id: str) -> str:
    """Return the assignee of the item once it is assigned, within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assignee = await db.fetchval(
            """
            SELECT a.assignee_id FROM assignments a JOIN work_items w ON w.id = a.work_item_id
            WHERE w.external_id = $1 AND a.status IN ('assigned', 'in_progress')
            """,
            external_id,
        )
        if assignee is not None:
            return str(assignee)
        await asyncio.sleep(0.02)
    raise AssertionError(f"{external_id} was not assigned within {WAIT_S} s")


async def test_drain__assigns_in_priority_then_age_order(
    db: asyncpg.Connection, engine: Engine
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "solo", "u1", skills=["network"], wip_limit=1)
    stub = engine.assigner
    first = await stub.SubmitWorkItem(request("busy", common_pb2.PRIORITY_LOW))
    for external_id, priority in [
        ("p3-old", common_pb2.PRIORITY_MODERATE),
        ("p1", common_pb2.PRIORITY_CRITICAL),
        ("p3-new", common_pb2.PRIORITY_MODERATE),
        ("p2", common_pb2.PRIORITY_HIGH),
    ]:
        queued = await stub.SubmitWorkItem(request(external_id, priority))
        assert queued.outcome == pb.SUBMIT_OUTCOME_QUEUED

    order = []
    current = first.assignment.id
    for expected in ("p1", "p2", "p3-old", "p3-new"):
        await stub.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=current)
        )
        await wait_for_assignment(db, expected)
        order.append(expected)
        current = str(
            await db.fetchval(
                "SELECT a.id FROM assignments a JOIN work_items w ON w.id = a.work_item_id "
                "WHERE w.external_id = $1",
                expected,
            )
        )

    assert order == ["p1", "p2", "p3-old", "p3-new"]
    assert await db.fetchval("SELECT count(*) FROM queue_entries") == 0


async def test_drain__item_nobody_can_take_does_not_block_the_rest(
    db: asyncpg.Connection, engine: Engine
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "solo", "u1", skills=["network"], wip_limit=1)
    stub = engine.assigner
    first = await stub.SubmitWorkItem(request("busy", common_pb2.PRIORITY_LOW))
    await stub.SubmitWorkItem(
        request("hard", common_pb2.PRIORITY_CRITICAL, ["mainframe"])
    )
    await stub.SubmitWorkItem(request("easy", common_pb2.PRIORITY_LOW))

    await stub.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=first.assignment.id)
    )

    assert await wait_for_assignment(db, "easy") == "solo"
    assert (
        await db.fetchval("SELECT state FROM work_items WHERE external_id = 'hard'")
        == "queued"
    )


async def test_drain__reassignment_frees_capacity(
    db: asyncpg.Connection, engine: Engine
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "solo", "u1", skills=["network"], wip_limit=1)
    await seeding.add_staff(db, "helper", "u1", skills=["database"], wip_limit=1)
    stub = engine.assigner
    first = await stub.SubmitWorkItem(request("busy", common_pb2.PRIORITY_LOW))
    waiting = await stub.SubmitWorkItem(request("waiting", common_pb2.PRIORITY_HIGH))
    assert waiting.outcome == pb.SUBMIT_OUTCOME_QUEUED

    await stub.ReassignAssignment(
        pb.ReassignAssignmentRequest(
            assignment_id=first.assignment.id,
            new_assignee_id="helper",
            reason="solo takes the urgent item",
        )
    )

    assert await wait_for_assignment(db, "waiting") == "solo"
    assert await wait_for_assignment(db, "busy") == "helper"
    assert await db.fetchval("SELECT count(*) FROM queue_entries") == 0


async def test_queue_listing__shows_order_and_positions(
    db: asyncpg.Connection, engine: Engine
) -> None:
    await seeding.add_unit(db, "u1")
    stub = engine.assigner
    ids = {}
    for external_id, priority in [
        ("low", common_pb2.PRIORITY_LOW),
        ("crit", common_pb2.PRIORITY_CRITICAL),
        ("mod", common_pb2.PRIORITY_MODERATE),
    ]:
        ids[external_id] = (
            await stub.SubmitWorkItem(request(external_id, priority))
        ).work_item.id

    pages = []
    token = ""
    for _ in range(5):
        page = await engine.queue.ListQueue(
            queue_pb2.ListQueueRequest(page_size=2, page_token=token)
        )
        pages.append([(e.work_item.external_id, e.position) for e in page.entries])
        token = page.next_page_token
        if not token:
            break
    position = await engine.queue.GetQueuePosition(
        queue_pb2.GetQueuePositionRequest(work_item_id=ids["mod"])
    )

    assert pages == [[("crit", 1), ("mod", 2)], [("low", 3)]]
    assert position.entry.position == 2
    assert position.total == 3


async def test_sweep__drains_without_any_event(
    database_url: str, nats_url: str, subject_prefix: str, db: asyncpg.Connection
) -> None:
    from assignment_engine.assigner import app as assigner_app
    from assignment_engine.queue import app as queue_app

    from .conftest import assigner_settings, common_settings, queue_settings

    common = common_settings(database_url, nats_url, subject_prefix)
    assigner = await assigner_app.start(assigner_settings(common))
    queue = await queue_app.start(
        queue_settings(common, assigner.port, sweep_interval_s=0.2)
    )
    try:
        await seeding.add_unit(db, "u1")
        await seeding.add_staff(db, "solo", "u1", skills=["network"], wip_limit=0)
        channel_engine = Engine(common, {"assigner": assigner})
        queued = await channel_engine.assigner.SubmitWorkItem(
            request("waiting", common_pb2.PRIORITY_HIGH)
        )
        assert queued.outcome == pb.SUBMIT_OUTCOME_QUEUED

        # A direct change publishes no capacity.freed event; only the sweep can see it.
        await db.execute("UPDATE staff SET wip_limit = 1 WHERE id = 'solo'")

        assert await wait_for_assignment(db, "waiting") == "solo"
        for channel in channel_engine.channels:
            await channel.close()
    finally:
        await queue.close()
        await assigner.close()
