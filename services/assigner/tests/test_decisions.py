"""Assignment decisions against a real database, including concurrent ones."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid

import asyncpg
import grpc
import nats
import nats.errors
import pytest

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2
from assignment_engine.assigner.scoring import Candidate, Weights, rank
from assignment_engine.assigner.store import queries as store_queries
from assignment_engine.core import subjects
from assignment_engine.devstack import invariants, seeding

from .conftest import RunningAssigner


def submit_request(
    external_id: str,
    skills: list[str] | None = None,
    unit: str = "",
    priority: int = common_pb2.PRIORITY_MODERATE,
) -> pb.SubmitWorkItemRequest:
    return pb.SubmitWorkItemRequest(
        type="incident",
        external_id=external_id,
        required_skills=skills if skills is not None else ["network"],
        target_unit_id=unit,
        priority=priority,  # type: ignore[arg-type]
    )


async def assert_invariants(db: asyncpg.Connection) -> None:
    for result in await invariants.check_all(db):
        if result.description.startswith("every breach"):
            continue
        assert result.violations == [], result.description


async def test_submit__assigns_to_best_candidate(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_unit(db, "u2")
    await seeding.add_staff(db, "near", "u1", skills=["network"], wip_limit=3)
    await seeding.add_staff(db, "far", "u2", skills=["network"], wip_limit=3)

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1", unit="u1"))

    assert response.outcome == pb.SUBMIT_OUTCOME_ASSIGNED
    assert response.assignment.assignee_id == "near"
    assert response.assignment.score == 100.0
    assert response.created


async def test_submit__queues_when_everyone_is_at_limit(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(
        db, "full", "u1", skills=["network"], wip_limit=1, active_count=1
    )

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert response.outcome == pb.SUBMIT_OUTCOME_QUEUED
    assert await db.fetchval("SELECT count(*) FROM queue_entries") == 1
    assert await db.fetchval("SELECT state FROM work_items") == "queued"


async def test_submit__queues_when_nobody_has_the_skill(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["database"], wip_limit=3)

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1", ["network"]))

    assert response.outcome == pb.SUBMIT_OUTCOME_QUEUED


@pytest.mark.parametrize("availability", ["unavailable", "on_leave"])
async def test_submit__skips_people_who_are_away(
    db: asyncpg.Connection, assigner: RunningAssigner, availability: str
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(
        db, "away", "u1", skills=["network"], availability=availability
    )

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert response.outcome == pb.SUBMIT_OUTCOME_QUEUED


async def test_submit__prefers_available_over_busy(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "a-busy", "u1", skills=["network"], availability="busy")
    await seeding.add_staff(db, "b-free", "u1", skills=["network"])

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert response.assignment.assignee_id == "b-free"


async def test_submit__busy_person_is_still_eligible(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "busy", "u1", skills=["network"], availability="busy")

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert response.assignment.assignee_id == "busy"


async def test_submit__wip_limit_zero_is_never_assigned(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "zero", "u1", skills=["network"], wip_limit=0)

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert response.outcome == pb.SUBMIT_OUTCOME_QUEUED


async def test_submit__item_without_skills_goes_to_anyone(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=[])

    response = await assigner.stub.SubmitWorkItem(submit_request("INC1", []))

    assert response.assignment.assignee_id == "p1"
    assert response.assignment.score == 90.0


async def test_submit__equals_take_turns(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    for name in ("p1", "p2", "p3"):
        await seeding.add_staff(db, name, "u1", skills=["network"], wip_limit=10)

    assignees = []
    for index in range(6):
        response = await assigner.stub.SubmitWorkItem(submit_request(f"INC{index}"))
        assignees.append(response.assignment.assignee_id)
        await assigner.stub.CompleteAssignment(
            pb.CompleteAssignmentRequest(assignment_id=response.assignment.id)
        )

    assert assignees == ["p1", "p2", "p3", "p1", "p2", "p3"]


async def test_submit__repeat_returns_existing_assignment(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"])
    first = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    again = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    assert not again.created
    assert again.assignment.id == first.assignment.id
    assert await db.fetchval("SELECT count(*) FROM assignments") == 1
    assert await db.fetchval("SELECT count(*) FROM assignment_decisions") == 1


async def test_explain__lists_winner_and_runners_up(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "best", "u1", skills=["network", "vpn"])
    await seeding.add_staff(db, "second", "u1", skills=["network"])
    submitted = await assigner.stub.SubmitWorkItem(
        submit_request("INC1", ["network", "vpn"], unit="u1")
    )

    explained = await assigner.stub.ExplainAssignment(
        pb.ExplainAssignmentRequest(work_item_id=submitted.work_item.id)
    )

    candidates = explained.decisions[0].candidates
    assert [c.staff_id for c in candidates] == ["best", "second"]
    assert [c.rank for c in candidates] == [1, 2]
    assert candidates[1].skills == 20.0
    assert explained.decisions[0].kind == pb.DECISION_KIND_ASSIGNED


# Required sets of every size the ranking statement counts differently: none,
# one, two (one of two held is decided by array operators) and more.
RANKING_CASES = [
    (required, minimum)
    for required in (
        [],
        ["s1"],
        ["s1", "s2"],
        ["s1", "s2", "s3"],
        ["s0", "s2", "s4", "s5"],
    )
    for minimum in (0, 1, 2)
]


@pytest.mark.parametrize(("required", "minimum"), RANKING_CASES)
async def test_ranking_sql__agrees_with_python_scoring(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    required: list[str],
    minimum: int,
) -> None:
    generator = random.Random(7)
    skills = [f"s{i}" for i in range(6)]
    for unit in ("u1", "u2"):
        await seeding.add_unit(db, unit)
    for index in range(60):
        wip = generator.choice([0, 1, 2, 3, 5])
        await seeding.add_staff(
            db,
            f"p{index:02d}",
            generator.choice(["u1", "u2"]),
            skills=generator.sample(skills, generator.randint(0, 4)),
            wip_limit=wip,
            availability=generator.choice(
                ["available", "busy", "unavailable", "on_leave"]
            ),
            active_count=generator.randint(0, max(wip, 0)),
        )
    weights = Weights()

    rows = await db.fetch(
        store_queries.rank_and_lock,
        required,
        "u1",
        minimum,
        weights.skills,
        weights.capacity,
        weights.availability,
        weights.unit,
        100,
    )
    people = await db.fetch(
        "SELECT s.id, s.unit_id, s.availability, s.wip_limit, s.skills, l.active_count, l.last_assigned_at FROM staff s JOIN staff_load l ON l.staff_id = s.id"
    )
    candidates = [
        Candidate(
            p["id"],
            p["unit_id"],
            p["availability"],
            p["wip_limit"],
            p["active_count"],
            p["last_assigned_at"],
            len(set(p["skills"]) & set(required)),
        )
        for p in people
    ]
    expected = rank(candidates, len(required), "u1", weights, minimum)

    assert expected
    assert [row["id"] for row in rows] == [c.staff_id for c, _ in expected]
    assert [row["matched_skills"] for row in rows] == [
        c.matched_skills for c, _ in expected
    ]
    assert [row["score"] for row in rows] == [b.total for _, b in expected]


async def test_takeable_sql__agrees_with_ranking(
    db: asyncpg.Connection,
) -> None:
    generator = random.Random(11)
    skills = [f"s{i}" for i in range(6)]
    await seeding.add_unit(db, "u1")
    for index in range(30):
        wip = generator.choice([0, 1, 2, 3])
        await seeding.add_staff(
            db,
            f"p{index:02d}",
            "u1",
            skills=generator.sample(skills, generator.randint(0, 3)),
            wip_limit=wip,
            availability=generator.choice(["available", "busy", "unavailable"]),
            active_count=generator.randint(0, max(wip, 0)),
        )
    items: dict[uuid.UUID, list[str]] = {}
    for index in range(40):
        required = generator.sample(skills, generator.randint(0, 4))
        item_id = uuid.uuid4()
        await db.execute(
            "INSERT INTO work_items (id, type, external_id, required_skills, priority, received_at, state) "
            "VALUES ($1, 't', $2, $3, 3, now(), 'queued')",
            item_id,
            f"q{index}",
            required,
        )
        await db.execute(
            "INSERT INTO queue_entries (work_item_id, priority, required_skills) VALUES ($1, 3, $2)",
            item_id,
            required,
        )
        items[item_id] = required
    unknown = uuid.uuid4()
    weights = Weights()

    # A limit of 0 makes every item look up its skill holders, 1000 checks the
    # items against the people with room.
    for minimum, room_limit in itertools.product((0, 1, 2, 3), (0, 1000)):
        rows = await db.fetch(
            store_queries.takeable_items, [*items, unknown], minimum, room_limit
        )
        takeable = {row["id"]: row["takeable"] for row in rows}
        assert {row["id"]: row["queued"] for row in rows} == {
            **{item_id: True for item_id in items},
            unknown: False,
        }
        assert takeable[unknown] is False
        for item_id, required in items.items():
            ranked = await db.fetch(
                store_queries.rank_and_lock,
                required,
                None,
                minimum,
                weights.skills,
                weights.capacity,
                weights.availability,
                weights.unit,
                100,
            )
            assert takeable[item_id] == bool(ranked), (minimum, room_limit, required)
    assert any(takeable.values())
    assert not all(takeable.values())


async def test_concurrent__two_items_to_one_person_under_limit_both_assigned(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "only", "u1", skills=["network"], wip_limit=2)

    responses = await asyncio.gather(
        *(assigner.stub.SubmitWorkItem(submit_request(f"INC{i}")) for i in range(2))
    )

    assert [r.outcome for r in responses] == [pb.SUBMIT_OUTCOME_ASSIGNED] * 2
    assert (
        await db.fetchval("SELECT active_count FROM staff_load WHERE staff_id = 'only'")
        == 2
    )


async def test_concurrent__two_items_for_last_slot_one_assigned_one_queued(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "only", "u1", skills=["network"], wip_limit=3)
    for index in range(2):
        await assigner.stub.SubmitWorkItem(submit_request(f"PRE{index}"))

    responses = await asyncio.gather(
        *(assigner.stub.SubmitWorkItem(submit_request(f"INC{i}")) for i in range(2))
    )

    outcomes = sorted(r.outcome for r in responses)
    assert outcomes == [pb.SUBMIT_OUTCOME_ASSIGNED, pb.SUBMIT_OUTCOME_QUEUED]
    assert (
        await db.fetchval("SELECT active_count FROM staff_load WHERE staff_id = 'only'")
        == 3
    )
    await assert_invariants(db)


async def test_concurrent__same_item_twice_makes_one_assignment(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"], wip_limit=5)
    await seeding.add_staff(db, "p2", "u1", skills=["network"], wip_limit=5)

    responses = await asyncio.gather(
        *(assigner.stub.SubmitWorkItem(submit_request("INC1")) for _ in range(2))
    )

    assert sorted(r.created for r in responses) == [False, True]
    assert responses[0].assignment.id == responses[1].assignment.id
    assert await db.fetchval("SELECT count(*) FROM assignments") == 1
    assert await db.fetchval("SELECT sum(active_count) FROM staff_load") == 1


async def test_concurrent__200_submissions_for_50_people_keep_limits_and_counters(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    for index in range(50):
        await seeding.add_staff(
            db, f"p{index:02d}", "u1", skills=["network"], wip_limit=3
        )

    responses = await asyncio.gather(
        *(
            assigner.stub.SubmitWorkItem(submit_request(f"INC{i:03d}"))
            for i in range(200)
        )
    )

    assigned = sum(1 for r in responses if r.outcome == pb.SUBMIT_OUTCOME_ASSIGNED)
    assert assigned == 150
    assert await db.fetchval("SELECT max(active_count) FROM staff_load") == 3
    assert await db.fetchval("SELECT count(*) FROM queue_entries") == 50
    await assert_invariants(db)


async def test_complete__frees_capacity_and_writes_event(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"])
    submitted = await assigner.stub.SubmitWorkItem(submit_request("INC1"))
    await assigner.stub.StartAssignment(
        pb.StartAssignmentRequest(assignment_id=submitted.assignment.id)
    )

    done = await assigner.stub.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    )

    assert done.assignment.status == common_pb2.ASSIGNMENT_STATUS_COMPLETED
    assert await db.fetchval("SELECT active_count FROM staff_load") == 0
    assert await db.fetchval("SELECT stopped_at IS NOT NULL FROM sla_clocks") is True


async def published_subjects(nats_url: str, prefix: str, count: int) -> list[str]:
    """Return the subjects of the first `count` events on the stream, in order."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        subscription = await js.pull_subscribe(
            subjects.subject(prefix, ">"), stream=subjects.stream_name(prefix)
        )
        names: list[str] = []
        deadline = time.monotonic() + 10
        while len(names) < count and time.monotonic() < deadline:
            try:
                batch = await subscription.fetch(count - len(names), timeout=0.5)
            except nats.errors.TimeoutError:
                continue
            for message in batch:
                names.append(message.subject.removeprefix(f"{prefix}."))
                await message.ack()
        return names
    finally:
        await client.close()


