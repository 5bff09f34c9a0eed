"""All four services together: availability, assignment, the queue and SLA breaches."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import availability_pb2, common_pb2, sla_monitor_pb2
from assignment_engine.devstack import invariants, seeding

from .conftest import Engine

WAIT_S = 10.0


async def wait_for(db: asyncpg.Connection, query: str, *args: object) -> object:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = await db.fetchval(query, *args)
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"no result within {WAIT_S} s: {query}")


def organisation() -> availability_pb2.ImportOrganisationRequest:
    return availability_pb2.ImportOrganisationRequest(
        units=[common_pb2.Unit(id="desk", name="Service desk", supervisor_id="boss")],
        staff=[
            common_pb2.Staff(
                id="boss", unit_id="desk", role=common_pb2.ROLE_SUPERVISOR, wip_limit=0
            ),
            common_pb2.Staff(
                id="admin", unit_id="desk", role=common_pb2.ROLE_ADMIN, wip_limit=0
            ),
            common_pb2.Staff(
                id="ana",
                unit_id="desk",
                role=common_pb2.ROLE_STAFF,
                skills=[common_pb2.Skill(name="network")],
                wip_limit=1,
            ),
        ],
    )


async def test_availability__unavailable_person_is_skipped_and_return_drains_queue(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await full_engine.availability.ImportOrganisation(organisation())
    await full_engine.availability.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id="ana", status=common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
        )
    )

    queued = await full_engine.assigner.SubmitWorkItem(
        pb.SubmitWorkItemRequest(
            type="incident",
            external_id="INC1",
            required_skills=["network"],
            priority=common_pb2.PRIORITY_HIGH,
        )
    )
    await full_engine.availability.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id="ana", status=common_pb2.AVAILABILITY_STATUS_AVAILABLE
        )
    )

    assert queued.outcome == pb.SUBMIT_OUTCOME_QUEUED
    assert (
        await wait_for(
            db, "SELECT assignee_id FROM assignments WHERE status = 'assigned'"
        )
        == "ana"
    )


async def test_breach__queued_item_escalates_to_unit_supervisor(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await full_engine.availability.ImportOrganisation(organisation())
    await seeding.set_policy(db, "incident", 1, 2.0)
    received = datetime.now(UTC) - timedelta(seconds=1.5)
    request = pb.SubmitWorkItemRequest(
        type="incident",
        external_id="INC1",
        required_skills=["mainframe"],
        target_unit_id="desk",
        priority=common_pb2.PRIORITY_CRITICAL,
    )
    request.received_at.FromDatetime(received)

    submitted = await full_engine.assigner.SubmitWorkItem(request)
    recipient = await wait_for(
        db, "SELECT escalated_to_id FROM escalation_events WHERE reason = 'sla_breach'"
    )
    status = await full_engine.sla_monitor.GetSlaStatus(
        sla_monitor_pb2.GetSlaStatusRequest(work_item_id=submitted.work_item.id)
    )

    assert submitted.outcome == pb.SUBMIT_OUTCOME_QUEUED
    assert recipient == "boss"
    assert status.status.state == sla_monitor_pb2.SLA_STATE_BREACHED
    assert submitted.sla_deadline.ToDatetime(tzinfo=UTC) == received + timedelta(
        seconds=2
    )


async def test_breach__assigned_item_never_escalates_to_its_assignee(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await full_engine.availability.ImportOrganisation(organisation())
    # The supervisor takes work too, so the escalation must skip them.
    await full_engine.availability.UpsertStaff(
        availability_pb2.UpsertStaffRequest(
            staff=common_pb2.Staff(
                id="boss",
                unit_id="desk",
                role=common_pb2.ROLE_SUPERVISOR,
                skills=[common_pb2.Skill(name="mainframe")],
                wip_limit=2,
            )
        )
    )
    await seeding.set_policy(db, "incident", 1, 1.0)

    submitted = await full_engine.assigner.SubmitWorkItem(
        pb.SubmitWorkItemRequest(
            type="incident",
            external_id="INC1",
            required_skills=["mainframe"],
            priority=common_pb2.PRIORITY_CRITICAL,
        )
    )
    recipient = await wait_for(
        db, "SELECT escalated_to_id FROM escalation_events WHERE reason = 'sla_breach'"
    )

    assert submitted.assignment.assignee_id == "boss"
    assert recipient == "admin"
    assert all(result.holds for result in await invariants.check_all(db))
