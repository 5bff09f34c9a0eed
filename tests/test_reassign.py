"""ReassignAssignment: who may move an assignment, the checks, the audit and races."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import asyncpg
import grpc
import nats
import nats.errors
import pytest

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import assigner_pb2_grpc, common_pb2, events_pb2
from assignment_engine.assigner import app as assigner_app
from assignment_engine.core import subjects
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.devstack import invariants, seeding
from assignment_engine.devstack.testing import authorized_channel

from .conftest import assigner_settings, common_settings

WAIT_S = 10.0
CROSSING_ROUNDS = 20
RACE_ROUNDS = 10
REASSIGNED_SUBJECT = "assignment.reassigned"
UNKNOWN_ID = "6f1c1a0e-8b7e-4a59-9b4f-0a3c2d1e5f60"

Stub: TypeAlias = assigner_pb2_grpc.AssignerServiceStub


@dataclass
class RunningAssigner:
    """An in-process assigner and stubs that call it as chosen callers."""

    runtime: ServiceRuntime
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    stubs: dict[tuple[str, str], Stub] = field(default_factory=dict)

    def stub(self, subject: str = "root", role: str = "admin") -> Stub:
        """Return a stub whose calls carry a token for `subject` in `role`."""
        if (subject, role) not in self.stubs:
            channel = authorized_channel(
                f"127.0.0.1:{self.runtime.port}", subject, role
            )
            self.channels.append(channel)
            self.stubs[subject, role] = Stub(channel)
        return self.stubs[subject, role]

    @property
    def root(self) -> Stub:
        return self.stub()


@pytest.fixture
async def assigner(
    database_url: str, nats_url: str, subject_prefix: str
) -> AsyncIterator[RunningAssigner]:
    """The assigner without the queue service, so no drain runs during a test."""
    common = common_settings(database_url, nats_url, subject_prefix)
    running = RunningAssigner(await assigner_app.start(assigner_settings(common)))
    yield running
    for channel in running.channels:
        await channel.close()
    await running.runtime.close()


async def organisation(db: asyncpg.Connection) -> None:
    """Seed unit u1 with sup1, alice and bob, and unit u2 with sup2 and carol.

    Only alice has both skills of `request`'s default item, so new items go to
    her. bob takes database work.
    """
    await seeding.add_unit(db, "u1")
    await seeding.add_unit(db, "u2")
    await seeding.add_staff(db, "sup1", "u1", role="supervisor", wip_limit=0)
    await seeding.add_staff(db, "sup2", "u2", role="supervisor", wip_limit=0)
    await seeding.add_staff(db, "alice", "u1", skills=["network", "vpn"], wip_limit=3)
    await seeding.add_staff(db, "bob", "u1", skills=["database"], wip_limit=2)
    await seeding.add_staff(db, "carol", "u2", skills=["network"], wip_limit=3)


def request(
    external_id: str, skills: tuple[str, ...] = ("network", "vpn"), unit: str = "u1"
) -> pb.SubmitWorkItemRequest:
    return pb.SubmitWorkItemRequest(
        type="incident",
        external_id=external_id,
        required_skills=list(skills),
        target_unit_id=unit,
        priority=common_pb2.PRIORITY_MODERATE,
    )


def reassign(
    assignment_id: str,
    new_assignee_id: str,
    *,
    reason: str = "rebalancing the desk",
    allow_over_limit: bool = False,
) -> pb.ReassignAssignmentRequest:
    return pb.ReassignAssignmentRequest(
        assignment_id=assignment_id,
        new_assignee_id=new_assignee_id,
        reason=reason,
        allow_over_limit=allow_over_limit,
    )


async def load(db: asyncpg.Connection, staff_id: str) -> int:
    count: int = await db.fetchval(
        "SELECT active_count FROM staff_load WHERE staff_id = $1", staff_id
    )
    return count


async def assignee(db: asyncpg.Connection, assignment_id: str) -> str:
    staff_id: str = await db.fetchval(
        "SELECT assignee_id FROM assignments WHERE id = $1::uuid", assignment_id
    )
    return staff_id


async def reassignment_rows(db: asyncpg.Connection) -> list[dict[str, Any]]:
    """Return the 'reassigned' decisions, oldest first, with candidates decoded."""
    rows = await db.fetch(
        """
        SELECT assignment_id, actor, reason, candidates, jsonb_typeof(candidates) AS shape,
               previous_assignee_id, over_limit
        FROM assignment_decisions WHERE kind = 'reassigned' ORDER BY id
        """
    )
    return [{**row, "candidates": json.loads(row["candidates"])} for row in rows]


async def violated_invariants(db: asyncpg.Connection, *, skip: str = "") -> list[str]:
    """Return the descriptions of violated invariants, except those starting with `skip`."""
    results = await invariants.check_all(db)
    return [
        result.description
        for result in results
        if not result.holds and not (skip and result.description.startswith(skip))
    ]


async def stream_events(
    nats_url: str, prefix: str, name: str, count: int
) -> list[bytes]:
    """Return the payloads of the first `count` events on subject `name`, within WAIT_S."""
    client = await nats.connect(nats_url)
    try:
        subscription = await client.jetstream().pull_subscribe(
            subjects.subject(prefix, name), stream=subjects.stream_name(prefix)
        )
        payloads: list[bytes] = []
        deadline = time.monotonic() + WAIT_S
        while len(payloads) < count and time.monotonic() < deadline:
            try:
                batch = await subscription.fetch(count - len(payloads), timeout=0.5)
            except nats.errors.TimeoutError:
                continue
            for message in batch:
                payloads.append(message.data)
                await message.ack()
        return payloads
    finally:
        await client.close()


async def test_reassign__supervisor_within_unit(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    response = await assigner.stub("sup1", "supervisor").ReassignAssignment(
        reassign(submitted.assignment.id, "bob", reason="alice is on a course")
    )

    assert submitted.assignment.assignee_id == "alice"
    assert response.assignment.id == submitted.assignment.id
    assert response.assignment.assignee_id == "bob"
    assert response.previous_assignee_id == "alice"
    assert response.assignment.status == common_pb2.ASSIGNMENT_STATUS_ASSIGNED
    assert await load(db, "alice") == 0
    assert await load(db, "bob") == 1
    assert await db.fetchval(
        "SELECT last_assigned_at IS NOT NULL FROM staff_load WHERE staff_id = 'bob'"
    )
    assert await violated_invariants(db) == []


async def test_reassign__audit_records_both_scores(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    await assigner.stub("sup1", "supervisor").ReassignAssignment(
        reassign(submitted.assignment.id, "bob", reason="alice is on a course")
    )

    rows = await reassignment_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert str(row["assignment_id"]) == submitted.assignment.id
    assert row["actor"] == "sup1"
    assert row["reason"] == "alice is on a course"
    assert row["previous_assignee_id"] == "alice"
    assert row["over_limit"] is False
    assert row["shape"] == "array"
    candidates = row["candidates"]
    assert [c["staff_id"] for c in candidates] == ["bob", "alice"]
    assert [c["rank"] for c in candidates] == [1, 2]
    # bob: neither required skill, no active work, available, in the target unit.
    assert candidates[0]["total"] == pytest.approx(0 + 30 + 20 + 10)
    # alice, holding the item: both skills, 1 of 3 active, available, in the unit.
    assert candidates[1]["total"] == pytest.approx(40 + 20 + 20 + 10)
    assert await db.fetchval(
        "SELECT score FROM assignments WHERE id = $1::uuid", submitted.assignment.id
    ) == pytest.approx(60.0)


async def test_reassign__shown_by_explain(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await assigner.stub("sup1", "supervisor").ReassignAssignment(
        reassign(submitted.assignment.id, "bob", reason="alice is on a course")
    )

    explained = await assigner.root.ExplainAssignment(
        pb.ExplainAssignmentRequest(work_item_id=submitted.work_item.id)
    )

    kinds = [decision.kind for decision in explained.decisions]
    assert kinds == [pb.DECISION_KIND_ASSIGNED, pb.DECISION_KIND_REASSIGNED]
    last = explained.decisions[1]
    assert last.actor == "sup1"
    assert last.reason == "alice is on a course"
    assert last.assignment_id == submitted.assignment.id
    assert [c.staff_id for c in last.candidates] == ["bob", "alice"]


async def test_reassign__keeps_status_and_sla_deadline(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    started = await assigner.root.StartAssignment(
        pb.StartAssignmentRequest(assignment_id=submitted.assignment.id)
    )
    clock_before = dict(await db.fetchrow("SELECT * FROM sla_clocks"))

    response = await assigner.stub("sup1", "supervisor").ReassignAssignment(
        reassign(submitted.assignment.id, "bob")
    )

    moved = response.assignment
    assert moved.status == common_pb2.ASSIGNMENT_STATUS_IN_PROGRESS
    assert moved.sla_deadline == submitted.sla_deadline
    assert moved.assigned_at == submitted.assignment.assigned_at
    assert moved.started_at == started.assignment.started_at
    assert dict(await db.fetchrow("SELECT * FROM sla_clocks")) == clock_before


async def test_reassign__publishes_both_events(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    nats_url: str,
    subject_prefix: str,
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    await assigner.stub("sup1", "supervisor").ReassignAssignment(
        reassign(submitted.assignment.id, "bob")
    )

    reassigned = [
        events_pb2.AssignmentReassigned.FromString(payload)
        for payload in await stream_events(
            nats_url, subject_prefix, REASSIGNED_SUBJECT, 1
        )
    ]
    freed = [
        events_pb2.CapacityFreed.FromString(payload)
        for payload in await stream_events(
            nats_url, subject_prefix, subjects.CAPACITY_FREED, 1
        )
    ]
    assert len(reassigned) == 1
    assert reassigned[0].assignment_id == submitted.assignment.id
    assert reassigned[0].work_item_id == submitted.work_item.id
    assert reassigned[0].previous_assignee_id == "alice"
    assert reassigned[0].assignee_id == "bob"
    assert reassigned[0].actor_id == "sup1"
    assert reassigned[0].over_limit is False
    assert len(freed) == 1
    assert freed[0].staff_id == "alice"
    assert freed[0].unit_id == "u1"
    assert freed[0].reason == "assignment_reassigned"


@pytest.mark.parametrize(
    ("caller", "new_assignee"),
    [("sup2", "carol"), ("sup1", "carol"), ("sup2", "bob")],
    ids=["other_unit_supervisor", "new_assignee_in_other_unit", "both_outside"],
)
async def test_reassign__across_units_is_denied(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    caller: str,
    new_assignee: str,
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.stub(caller, "supervisor").ReassignAssignment(
            reassign(submitted.assignment.id, new_assignee)
        )

    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "outside their unit" in (raised.value.details() or "")
    assert await assignee(db, submitted.assignment.id) == "alice"
    assert await load(db, "alice") == 1
    assert await load(db, new_assignee) == 0
    assert await reassignment_rows(db) == []


async def test_reassign__admin_across_units(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    response = await assigner.root.ReassignAssignment(
        reassign(submitted.assignment.id, "carol")
    )

    assert response.assignment.assignee_id == "carol"
    assert await load(db, "alice") == 0
    assert await load(db, "carol") == 1
    assert (await reassignment_rows(db))[0]["actor"] == "root"


async def fill_bob(assigner: RunningAssigner, db: asyncpg.Connection) -> None:
    """Give bob his WIP limit of 2 in real database assignments."""
    for index in range(2):
        response = await assigner.root.SubmitWorkItem(
            request(f"DB{index}", skills=("database",))
        )
        assert response.assignment.assignee_id == "bob"
    assert await load(db, "bob") == 2


async def test_reassign__to_full_person_rejected(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await fill_bob(assigner, db)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.stub("sup1", "supervisor").ReassignAssignment(
            reassign(submitted.assignment.id, "bob")
        )

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "WIP limit (2 of 2 active)" in (raised.value.details() or "")
    assert await assignee(db, submitted.assignment.id) == "alice"
    assert await load(db, "alice") == 1
    assert await load(db, "bob") == 2
    assert await reassignment_rows(db) == []


@pytest.mark.parametrize("availability", ["unavailable", "on_leave"])
async def test_reassign__to_away_person_rejected(
    db: asyncpg.Connection, assigner: RunningAssigner, availability: str
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await db.execute(
        "UPDATE staff SET availability = $1 WHERE id = 'bob'", availability
    )

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.stub("sup1", "supervisor").ReassignAssignment(
            reassign(submitted.assignment.id, "bob")
        )

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"is {availability}" in (raised.value.details() or "")
    assert await load(db, "bob") == 0


async def test_reassign__supervisor_over_limit_denied(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await fill_bob(assigner, db)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.stub("sup1", "supervisor").ReassignAssignment(
            reassign(submitted.assignment.id, "bob", allow_over_limit=True)
        )

    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "allow_over_limit" in (raised.value.details() or "")
    assert await assignee(db, submitted.assignment.id) == "alice"
    assert await load(db, "bob") == 2
    assert await reassignment_rows(db) == []


async def test_reassign__admin_over_limit_audited(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    nats_url: str,
    subject_prefix: str,
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await fill_bob(assigner, db)

    response = await assigner.root.ReassignAssignment(
        reassign(submitted.assignment.id, "bob", allow_over_limit=True)
    )

    assert response.assignment.assignee_id == "bob"
    assert await load(db, "alice") == 0
    assert await load(db, "bob") == 3
    rows = await reassignment_rows(db)
    assert len(rows) == 1
    assert rows[0]["over_limit"] is True
    # bob is past his limit on purpose, and every other invariant is intact.
    assert await violated_invariants(db, skip="nobody is over") == []
    events = await stream_events(nats_url, subject_prefix, REASSIGNED_SUBJECT, 1)
    assert len(events) == 1
    assert events_pb2.AssignmentReassigned.FromString(events[0]).over_limit is True


async def test_reassign__unused_flag_not_over_limit(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    await assigner.root.ReassignAssignment(
        reassign(submitted.assignment.id, "bob", allow_over_limit=True)
    )

    assert (await reassignment_rows(db))[0]["over_limit"] is False


async def test_reassign__to_current_assignee_rejected(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.root.ReassignAssignment(
            reassign(submitted.assignment.id, "alice")
        )

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already assigned to alice" in (raised.value.details() or "")
    assert await load(db, "alice") == 1


async def test_reassign__completed_assignment_rejected(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))
    await assigner.root.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    )

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.root.ReassignAssignment(reassign(submitted.assignment.id, "bob"))

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is completed" in (raised.value.details() or "")
    assert await load(db, "bob") == 0


async def test_reassign__unknown_assignee_not_found(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    submitted = await assigner.root.SubmitWorkItem(request("INC1"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.root.ReassignAssignment(
            reassign(submitted.assignment.id, "nobody")
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nobody" in (raised.value.details() or "")
    assert await load(db, "alice") == 1


async def test_reassign__unknown_assignment_is_not_found(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.root.ReassignAssignment(reassign(UNKNOWN_ID, "bob"))

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert await load(db, "bob") == 0


def deadlock_retries(records: list[logging.LogRecord]) -> list[str]:
    return [
        record.getMessage()
        for record in records
        if getattr(record, "ae_fields", {}).get("event")
        in ("transaction_retry", "transaction_gave_up")
        and "Deadlock" in record.getMessage()
    ]


def error_codes(results: list[Any]) -> set[grpc.StatusCode]:
    return {
        result.code() for result in results if isinstance(result, grpc.aio.AioRpcError)
    }


async def test_reassign__crossing_pairs_never_deadlock(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await organisation(db)
    first = await assigner.root.SubmitWorkItem(request("INC1"))
    second = await assigner.root.SubmitWorkItem(request("DB1", skills=("database",)))
    assert first.assignment.assignee_id == "alice"
    assert second.assignment.assignee_id == "bob"
    supervisor = assigner.stub("sup1", "supervisor")
    ids = (first.assignment.id, second.assignment.id)
    caplog.set_level(logging.WARNING, logger="assignment_engine.core.db")

    results: list[Any] = []
    for _ in range(CROSSING_ROUNDS):
        # Each round sends both items to both people at once. The item with
        # alice moves to bob while the other moves to alice, and a call naming
        # the current assignee fails or moves the item back.
        results += await asyncio.wait_for(
            asyncio.gather(
                supervisor.ReassignAssignment(reassign(ids[0], "bob")),
                supervisor.ReassignAssignment(reassign(ids[1], "alice")),
                supervisor.ReassignAssignment(reassign(ids[0], "alice")),
                supervisor.ReassignAssignment(reassign(ids[1], "bob")),
                return_exceptions=True,
            ),
            WAIT_S,
        )

    moved = [
        result
        for result in results
        if isinstance(result, pb.ReassignAssignmentResponse)
    ]
    unexpected = [
        result
        for result in results
        if not isinstance(result, pb.ReassignAssignmentResponse)
        and not (
            isinstance(result, grpc.aio.AioRpcError)
            and result.code() == grpc.StatusCode.FAILED_PRECONDITION
        )
    ]
    assert unexpected == []
    assert len(moved) >= CROSSING_ROUNDS * 2
    assert deadlock_retries(caplog.records) == []
    assert len(await reassignment_rows(db)) == len(moved)
    assert await load(db, "alice") + await load(db, "bob") == 2
    assert await violated_invariants(db) == []


async def lock_waiters(db: asyncpg.Connection) -> dict[int, list[int]]:
    """Return the backends of this database waiting on a lock, with their blockers."""
    rows = await db.fetch(
        """
        SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
        """
    )
    return {row["pid"]: list(row["blockers"]) for row in rows}


async def wait_for_waiters(db: asyncpg.Connection, count: int) -> dict[int, list[int]]:
    """Return the lock waiters once there are `count` of them, within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        waiters = await lock_waiters(db)
        if len(waiters) >= count:
            return waiters
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} lock waiters after {WAIT_S} s")