async def test_complete__publishes_the_change_before_capacity_freed(
    db: asyncpg.Connection,
    assigner: RunningAssigner,
    nats_url: str,
    subject_prefix: str,
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"])
    submitted = await assigner.stub.SubmitWorkItem(submit_request("INC1"))
    await assigner.stub.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    )

    assert await published_subjects(nats_url, subject_prefix, 4) == [
        subjects.WORK_ITEM_RECEIVED,
        subjects.ASSIGNMENT_ASSIGNED,
        subjects.ASSIGNMENT_COMPLETED,
        subjects.CAPACITY_FREED,
    ]


async def test_complete__twice_is_failed_precondition(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"])
    submitted = await assigner.stub.SubmitWorkItem(submit_request("INC1"))
    request = pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    await assigner.stub.CompleteAssignment(request)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assigner.stub.CompleteAssignment(request)

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "completed" in (raised.value.details() or "")
    assert await db.fetchval("SELECT active_count FROM staff_load") == 0


async def test_cancel__removes_queue_entry(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    submitted = await assigner.stub.SubmitWorkItem(submit_request("INC1"))

    cancelled = await assigner.stub.CancelWorkItem(
        pb.CancelWorkItemRequest(
            work_item_id=submitted.work_item.id, reason="duplicate"
        )
    )

    assert cancelled.work_item.state == common_pb2.WORK_ITEM_STATE_CANCELLED
    assert await db.fetchval("SELECT count(*) FROM queue_entries") == 0


async def test_concurrent__complete_and_cancel_of_one_item_end_consistently(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"], wip_limit=20)
    items = [
        await assigner.stub.SubmitWorkItem(submit_request(f"INC{i}")) for i in range(10)
    ]

    calls = []
    for item in items:
        calls.append(
            assigner.stub.CompleteAssignment(
                pb.CompleteAssignmentRequest(assignment_id=item.assignment.id)
            )
        )
        calls.append(
            assigner.stub.CancelWorkItem(
                pb.CancelWorkItemRequest(work_item_id=item.work_item.id)
            )
        )
    results = await asyncio.gather(*calls, return_exceptions=True)

    failures = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(failures) == 10
    assert {f.code() for f in failures} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert await db.fetchval("SELECT active_count FROM staff_load") == 0
    await assert_invariants(db)


async def test_list__filters_by_assignee_and_pages(
    db: asyncpg.Connection, assigner: RunningAssigner
) -> None:
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "p1", "u1", skills=["network"], wip_limit=50)
    for index in range(7):
        await assigner.stub.SubmitWorkItem(submit_request(f"INC{index}"))

    seen: list[str] = []
    token = ""
    for _ in range(10):
        page = await assigner.stub.ListAssignments(
            pb.ListAssignmentsRequest(assignee_id="p1", page_size=3, page_token=token)
        )
        seen.extend(a.work_item.external_id for a in page.assignments)
        token = page.next_page_token
        if not token:
            break

    assert sorted(seen) == [f"INC{i}" for i in range(7)]
    assert len(seen) == 7
