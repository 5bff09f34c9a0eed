"""Every SLA monitor RPC against the permission matrix, one role at a time.

The organisation: unit "north" is supervised by nora and has the staff members ned
and nina. Unit "south" is supervised by sue and has sid. The admin is `root` in
unit "engine-ops", and "assigner" calls as a service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import common_pb2, sla_monitor_pb2_grpc
from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.devstack import seeding
from assignment_engine.devstack.testing import ROOT_ADMIN_ID

from .conftest import RunningMonitor, add_clock, assign, stub_for

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# Callers by label: (subject, role). A role's name labels one caller in that role.
CALLERS = {
    "staff": ("ned", "staff"),
    "supervisor": ("nora", "supervisor"),
    "admin": (ROOT_ADMIN_ID, "admin"),
    "service": ("assigner", "service"),
    "nina": ("nina", "staff"),
    "sid": ("sid", "staff"),
    "sue": ("sue", "supervisor"),
}
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class Organisation:
    """Work items and escalations by label, as ids in their string form."""

    items: dict[str, str]
    escalations: dict[str, str]


async def add_finished_assignment(
    db: asyncpg.Connection,
    work_item_id: uuid.UUID,
    assignee_id: str,
    status: str,
    assigned_at: datetime,
) -> None:
    await db.execute(
        """
        INSERT INTO assignments (id, work_item_id, assignee_id, status, score,
                                 assigned_at, ended_at)
        VALUES ($1, $2, $3, $4, 1.0, $5::timestamptz, $5::timestamptz + interval '1 minute')
        """,
        uuid.uuid4(),
        work_item_id,
        assignee_id,
        status,
        assigned_at,
    )


async def add_escalation(
    db: asyncpg.Connection,
    work_item_id: uuid.UUID,
    escalated_from_id: str | None,
    escalated_to_id: str,
    minutes_after_t0: int,
) -> str:
    escalation_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO escalation_events (id, work_item_id, escalated_from_id,
                                       escalated_to_id, reason, level, escalated_at)
        VALUES ($1, $2, $3, $4, 'manual', 1, $5)
        """,
        escalation_id,
        work_item_id,
        escalated_from_id,
        escalated_to_id,
        T0 + timedelta(minutes=minutes_after_t0),
    )
    return str(escalation_id)


@pytest.fixture
async def organisation(db: asyncpg.Connection) -> Organisation:
    """Seed the units and staff, five work items and six escalations.

    Items: "north" is assigned to ned, "south" to sid, "north-queued" is queued
    for unit north, "finished" was completed by ned, and "handed-over" was
    cancelled for ned and is now assigned to sid.
    """
    await seeding.add_unit(db, "north")
    await seeding.add_unit(db, "south")
    await seeding.add_staff(db, "nora", "north", role="supervisor")
    await seeding.add_staff(db, "ned", "north")
    await seeding.add_staff(db, "nina", "north")
    await seeding.add_staff(db, "sue", "south", role="supervisor")
    await seeding.add_staff(db, "sid", "south")
    await seeding.set_supervisor(db, "north", "nora")
    await seeding.set_supervisor(db, "south", "sue")

    north = await add_clock(
        db, warning_in_s=3600, deadline_in_s=7200, assignee_id="ned"
    )
    south = await add_clock(
        db, warning_in_s=3600, deadline_in_s=7200, assignee_id="sid"
    )
    north_queued = await add_clock(
        db, warning_in_s=3600, deadline_in_s=7200, target_unit_id="north"
    )
    finished = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    await add_finished_assignment(db, finished, "ned", "completed", T0)
    handed_over = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    await add_finished_assignment(db, handed_over, "ned", "cancelled", T0)
    await assign(db, handed_over, "sid")

    escalations = {
        "to-nora": await add_escalation(db, north, "ned", "nora", 0),
        "to-nina": await add_escalation(db, north, "ned", "nina", 1),
        "to-sue": await add_escalation(db, south, "sid", "sue", 2),
        "south-to-nora": await add_escalation(db, south, "sid", "nora", 3),
        "north-queued-to-root": await add_escalation(
            db, north_queued, None, ROOT_ADMIN_ID, 4
        ),
        "south-to-root": await add_escalation(db, south, "sid", ROOT_ADMIN_ID, 5),
    }
    items = {
        "north": north,
        "south": south,
        "north-queued": north_queued,
        "finished": finished,
        "handed-over": handed_over,
    }
    return Organisation(
        items={label: str(item) for label, item in items.items()},
        escalations=escalations,
    )