async def awaited_load_row(db: asyncpg.Connection, pid: int) -> list[str]:
    """Return the staff ids whose staff_load row backend `pid` waits for.

    A transaction that must wait for a locked row takes PostgreSQL's tuple lock
    on it, or queues for that tuple lock behind an earlier waiter, so the tuple
    lock names the row it waits for.
    """
    rows = await db.fetch(
        """
        SELECT s.staff_id
        FROM pg_locks l
        JOIN staff_load s ON s.ctid = format('(%s,%s)', l.page, l.tuple)::tid
        WHERE l.pid = $1 AND l.locktype = 'tuple'
          AND l.relation = 'staff_load'::regclass
        """,
        pid,
    )
    return [row["staff_id"] for row in rows]


async def test_reassign__locks_loads_in_staff_id_order(
    db: asyncpg.Connection, assigner: RunningAssigner, database_url: str
) -> None:
    await organisation(db)
    first = await assigner.root.SubmitWorkItem(request("INC1"))
    second = await assigner.root.SubmitWorkItem(request("DB1", skills=("database",)))
    supervisor = assigner.stub("sup1", "supervisor")
    holder = await asyncpg.connect(database_url)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("SELECT 1 FROM staff_load WHERE staff_id = 'bob' FOR UPDATE")
    holder_pid = holder.get_server_pid()

    try:
        # alice to bob locks alice's row, then waits for bob's behind the holder.
        to_bob = asyncio.ensure_future(
            supervisor.ReassignAssignment(reassign(first.assignment.id, "bob"))
        )
        waiting = await wait_for_waiters(db, 1)
        # bob to alice must wait for alice's row first, so it waits behind the
        # first reassignment without locking bob's row, which the first needs.
        to_alice = asyncio.ensure_future(
            supervisor.ReassignAssignment(reassign(second.assignment.id, "alice"))
        )
        both_waiting = await wait_for_waiters(db, 2)
        (first_pid,) = waiting
        (second_pid,) = set(both_waiting) - {first_pid}
        first_waits_for = await awaited_load_row(db, first_pid)
        second_waits_for = await awaited_load_row(db, second_pid)
    finally:
        await transaction.rollback()
        await holder.close()
    results = await asyncio.wait_for(
        asyncio.gather(to_bob, to_alice, return_exceptions=True), WAIT_S
    )

    assert waiting[first_pid] == [holder_pid]
    assert first_waits_for == ["bob"]
    assert second_waits_for == ["alice"]
    assert [type(result) for result in results] == [pb.ReassignAssignmentResponse] * 2
    assert await violated_invariants(db) == []


