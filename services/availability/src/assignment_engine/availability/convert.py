"""Database rows to API messages, and the enum spellings stored in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from assignment_engine.api.v1 import availability_pb2, common_pb2

ROLE = {
    "staff": common_pb2.ROLE_STAFF,
    "supervisor": common_pb2.ROLE_SUPERVISOR,
    "admin": common_pb2.ROLE_ADMIN,
}
ROLE_NAMES = {value: name for name, value in ROLE.items()}
AVAILABILITY = {
    "available": common_pb2.AVAILABILITY_STATUS_AVAILABLE,
    "busy": common_pb2.AVAILABILITY_STATUS_BUSY,
    "unavailable": common_pb2.AVAILABILITY_STATUS_UNAVAILABLE,
    "on_leave": common_pb2.AVAILABILITY_STATUS_ON_LEAVE,
}
AVAILABILITY_NAMES = {value: name for name, value in AVAILABILITY.items()}
AVAILABILITY_SOURCE = {
    "manual": common_pb2.AVAILABILITY_SOURCE_MANUAL,
    "supervisor_override": common_pb2.AVAILABILITY_SOURCE_SUPERVISOR_OVERRIDE,
    "hr_system": common_pb2.AVAILABILITY_SOURCE_HR_SYSTEM,
    "admin": common_pb2.AVAILABILITY_SOURCE_ADMIN,
}
LEAVE_STATE = {
    "scheduled": availability_pb2.LEAVE_STATE_SCHEDULED,
    "active": availability_pb2.LEAVE_STATE_ACTIVE,
    "ended": availability_pb2.LEAVE_STATE_ENDED,
    "cancelled": availability_pb2.LEAVE_STATE_CANCELLED,
}
HR_EVENT_TYPE = {
    "leave_approved": availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED,
    "leave_cancelled": availability_pb2.HR_EVENT_TYPE_LEAVE_CANCELLED,
    "employee_returned": availability_pb2.HR_EVENT_TYPE_EMPLOYEE_RETURNED,
}
HR_EVENT_TYPE_NAMES = {value: name for name, value in HR_EVENT_TYPE.items()}
HR_EVENT_OUTCOME = {
    "accepted": availability_pb2.HR_EVENT_OUTCOME_ACCEPTED,
    "stale": availability_pb2.HR_EVENT_OUTCOME_STALE,
    "rejected": availability_pb2.HR_EVENT_OUTCOME_REJECTED,
}


def set_time(target: Timestamp, value: datetime | None) -> None:
    if value is not None:
        target.FromDatetime(value)


def unit(row: Any) -> common_pb2.Unit:
    return common_pb2.Unit(
        id=row["id"],
        name=row["name"],
        supervisor_id=row["supervisor_id"] or "",
        timezone=row["timezone"],
        default_calendar_id=row["default_calendar_id"] or "",
    )


def staff(row: Any) -> common_pb2.Staff:
    levels: dict[str, int] = row["skill_levels"]
    message = common_pb2.Staff(
        id=row["id"],
        unit_id=row["unit_id"],
        display_name=row["display_name"],
        role=ROLE[row["role"]],
        skills=[
            common_pb2.Skill(name=name, level=levels.get(name, 0))
            for name in row["skills"]
        ],
        wip_limit=row["wip_limit"],
        availability=AVAILABILITY[row["availability"]],
        availability_reason=row["availability_reason"],
        availability_source=AVAILABILITY_SOURCE[row["availability_source"]],
        hr_employee_id=row["hr_employee_id"] or "",
        escalates_to_id=row["escalates_to_id"] or "",
        active_assignments=row["active_count"],
    )
    set_time(message.unavailable_until, row["unavailable_until"])
    return message


def leave(row: Any) -> availability_pb2.Leave:
    message = availability_pb2.Leave(
        id=str(row["id"]),
        staff_id=row["staff_id"],
        reason=row["reason"],
        state=LEAVE_STATE[row["state"]],
        source=AVAILABILITY_SOURCE[row["source"]],
        hr_leave_id=row["hr_leave_id"] or "",
    )
    set_time(message.starts_at, row["starts_at"])
    set_time(message.ends_at, row["ends_at"])
    return message