def caller_stub(
    monitor: RunningMonitor, caller: str
) -> sla_monitor_pb2_grpc.SlaMonitorServiceStub:
    subject, role = CALLERS[caller]
    return stub_for(monitor, subject, role)


def policy_request() -> pb.SetSlaPolicyRequest:
    return pb.SetSlaPolicyRequest(
        policy=pb.SlaPolicy(
            work_item_type="incident",
            priority=common_pb2.PRIORITY_HIGH,
            resolution_target=Duration(seconds=3600),
        )
    )


async def listed(
    stub: sla_monitor_pb2_grpc.SlaMonitorServiceStub,
    organisation: Organisation,
    recipient_id: str = "",
) -> set[str]:
    """List escalations and return their labels."""
    labels = {value: label for label, value in organisation.escalations.items()}
    response = await stub.ListEscalations(
        pb.ListEscalationsRequest(recipient_id=recipient_id, page_size=100)
    )
    return {labels[escalation.id] for escalation in response.escalations}


async def stamps(db: asyncpg.Connection, escalation_id: str) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT acknowledged_at, acknowledged_by, resolved_at, resolved_by "
        "FROM escalation_events WHERE id = $1",
        uuid.UUID(escalation_id),
    )


# GetSlaStatus: read work items, `own` for staff and `unit` for supervisors ----------


