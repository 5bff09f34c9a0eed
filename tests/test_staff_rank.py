"""staff_rank, the ranking's copy of staff and staff_load, under every kind of change."""

from __future__ import annotations

import asyncio
import logging
import random

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import availability_pb2, common_pb2
from assignment_engine.devstack import invariants

from .conftest import Engine

COPY_CHECK = "the ranking's copy of staff and load is current"
PEOPLE = ("ana", "ben", "cai")
# Bounded load: each worker makes this many calls.
CALLS_PER_WORKER = 40
WORKERS = 4


def person(
    staff_id: str, unit_id: str, skills: list[str], wip_limit: int
) -> common_pb2.Staff:
    return common_pb2.Staff(
        id=staff_id,
        unit_id=unit_id,
        role=common_pb2.ROLE_STAFF,
        skills=[common_pb2.Skill(name=name) for name in skills],
        wip_limit=wip_limit,
    )


def organisation() -> availability_pb2.ImportOrganisationRequest:
    return availability_pb2.ImportOrganisationRequest(
        units=[
            common_pb2.Unit(id="desk", name="Service desk"),
            common_pb2.Unit(id="field", name="Field service"),
        ],
        staff=[
            common_pb2.Staff(
                id="admin", unit_id="desk", role=common_pb2.ROLE_ADMIN, wip_limit=0
            ),
            *(person(staff_id, "desk", ["network"], 3) for staff_id in PEOPLE),
        ],
    )


async def copy_violations(db: asyncpg.Connection) -> list[dict[str, object]]:
    results = {result.description: result for result in await invariants.check_all(db)}
    return results[COPY_CHECK].violations


async def submit(engine: Engine, external_id: str) -> pb.SubmitWorkItemResponse:
    return await engine.assigner.SubmitWorkItem(
        pb.SubmitWorkItemRequest(
            type="incident",
            external_id=external_id,
            required_skills=["network"],
            priority=common_pb2.PRIORITY_HIGH,
        )
    )


async def test_staff_rank__follows_each_change(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await full_engine.availability.ImportOrganisation(organisation())
    assert await copy_violations(db) == []
    staff_count = await db.fetchval("SELECT count(*) FROM staff")
    assert await db.fetchval("SELECT count(*) FROM staff_rank") == staff_count

    submitted = await submit(full_engine, "INC1")
    assert submitted.outcome == pb.SUBMIT_OUTCOME_ASSIGNED
    assert await copy_violations(db) == []
    assignee = submitted.assignment.assignee_id
    assert (
        await db.fetchval(
            "SELECT active_count FROM staff_rank WHERE staff_id = $1", assignee
        )
        == 1
    )

    await full_engine.availability.UpsertStaff(
        availability_pb2.UpsertStaffRequest(
            staff=person("ben", "field", ["network", "vpn"], 7)
        )
    )
    await full_engine.availability.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id="cai", status=common_pb2.AVAILABILITY_STATUS_BUSY
        )
    )
    await full_engine.availability.UpsertStaff(
        availability_pb2.UpsertStaffRequest(staff=person("dee", "desk", ["vpn"], 2))
    )
    assert await copy_violations(db) == []
    ben = await db.fetchrow(
        "SELECT unit_id, skills, wip_limit FROM staff_rank WHERE staff_id = 'ben'"
    )
    assert dict(ben) == {
        "unit_id": "field",
        "skills": ["network", "vpn"],
        "wip_limit": 7,
    }
    assert (
        await db.fetchval("SELECT availability FROM staff_rank WHERE staff_id = 'cai'")
        == "busy"
    )
    assert await db.fetchval("SELECT count(*) FROM staff_rank") == staff_count + 1

    await full_engine.assigner.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    )
    assert await copy_violations(db) == []
    assert (
        await db.fetchval(
            "SELECT active_count FROM staff_rank WHERE staff_id = $1", assignee
        )
        == 0
    )


async def test_staff_rank__concurrent_changes_never_deadlock(
    db: asyncpg.Connection,
    full_engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Profile changes and assignments of the same people run at once.

    The availability service locks staff and then, through the trigger,
    staff_rank. The assigner locks staff_load, then staff FOR SHARE, then
    staff_rank. A lock cycle would show as a deadlock retry in the log.
    """
    await full_engine.availability.ImportOrganisation(organisation())
    caplog.set_level(logging.INFO)
    failures: list[grpc.StatusCode] = []

    async def assign_and_complete(worker: int) -> None:
        for call in range(CALLS_PER_WORKER):
            try:
                reply = await submit(full_engine, f"INC-{worker}-{call}")
                if reply.outcome == pb.SUBMIT_OUTCOME_ASSIGNED:
                    await full_engine.assigner.CompleteAssignment(
                        pb.CompleteAssignmentRequest(assignment_id=reply.assignment.id)
                    )
            except grpc.aio.AioRpcError as error:
                failures.append(error.code())

    async def change_profiles(worker: int) -> None:
        generator = random.Random(worker)
        statuses = (
            common_pb2.AVAILABILITY_STATUS_AVAILABLE,
            common_pb2.AVAILABILITY_STATUS_BUSY,
            common_pb2.AVAILABILITY_STATUS_UNAVAILABLE,
        )
        for _ in range(CALLS_PER_WORKER):
            staff_id = generator.choice(PEOPLE)
            try:
                draw = generator.random()
                if draw < 0.3:
                    # An import locks every person it names, in staff id order.
                    await full_engine.availability.ImportOrganisation(
                        availability_pb2.ImportOrganisationRequest(
                            staff=[
                                person(
                                    name, "desk", ["network"], generator.randint(1, 4)
                                )
                                for name in PEOPLE
                            ]
                        )
                    )
                elif draw < 0.65:
                    await full_engine.availability.SetAvailability(
                        availability_pb2.SetAvailabilityRequest(
                            staff_id=staff_id, status=generator.choice(statuses)
                        )
                    )
                else:
                    await full_engine.availability.UpsertStaff(
                        availability_pb2.UpsertStaffRequest(
                            staff=person(
                                staff_id, "desk", ["network"], generator.randint(1, 4)
                            )
                        )
                    )
            except grpc.aio.AioRpcError as error:
                failures.append(error.code())

    await asyncio.wait_for(
        asyncio.gather(
            *(assign_and_complete(worker) for worker in range(WORKERS)),
            *(change_profiles(worker) for worker in range(WORKERS)),
        ),
        timeout=120,
    )

    retries = [
        record.getMessage()
        for record in caplog.records
        if "Deadlock" in record.getMessage()
    ]
    assert retries == []
    assert failures == []
    assert await copy_violations(db) == []
    results = await invariants.check_all(db)
    counters = next(r for r in results if r.description.startswith("every load"))
    assert counters.violations == []
