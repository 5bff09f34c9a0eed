"""Every availability RPC against the permission matrix, one caller at a time.

The organisation is the one of `conftest.organisation`: nora supervises ned and
nina in "north", sue supervises sid in "south", root is the admin, and
"hr-gateway" calls as a service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import availability_pb2, common_pb2
from assignment_engine.devstack.testing import ROOT_UNIT_ID

from .conftest import CALLERS, Stub, StubFactory, timestamp

DENIED = grpc.StatusCode.PERMISSION_DENIED
SOURCES = {
    "manual": common_pb2.AVAILABILITY_SOURCE_MANUAL,
    "supervisor_override": common_pb2.AVAILABILITY_SOURCE_SUPERVISOR_OVERRIDE,
    "admin": common_pb2.AVAILABILITY_SOURCE_ADMIN,
    "hr_system": common_pb2.AVAILABILITY_SOURCE_HR_SYSTEM,
}
# (caller, target staff member, source recorded)
ALLOWED_CELLS = [
    pytest.param("ned", "ned", "manual", id="staff on self"),
    pytest.param("nora", "ned", "supervisor_override", id="supervisor on member"),
    pytest.param("nora", "nora", "manual", id="supervisor on self"),
    pytest.param("admin", "sid", "admin", id="admin on anyone"),
]
# (caller, target staff member)
DENIED_CELLS = [
    pytest.param("ned", "nina", id="staff on colleague"),
    pytest.param("nora", "sid", id="supervisor on other unit"),
    pytest.param("service", "ned", id="service"),
]
pytestmark = pytest.mark.usefixtures("organisation")


def caller_stub(stub_as: StubFactory, caller: str) -> Stub:
    subject, role = CALLERS[caller]
    return stub_as(subject, role)


async def staff_row(database: asyncpg.Connection, staff_id: str) -> asyncpg.Record:
    return await database.fetchrow(
        "SELECT availability, availability_source FROM staff WHERE id = $1", staff_id
    )


async def count(database: asyncpg.Connection, query: str, *args: Any) -> int:
    return await database.fetchval(query, *args)


async def schedule_current_leave(stub: Stub, staff_id: str) -> str:
    """Schedule leave that started a minute ago for `staff_id`; return its id."""
    now = datetime.now(UTC)
    response = await stub.ScheduleLeave(
        availability_pb2.ScheduleLeaveRequest(
            staff_id=staff_id,
            starts_at=timestamp(now - timedelta(minutes=1)),
            ends_at=timestamp(now + timedelta(hours=1)),
            reason="training",
        )
    )
    return response.leave.id


# SET_AVAILABILITY ---------------------------------------------------------------


def unavailable(target: str) -> availability_pb2.SetAvailabilityRequest:
    return availability_pb2.SetAvailabilityRequest(
        staff_id=target, status=common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
    )


def future_leave(target: str) -> availability_pb2.ScheduleLeaveRequest:
    now = datetime.now(UTC)
    return availability_pb2.ScheduleLeaveRequest(
        staff_id=target,
        starts_at=timestamp(now + timedelta(days=1)),
        ends_at=timestamp(now + timedelta(days=2)),
    )


@pytest.mark.parametrize(("caller", "target", "source"), ALLOWED_CELLS)
async def test_set_availability__allowed_cell_records_source(
    stub_as: StubFactory,
    database: asyncpg.Connection,
    caller: str,
    target: str,
    source: str,
) -> None:
    response = await caller_stub(stub_as, caller).SetAvailability(unavailable(target))

    assert response.staff.availability == common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
    assert response.staff.availability_source == SOURCES[source]
    row = await staff_row(database, target)
    assert row["availability_source"] == source


@pytest.mark.parametrize(("caller", "target"), DENIED_CELLS)
async def test_set_availability__denied_cell_changes_nothing(
    stub_as: StubFactory, database: asyncpg.Connection, caller: str, target: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await caller_stub(stub_as, caller).SetAvailability(unavailable(target))

    assert caught.value.code() == DENIED
    row = await staff_row(database, target)
    assert row["availability"] == "available"
    assert await count(database, "SELECT count(*) FROM outbox") == 0


@pytest.mark.parametrize(("caller", "target", "source"), ALLOWED_CELLS)
async def test_schedule_leave__allowed_cell_records_source(
    stub_as: StubFactory,
    database: asyncpg.Connection,
    caller: str,
    target: str,
    source: str,
) -> None:
    response = await caller_stub(stub_as, caller).ScheduleLeave(future_leave(target))

    assert response.leave.source == SOURCES[source]
    stored = await database.fetchval(
        "SELECT source FROM leave_periods WHERE staff_id = $1", target
    )
    assert stored == source


@pytest.mark.parametrize(("caller", "target"), DENIED_CELLS)
async def test_schedule_leave__denied_cell_changes_nothing(
    stub_as: StubFactory, database: asyncpg.Connection, caller: str, target: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await caller_stub(stub_as, caller).ScheduleLeave(future_leave(target))

    assert caught.value.code() == DENIED
    assert await count(database, "SELECT count(*) FROM leave_periods") == 0


async def test_schedule_leave__started_leave_sets_staff_source(
    stub_as: StubFactory, database: asyncpg.Connection
) -> None:
    supervisor = caller_stub(stub_as, "nora")

    await schedule_current_leave(supervisor, "ned")

    row = await staff_row(database, "ned")
    assert row["availability"] == "on_leave"
    assert row["availability_source"] == "supervisor_override"


@pytest.mark.parametrize(("caller", "target", "source"), ALLOWED_CELLS)
async def test_cancel_leave__allowed_cell_records_source(
    stub: Stub,
    stub_as: StubFactory,
    database: asyncpg.Connection,
    caller: str,
    target: str,
    source: str,
) -> None:
    leave_id = await schedule_current_leave(stub, target)
    request = availability_pb2.CancelLeaveRequest(leave_id=leave_id)

    response = await caller_stub(stub_as, caller).CancelLeave(request)

    assert response.leave.state == availability_pb2.LEAVE_STATE_CANCELLED
    row = await staff_row(database, target)
    assert row["availability"] == "available"
    assert row["availability_source"] == source


@pytest.mark.parametrize(("caller", "target"), DENIED_CELLS)
async def test_cancel_leave__denied_cell_changes_nothing(
    stub: Stub,
    stub_as: StubFactory,
    database: asyncpg.Connection,
    caller: str,
    target: str,
) -> None:
    leave_id = await schedule_current_leave(stub, target)
    await database.execute("DELETE FROM outbox")
    request = availability_pb2.CancelLeaveRequest(leave_id=leave_id)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await caller_stub(stub_as, caller).CancelLeave(request)

    assert caught.value.code() == DENIED
    state = await database.fetchval("SELECT state FROM leave_periods")
    assert state == "active"
    row = await staff_row(database, target)
    assert row["availability"] == "on_leave"
    assert await count(database, "SELECT count(*) FROM outbox") == 0


# RECORD_HR_EVENT ----------------------------------------------------------------


def hr_event(delivery_id: str) -> availability_pb2.RecordHrEventRequest:
    now = datetime.now(UTC)
    return availability_pb2.RecordHrEventRequest(
        delivery_id=delivery_id,
        type=availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED,
        employee_id="E-ned",
        leave_id="L-1",
        starts_at=timestamp(now + timedelta(days=1)),
        ends_at=timestamp(now + timedelta(days=2)),
        event_time=timestamp(now),
        version=1,
    )


async def test_record_hr_event__service_is_allowed(
    stub_as: StubFactory, database: asyncpg.Connection
) -> None:
    service = caller_stub(stub_as, "service")

    response = await service.RecordHrEvent(hr_event("d-1"))

    assert response.outcome == availability_pb2.HR_EVENT_OUTCOME_ACCEPTED
    assert await count(database, "SELECT count(*) FROM hr_events") == 1


@pytest.mark.parametrize("caller", ["ned", "nora", "admin"])
async def test_record_hr_event__people_are_denied(
    stub_as: StubFactory, database: asyncpg.Connection, caller: str
) -> None:
    person = caller_stub(stub_as, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await person.RecordHrEvent(hr_event("d-1"))

    assert caught.value.code() == DENIED
    assert await count(database, "SELECT count(*) FROM hr_events") == 0
    assert await count(database, "SELECT count(*) FROM leave_periods") == 0


# ADMINISTER ---------------------------------------------------------------------

ADMIN_CALLS: dict[str, Callable[[Stub], Awaitable[Any]]] = {
    "UpsertUnit": lambda s: s.UpsertUnit(
        availability_pb2.UpsertUnitRequest(unit=common_pb2.Unit(id="east", name="E"))
    ),
    "UpsertStaff": lambda s: s.UpsertStaff(
        availability_pb2.UpsertStaffRequest(
            staff=common_pb2.Staff(
                id="ned", unit_id="north", role=common_pb2.ROLE_STAFF, wip_limit=50
            )
        )
    ),
    "ImportOrganisation": lambda s: s.ImportOrganisation(
        availability_pb2.ImportOrganisationRequest(
            units=[common_pb2.Unit(id="east", name="E")]
        )
    ),
}


@pytest.mark.parametrize("method", list(ADMIN_CALLS))
@pytest.mark.parametrize("caller", ["ned", "nora", "service"])
async def test_administration__only_admins_are_allowed(
    stub_as: StubFactory, database: asyncpg.Connection, method: str, caller: str
) -> None:
    other = caller_stub(stub_as, caller)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ADMIN_CALLS[method](other)

    assert caught.value.code() == DENIED
    units = await count(
        database, "SELECT count(*) FROM units WHERE id <> $1", ROOT_UNIT_ID
    )
    assert units == 2
    wip_limit = await database.fetchval("SELECT wip_limit FROM staff WHERE id = 'ned'")
    assert wip_limit == 3
    assert await count(database, "SELECT count(*) FROM outbox") == 0


@pytest.mark.parametrize("method", list(ADMIN_CALLS))
async def test_administration__admin_is_allowed(
    stub_as: StubFactory, method: str
) -> None:
    admin = caller_stub(stub_as, "admin")

    await ADMIN_CALLS[method](admin)


# READ_DIRECTORY -----------------------------------------------------------------

READ_CALLS: dict[str, Callable[[Stub], Awaitable[Any]]] = {
    "GetStaff": lambda s: s.GetStaff(availability_pb2.GetStaffRequest(staff_id="sid")),
    "ListStaff": lambda s: s.ListStaff(availability_pb2.ListStaffRequest()),
    "ListUnits": lambda s: s.ListUnits(availability_pb2.ListUnitsRequest()),
    "ListLeave": lambda s: s.ListLeave(
        availability_pb2.ListLeaveRequest(staff_id="sid")
    ),
}


@pytest.mark.parametrize("method", list(READ_CALLS))
@pytest.mark.parametrize("caller", ["ned", "nora", "admin", "service"])
async def test_directory__every_role_may_read(
    stub_as: StubFactory, method: str, caller: str
) -> None:
    reader = caller_stub(stub_as, caller)

    await READ_CALLS[method](reader)


async def test_directory__caller_without_staff_record_is_denied(
    stub_as: StubFactory,
) -> None:
    stranger = stub_as("ghost", "staff")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await READ_CALLS["GetStaff"](stranger)

    assert caught.value.code() == DENIED


async def test_directory__role_differing_from_record_is_denied(
    stub_as: StubFactory,
) -> None:
    pretender = stub_as("ned", "admin")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ADMIN_CALLS["UpsertUnit"](pretender)

    assert caught.value.code() == DENIED
