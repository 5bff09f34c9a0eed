"""Every RPC rejects a missing or malformed field with INVALID_ARGUMENT naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import asyncpg
import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc, common_pb2
from assignment_engine.devstack.testing import ROOT_UNIT_ID

Stub: TypeAlias = availability_pb2_grpc.AvailabilityServiceStub


def unit(**fields: object) -> common_pb2.Unit:
    values: dict[str, object] = {
        "id": "ops",
        "name": "Ops",
        "timezone": "Europe/Berlin",
    }
    values.update(fields)
    return common_pb2.Unit(**values)  # type: ignore[arg-type]


def staff(**fields: object) -> common_pb2.Staff:
    values: dict[str, object] = {
        "id": "alice",
        "unit_id": "ops",
        "role": common_pb2.ROLE_STAFF,
        "wip_limit": 3,
        "skills": [common_pb2.Skill(name="network", level=2)],
    }
    values.update(fields)
    return common_pb2.Staff(**values)  # type: ignore[arg-type]


def skills(*names: str) -> list[common_pb2.Skill]:
    return [common_pb2.Skill(name=name) for name in names]


def upsert_unit(**fields: object) -> availability_pb2.UpsertUnitRequest:
    return availability_pb2.UpsertUnitRequest(unit=unit(**fields))


def upsert_staff(**fields: object) -> availability_pb2.UpsertStaffRequest:
    return availability_pb2.UpsertStaffRequest(staff=staff(**fields))


def set_availability(**fields: object) -> availability_pb2.SetAvailabilityRequest:
    values: dict[str, object] = {
        "staff_id": "alice",
        "status": common_pb2.AVAILABILITY_STATUS_UNAVAILABLE,
    }
    values.update(fields)
    return availability_pb2.SetAvailabilityRequest(**values)  # type: ignore[arg-type]


def timestamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


# 2033-05-18, 2033-05-19 and 2033-05-20 at 03:33:20 UTC.
DAY_1 = 2_000_000_000
DAY_2 = DAY_1 + 86_400
DAY_3 = DAY_2 + 86_400


def schedule_leave(**fields: object) -> availability_pb2.ScheduleLeaveRequest:
    values: dict[str, object] = {
        "staff_id": "alice",
        "starts_at": timestamp(DAY_1),
        "ends_at": timestamp(DAY_2),
    }
    values.update(fields)
    return availability_pb2.ScheduleLeaveRequest(**values)  # type: ignore[arg-type]


def hr_event(**fields: object) -> availability_pb2.RecordHrEventRequest:
    values: dict[str, object] = {
        "delivery_id": "msg_1",
        "type": availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED,
        "employee_id": "E-1",
        "leave_id": "L-1",
        "starts_at": timestamp(DAY_1),
        "ends_at": timestamp(DAY_2),
        "event_time": timestamp(1_700_000_000),
    }
    values.update(fields)
    request = availability_pb2.RecordHrEventRequest()
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, Timestamp):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    return request


def too_many_staff() -> availability_pb2.ImportOrganisationRequest:
    request = availability_pb2.ImportOrganisationRequest()
    for number in range(100_001):
        request.staff.add(id=f"s{number}")
    return request


# Each case: the RPC, a function building the request, and the field path the
# error must name.
CASES: list[tuple[str, Callable[[], Message], str]] = [
    ("UpsertUnit", lambda: availability_pb2.UpsertUnitRequest(), "unit.id"),
    ("UpsertUnit", lambda: upsert_unit(id="bad id"), "unit.id"),
    ("UpsertUnit", lambda: upsert_unit(id="x" * 65), "unit.id"),
    ("UpsertUnit", lambda: upsert_unit(name=""), "unit.name"),
    ("UpsertUnit", lambda: upsert_unit(name="n" * 201), "unit.name"),
    ("UpsertUnit", lambda: upsert_unit(name="line\nbreak"), "unit.name"),
    ("UpsertUnit", lambda: upsert_unit(supervisor_id="-lead"), "unit.supervisor_id"),
    ("UpsertUnit", lambda: upsert_unit(timezone="Mars/Olympus"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="../etc/passwd"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="/etc/localtime"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="localtime"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="America"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="Asia/Riyadh\x00"), "unit.timezone"),
    ("UpsertUnit", lambda: upsert_unit(timezone="Z" * 65), "unit.timezone"),
    ("UpsertStaff", lambda: availability_pb2.UpsertStaffRequest(), "staff.id"),
    ("UpsertStaff", lambda: upsert_staff(id="a/b"), "staff.id"),
    ("UpsertStaff", lambda: upsert_staff(unit_id=""), "staff.unit_id"),
    ("UpsertStaff", lambda: upsert_staff(unit_id="o p s"), "staff.unit_id"),
    ("UpsertStaff", lambda: upsert_staff(display_name="d" * 201), "staff.display_name"),
    ("UpsertStaff", lambda: upsert_staff(display_name="nul\x00"), "staff.display_name"),
    (
        "UpsertStaff",
        lambda: upsert_staff(role=common_pb2.ROLE_UNSPECIFIED),
        "staff.role",
    ),
    ("UpsertStaff", lambda: upsert_staff(role=99), "staff.role"),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=skills(*(f"s{n}" for n in range(65)))),
        "staff.skills",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=skills("ok", "")),
        "staff.skills[1].name",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=skills("ok", "not ok")),
        "staff.skills[1].name",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=skills("a", "b", "a")),
        "staff.skills[2].name",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=[common_pb2.Skill(name="a", level=11)]),
        "staff.skills[0].level",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(skills=[common_pb2.Skill(name="a", level=-1)]),
        "staff.skills[0].level",
    ),
    ("UpsertStaff", lambda: upsert_staff(wip_limit=-1), "staff.wip_limit"),
    ("UpsertStaff", lambda: upsert_staff(wip_limit=1001), "staff.wip_limit"),
    (
        "UpsertStaff",
        lambda: upsert_staff(hr_employee_id="h" * 65),
        "staff.hr_employee_id",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(hr_employee_id="HR\t1"),
        "staff.hr_employee_id",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(escalates_to_id="bad id"),
        "staff.escalates_to_id",
    ),
    (
        "UpsertStaff",
        lambda: upsert_staff(escalates_to_id="alice"),
        "staff.escalates_to_id",
    ),
    (
        "ImportOrganisation",
        lambda: availability_pb2.ImportOrganisationRequest(
            units=[unit(id="a"), unit(id="b", timezone="Nowhere/City")]
        ),
        "units[1].timezone",
    ),
    (
        "ImportOrganisation",
        lambda: availability_pb2.ImportOrganisationRequest(
            units=[unit()],
            staff=[
                staff(id="a"),
                staff(id="b"),
                staff(id="c", skills=skills("x", "y z")),
            ],
        ),
        "staff[2].skills[1].name",
    ),
    (
        "ImportOrganisation",
        lambda: availability_pb2.ImportOrganisationRequest(
            units=[unit(id=f"u{n}") for n in range(2001)]
        ),
        "units",
    ),
    ("ImportOrganisation", too_many_staff, "staff"),
    ("GetStaff", lambda: availability_pb2.GetStaffRequest(), "staff_id"),
    ("GetStaff", lambda: availability_pb2.GetStaffRequest(staff_id="a b"), "staff_id"),
    ("ListStaff", lambda: availability_pb2.ListStaffRequest(unit_id="a b"), "unit_id"),
    ("ListStaff", lambda: availability_pb2.ListStaffRequest(page_size=-1), "page_size"),
    (
        "ListStaff",
        lambda: availability_pb2.ListStaffRequest(page_size=1001),
        "page_size",
    ),
    (
        "ListStaff",
        lambda: availability_pb2.ListStaffRequest(page_token="not-a-token"),
        "page_token",
    ),
    # ["staff", 7]: a well-formed token whose key is a number, not an id.
    (
        "ListStaff",
        lambda: availability_pb2.ListStaffRequest(page_token="WyJzdGFmZiIsN10"),
        "page_token",
    ),
    # ["assignments", "x"]: a token of another listing.
    (
        "ListStaff",
        lambda: availability_pb2.ListStaffRequest(
            page_token="WyJhc3NpZ25tZW50cyIsIngiXQ"
        ),
        "page_token",
    ),
    ("SetAvailability", lambda: set_availability(staff_id=""), "staff_id"),
    ("SetAvailability", lambda: set_availability(staff_id="a\nb"), "staff_id"),
    (
        "SetAvailability",
        lambda: set_availability(status=common_pb2.AVAILABILITY_STATUS_UNSPECIFIED),
        "status",
    ),
    ("SetAvailability", lambda: set_availability(status=42), "status"),
    ("SetAvailability", lambda: set_availability(until=timestamp(0)), "until"),
    (
        "SetAvailability",
        lambda: set_availability(until=Timestamp(seconds=2_000_000_000, nanos=-1)),
        "until",
    ),
    (
        "SetAvailability",
        lambda: set_availability(
            status=common_pb2.AVAILABILITY_STATUS_AVAILABLE,
            until=timestamp(2_000_000_000),
        ),
        "until",
    ),
    ("SetAvailability", lambda: set_availability(reason="r" * 501), "reason"),
    ("ScheduleLeave", lambda: schedule_leave(staff_id=""), "staff_id"),
    ("ScheduleLeave", lambda: schedule_leave(starts_at=None), "starts_at"),
    ("ScheduleLeave", lambda: schedule_leave(ends_at=None), "ends_at"),
    ("ScheduleLeave", lambda: schedule_leave(ends_at=timestamp(DAY_1)), "ends_at"),
    (
        "ScheduleLeave",
        lambda: schedule_leave(
            starts_at=timestamp(1_600_000_000), ends_at=timestamp(1_600_086_400)
        ),
        "ends_at",
    ),
    ("ScheduleLeave", lambda: schedule_leave(starts_at=timestamp(0)), "starts_at"),
    ("ScheduleLeave", lambda: schedule_leave(reason="r" * 501), "reason"),
    ("CancelLeave", lambda: availability_pb2.CancelLeaveRequest(), "leave_id"),
    (
        "CancelLeave",
        lambda: availability_pb2.CancelLeaveRequest(leave_id="leave-1"),
        "leave_id",
    ),
    ("ListLeave", lambda: availability_pb2.ListLeaveRequest(), "staff_id"),
    (
        "ListLeave",
        lambda: availability_pb2.ListLeaveRequest(staff_id="a b"),
        "staff_id",
    ),
    ("RecordHrEvent", lambda: hr_event(delivery_id=""), "delivery_id"),
    ("RecordHrEvent", lambda: hr_event(delivery_id="d" * 129), "delivery_id"),
    ("RecordHrEvent", lambda: hr_event(type=0), "type"),
    ("RecordHrEvent", lambda: hr_event(type=9), "type"),
    ("RecordHrEvent", lambda: hr_event(employee_id=""), "employee_id"),
    ("RecordHrEvent", lambda: hr_event(employee_id="E\n1"), "employee_id"),
    ("RecordHrEvent", lambda: hr_event(leave_id=""), "leave_id"),
    (
        "RecordHrEvent",
        lambda: hr_event(
            type=availability_pb2.HR_EVENT_TYPE_LEAVE_CANCELLED, leave_id=""
        ),
        "leave_id",
    ),
    ("RecordHrEvent", lambda: hr_event(starts_at=None), "starts_at"),
    ("RecordHrEvent", lambda: hr_event(ends_at=None), "ends_at"),
    ("RecordHrEvent", lambda: hr_event(ends_at=timestamp(DAY_1)), "ends_at"),
    ("RecordHrEvent", lambda: hr_event(reason="r" * 501), "reason"),
    ("RecordHrEvent", lambda: hr_event(event_time=None), "event_time"),
    ("RecordHrEvent", lambda: hr_event(event_time=timestamp(DAY_3)), "event_time"),
    ("RecordHrEvent", lambda: hr_event(version=-1), "version"),
]


@pytest.mark.parametrize(
    ("method", "build", "field"),
    CASES,
    ids=[f"{method}-{field}-{index}" for index, (method, _, field) in enumerate(CASES)],
)
async def test_rpc__invalid_field_is_rejected_by_name(
    stub: Stub,
    database: asyncpg.Connection,
    method: str,
    build: Callable[[], Message],
    field: str,
) -> None:
    request = build()

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(stub, method)(request)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}=")
    units = await database.fetchval(
        "SELECT count(*) FROM units WHERE id <> $1", ROOT_UNIT_ID
    )
    assert units == 0
    assert await database.fetchval("SELECT count(*) FROM outbox") == 0
    assert await database.fetchval("SELECT count(*) FROM leave_periods") == 0
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0