async def test_reassign__races_end_consistent(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await organisation(db)
    await db.execute(
        "UPDATE staff SET wip_limit = 1, skills = '{network}' WHERE id = 'bob'"
    )
    supervisor = assigner.stub("sup1", "supervisor")
    alice = assigner.stub("alice", "staff")

    reassigned = 0
    for index in range(RACE_ROUNDS):
        item = await assigner.root.SubmitWorkItem(request(f"INC{index}"))
        assignment_id = item.assignment.id
        assert item.assignment.assignee_id == "alice"

        # The reassignment to bob races alice completing the item and a new
        # item whose decision wants bob's only slot.
        moved, completed, other = await asyncio.wait_for(
            asyncio.gather(
                supervisor.ReassignAssignment(reassign(assignment_id, "bob")),
                alice.CompleteAssignment(
                    pb.CompleteAssignmentRequest(assignment_id=assignment_id)
                ),
                assigner.root.SubmitWorkItem(
                    request(f"NET{index}", skills=("network",))
                ),
                return_exceptions=True,
            ),
            WAIT_S,
        )

        assert isinstance(other, pb.SubmitWorkItemResponse)
        assert other.outcome == pb.SUBMIT_OUTCOME_ASSIGNED
        outcomes = [
            isinstance(moved, pb.ReassignAssignmentResponse),
            isinstance(completed, pb.CompleteAssignmentResponse),
        ]
        # Exactly one wins: a completion first leaves nothing to reassign, and a
        # reassignment first leaves alice nothing of hers to complete.
        assert outcomes.count(True) == 1
        assert error_codes([moved, completed]) <= {
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.PERMISSION_DENIED,
        }
        if isinstance(moved, pb.ReassignAssignmentResponse):
            reassigned += 1
            assert isinstance(completed, grpc.aio.AioRpcError)
            assert completed.code() == grpc.StatusCode.PERMISSION_DENIED
            # bob's only slot went to the reassigned item.
            assert other.assignment.assignee_id != "bob"
        assert await violated_invariants(db) == []

        for open_id in await db.fetch(
            "SELECT id FROM assignments WHERE status = 'assigned'"
        ):
            await assigner.root.CompleteAssignment(
                pb.CompleteAssignmentRequest(assignment_id=str(open_id["id"]))
            )

    assert len(await reassignment_rows(db)) == reassigned
    assert await db.fetchval("SELECT count(*) FROM assignments") == RACE_ROUNDS * 2
    assert (
        await db.fetchval(
            "SELECT count(*) FROM assignment_decisions WHERE kind = 'assigned'"
        )
        == RACE_ROUNDS * 2
    )
    assert await db.fetchval("SELECT sum(active_count) FROM staff_load") == 0
    assert await violated_invariants(db) == []