@pytest.mark.parametrize(
    ("caller", "item", "allowed"),
    [
        pytest.param("staff", "north", True, id="staff-own-item"),
        pytest.param("staff", "finished", True, id="staff-last-assignee"),
        pytest.param("staff", "south", False, id="staff-other-unit-item"),
        pytest.param("nina", "north", False, id="staff-colleague-item"),
        pytest.param("staff", "north-queued", False, id="staff-queued-unit-item"),
        pytest.param("staff", "handed-over", False, id="staff-previous-assignee"),
        pytest.param("sid", "handed-over", True, id="staff-current-assignee"),
        pytest.param("supervisor", "north", True, id="supervisor-assignee-unit"),
        pytest.param("supervisor", "north-queued", True, id="supervisor-target-unit"),
        pytest.param("supervisor", "south", False, id="supervisor-other-unit"),
        pytest.param("supervisor", "handed-over", False, id="supervisor-handed-away"),
        pytest.param("admin", "south", True, id="admin-any-item"),
        pytest.param("service", "south", True, id="service-any-item"),
    ],
)
async def test_status_read_follows_matrix(
    monitor: RunningMonitor,
    organisation: Organisation,
    caller: str,
    item: str,
    allowed: bool,
) -> None:
    stub = caller_stub(monitor, caller)
    request = pb.GetSlaStatusRequest(work_item_id=organisation.items[item])

    if allowed:
        response = await stub.GetSlaStatus(request)

        assert response.status.work_item_id == organisation.items[item]
    else:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetSlaStatus(request)

        assert caught.value.code() == DENIED


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        pytest.param("staff", DENIED, id="staff"),
        pytest.param("supervisor", DENIED, id="supervisor"),
        pytest.param("admin", grpc.StatusCode.NOT_FOUND, id="admin"),
        pytest.param("service", grpc.StatusCode.NOT_FOUND, id="service"),
    ],
)
async def test_status_of_unknown_item_hides_existence(
    monitor: RunningMonitor,
    organisation: Organisation,
    caller: str,
    code: grpc.StatusCode,
) -> None:
    stub = caller_stub(monitor, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetSlaStatus(pb.GetSlaStatusRequest(work_item_id=UNKNOWN_ID))

    assert caught.value.code() == code


# SetSlaPolicy and ListSlaPolicies -----------------------------------------------


@pytest.mark.parametrize("caller", ["staff", "supervisor", "service"])
async def test_set_policy_denied_to_non_admin(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    organisation: Organisation,
    caller: str,
) -> None:
    stub = caller_stub(monitor, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetSlaPolicy(policy_request())

    policies = await db.fetchval(
        "SELECT count(*) FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert caught.value.code() == DENIED
    assert policies == 0


async def test_set_policy_allowed_to_admin(
    db: asyncpg.Connection, monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "admin")

    response = await stub.SetSlaPolicy(policy_request())

    policies = await db.fetchval(
        "SELECT count(*) FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert response.policy.work_item_type == "incident"
    assert policies == 1


async def test_set_policy_validates_before_authorizing(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "staff")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetSlaPolicy(pb.SetSlaPolicyRequest())

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("caller", ["staff", "supervisor", "admin", "service"])
async def test_list_policies_allowed_to_every_role(
    monitor: RunningMonitor, organisation: Organisation, caller: str
) -> None:
    stub = caller_stub(monitor, caller)

    response = await stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())

    assert len(response.policies) == 4


# SetCalendar, ListCalendars and GetCapacity ---------------------------------------


def calendar_request() -> pb.SetCalendarRequest:
    return pb.SetCalendarRequest(
        calendar=pb.BusinessCalendar(
            id="office",
            timezone="Europe/London",
            hours=[pb.WorkingHours(weekday=1, start="09:00", end="17:00")],
        )
    )


@pytest.mark.parametrize("caller", ["staff", "supervisor", "service"])
async def test_set_calendar_denied_to_non_admin(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    organisation: Organisation,
    caller: str,
) -> None:
    stub = caller_stub(monitor, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetCalendar(calendar_request())

    calendars = await db.fetchval("SELECT count(*) FROM business_calendars")
    assert caught.value.code() == DENIED
    assert calendars == 0


async def test_set_calendar_allowed_to_admin(
    db: asyncpg.Connection, monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "admin")

    response = await stub.SetCalendar(calendar_request())

    calendars = await db.fetchval("SELECT count(*) FROM business_calendars")
    assert response.calendar.id == "office"
    assert calendars == 1


async def test_set_calendar_validates_before_authorizing(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "staff")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetCalendar(pb.SetCalendarRequest())

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("caller", ["staff", "supervisor", "admin", "service"])
async def test_list_calendars_allowed_to_every_role(
    monitor: RunningMonitor, organisation: Organisation, caller: str
) -> None:
    await caller_stub(monitor, "admin").SetCalendar(calendar_request())
    stub = caller_stub(monitor, caller)

    response = await stub.ListCalendars(pb.ListCalendarsRequest())

    assert [calendar.id for calendar in response.calendars] == ["office"]


@pytest.mark.parametrize("caller", ["staff", "supervisor", "admin", "service"])
async def test_get_capacity_allowed_to_every_role(
    monitor: RunningMonitor, organisation: Organisation, caller: str
) -> None:
    stub = caller_stub(monitor, caller)

    response = await stub.GetCapacity(pb.GetCapacityRequest(unit_id="south"))

    assert [unit.unit_id for unit in response.now] == ["south"]


# ListEscalations ------------------------------------------------------------------


async def test_staff_list_shows_only_own(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "nina")

    labels = await listed(stub, organisation)

    assert labels == {"to-nina"}


async def test_staff_list_filtered_to_self(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "nina")

    labels = await listed(stub, organisation, recipient_id="nina")

    assert labels == {"to-nina"}


async def test_staff_list_without_escalations_is_empty(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "staff")

    labels = await listed(stub, organisation)

    assert labels == set()


async def test_staff_list_of_other_recipient_denied(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "nina")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await listed(stub, organisation, recipient_id="nora")

    assert caught.value.code() == DENIED


@pytest.mark.parametrize(
    ("supervisor", "expected"),
    [
        pytest.param(
            "supervisor",
            {"to-nora", "to-nina", "south-to-nora", "north-queued-to-root"},
            id="north",
        ),
        pytest.param("sue", {"to-sue", "south-to-nora", "south-to-root"}, id="south"),
    ],
)
async def test_supervisor_list_shows_unit_escalations(
    monitor: RunningMonitor,
    organisation: Organisation,
    supervisor: str,
    expected: set[str],
) -> None:
    stub = caller_stub(monitor, supervisor)

    labels = await listed(stub, organisation)

    assert labels == expected


async def test_supervisor_list_narrowed_by_recipient(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    stub = caller_stub(monitor, "supervisor")

    labels = await listed(stub, organisation, recipient_id=ROOT_ADMIN_ID)

    assert labels == {"north-queued-to-root"}


@pytest.mark.parametrize("caller", ["admin", "service"])
async def test_admin_and_service_list_everything(
    monitor: RunningMonitor, organisation: Organisation, caller: str
) -> None:
    stub = caller_stub(monitor, caller)

    labels = await listed(stub, organisation)

    assert labels == set(organisation.escalations)


# AcknowledgeEscalation and ResolveEscalation ----------------------------------------


@pytest.mark.parametrize(
    ("caller", "escalation"),
    [
        pytest.param("nina", "to-nina", id="staff-recipient"),
        pytest.param("supervisor", "to-nina", id="supervisor-recipient-unit"),
        pytest.param("supervisor", "north-queued-to-root", id="supervisor-target-unit"),
        pytest.param("sue", "south-to-nora", id="supervisor-assignee-unit"),
        pytest.param("admin", "to-sue", id="admin-any"),
    ],
)
@pytest.mark.parametrize("method", ["AcknowledgeEscalation", "ResolveEscalation"])
async def test_handling_allowed_records_caller(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    organisation: Organisation,
    method: str,
    caller: str,
    escalation: str,
) -> None:
    subject = CALLERS[caller][0]
    stub = caller_stub(monitor, caller)
    escalation_id = organisation.escalations[escalation]

    if method == "AcknowledgeEscalation":
        await stub.AcknowledgeEscalation(
            pb.AcknowledgeEscalationRequest(escalation_id=escalation_id)
        )
    else:
        await stub.ResolveEscalation(
            pb.ResolveEscalationRequest(escalation_id=escalation_id)
        )

    row = await stamps(db, escalation_id)
    assert row["acknowledged_by"] == subject
    if method == "ResolveEscalation":
        assert row["resolved_by"] == subject
    else:
        assert row["resolved_by"] is None


@pytest.mark.parametrize(
    ("caller", "escalation"),
    [
        pytest.param("staff", "to-nina", id="staff-someone-elses"),
        pytest.param("nina", "to-nora", id="staff-supervisors"),
        pytest.param("supervisor", "to-sue", id="supervisor-other-unit"),
        pytest.param("supervisor", "south-to-root", id="supervisor-other-unit-admin"),
        pytest.param("service", "to-nina", id="service"),
    ],
)
@pytest.mark.parametrize("method", ["AcknowledgeEscalation", "ResolveEscalation"])
async def test_handling_denied_changes_nothing(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    organisation: Organisation,
    method: str,
    caller: str,
    escalation: str,
) -> None:
    stub = caller_stub(monitor, caller)
    escalation_id = organisation.escalations[escalation]

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        if method == "AcknowledgeEscalation":
            await stub.AcknowledgeEscalation(
                pb.AcknowledgeEscalationRequest(escalation_id=escalation_id, note="x")
            )
        else:
            await stub.ResolveEscalation(
                pb.ResolveEscalationRequest(escalation_id=escalation_id, note="x")
            )

    row = await stamps(db, escalation_id)
    notes = await db.fetchval(
        "SELECT notes FROM escalation_events WHERE id = $1", uuid.UUID(escalation_id)
    )
    assert caught.value.code() == DENIED
    assert row["acknowledged_at"] is None
    assert row["resolved_at"] is None
    assert notes == ""


async def test_resolve_keeps_earlier_acknowledger(
    db: asyncpg.Connection, monitor: RunningMonitor, organisation: Organisation
) -> None:
    escalation_id = organisation.escalations["to-nina"]
    await caller_stub(monitor, "supervisor").AcknowledgeEscalation(
        pb.AcknowledgeEscalationRequest(escalation_id=escalation_id)
    )

    await caller_stub(monitor, "admin").ResolveEscalation(
        pb.ResolveEscalationRequest(escalation_id=escalation_id)
    )

    row = await stamps(db, escalation_id)
    assert row["acknowledged_by"] == "nora"
    assert row["resolved_by"] == ROOT_ADMIN_ID


async def test_denied_before_state_is_checked(
    monitor: RunningMonitor, organisation: Organisation
) -> None:
    escalation_id = organisation.escalations["to-sue"]
    await caller_stub(monitor, "admin").AcknowledgeEscalation(
        pb.AcknowledgeEscalationRequest(escalation_id=escalation_id)
    )
    stub = caller_stub(monitor, "supervisor")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AcknowledgeEscalation(
            pb.AcknowledgeEscalationRequest(escalation_id=escalation_id)
        )

    assert caught.value.code() == DENIED


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        pytest.param("staff", DENIED, id="staff"),
        pytest.param("supervisor", DENIED, id="supervisor"),
        pytest.param("admin", grpc.StatusCode.NOT_FOUND, id="admin"),
    ],
)
async def test_unknown_escalation_hides_existence(
    monitor: RunningMonitor,
    organisation: Organisation,
    caller: str,
    code: grpc.StatusCode,
) -> None:
    stub = caller_stub(monitor, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AcknowledgeEscalation(
            pb.AcknowledgeEscalationRequest(escalation_id=UNKNOWN_ID)
        )

    assert caught.value.code() == code


# Callers the staff records contradict ---------------------------------------------


@pytest.mark.parametrize(
    ("subject", "role"),
    [
        pytest.param("ned", "supervisor", id="role-above-record"),
        pytest.param("nora", "admin", id="supervisor-claims-admin"),
        pytest.param("ghost", "staff", id="no-staff-record"),
    ],
)
async def test_token_contradicting_record_denied(
    monitor: RunningMonitor, organisation: Organisation, subject: str, role: str
) -> None:
    stub = stub_for(monitor, subject, role)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())

    assert caught.value.code() == DENIED
