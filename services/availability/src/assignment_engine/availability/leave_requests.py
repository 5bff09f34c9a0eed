"""Validation of the leave and HR event requests; each check names the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assignment_engine.api.v1 import availability_pb2
from assignment_engine.availability import convert
from assignment_engine.availability.hr_events import LEAVE_APPROVED, HrEvent
from assignment_engine.core import validation
from assignment_engine.core.errors import InvalidArgument

MAX_REASON_LENGTH = 500
MAX_HR_ID_LENGTH = 128
# How far in the future an HR event time may be. A later time would make every
# following event for the leave stale, so it is taken as a clock error.
MAX_EVENT_TIME_AHEAD = timedelta(hours=1)
HR_EVENT_TYPE_NAMES = {
    value: name for name, value in availability_pb2.HrEventType.items()
}


@dataclass(frozen=True)
class LeaveRequest:
    staff_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str


def require_timestamp(
    field: str, message: object, name: str, *, max_future: timedelta | None = None
) -> datetime:
    instant = validation.optional_timestamp(field, message, name, max_future=max_future)
    if instant is None:
        raise InvalidArgument(field, "", "a required timestamp")
    return instant


def require_after(
    field: str, ends_at: datetime, start_field: str, starts_at: datetime
) -> None:
    if ends_at <= starts_at:
        raise InvalidArgument(
            field,
            ends_at.isoformat(),
            f"a time after {start_field} ({starts_at.isoformat()})",
        )


def parse_schedule_leave(
    request: availability_pb2.ScheduleLeaveRequest,
) -> LeaveRequest:
    staff_id = validation.require_id("staff_id", request.staff_id)
    starts_at = require_timestamp("starts_at", request, "starts_at")
    ends_at = require_timestamp("ends_at", request, "ends_at")
    require_after("ends_at", ends_at, "starts_at", starts_at)
    if ends_at <= datetime.now(UTC):
        raise InvalidArgument("ends_at", ends_at.isoformat(), "a time in the future")
    reason = validation.optional_text(
        "reason", request.reason, max_length=MAX_REASON_LENGTH
    )
    return LeaveRequest(staff_id, starts_at, ends_at, reason)


def parse_hr_event(request: availability_pb2.RecordHrEventRequest) -> HrEvent:
    """Validate a RecordHrEvent request.

    leave_id is required for LEAVE_APPROVED and LEAVE_CANCELLED, and optional for
    EMPLOYEE_RETURNED. starts_at and ends_at are required for LEAVE_APPROVED and
    ignored otherwise.
    """
    delivery_id = validation.require_text(
        "delivery_id", request.delivery_id, max_length=MAX_HR_ID_LENGTH
    )
    event_type = convert.HR_EVENT_TYPE_NAMES[
        validation.require_enum(
            "type", request.type, convert.HR_EVENT_TYPE_NAMES, HR_EVENT_TYPE_NAMES
        )
    ]
    employee_id = validation.require_text(
        "employee_id", request.employee_id, max_length=MAX_HR_ID_LENGTH
    )
    if event_type == "employee_returned":
        leave_id = validation.optional_text(
            "leave_id", request.leave_id, max_length=MAX_HR_ID_LENGTH
        )
    else:
        leave_id = validation.require_text(
            "leave_id", request.leave_id, max_length=MAX_HR_ID_LENGTH
        )
    starts_at = ends_at = None
    if event_type == LEAVE_APPROVED:
        starts_at = require_timestamp("starts_at", request, "starts_at")
        ends_at = require_timestamp("ends_at", request, "ends_at")
        require_after("ends_at", ends_at, "starts_at", starts_at)
    reason = validation.optional_text(
        "reason", request.reason, max_length=MAX_REASON_LENGTH
    )
    event_time = require_timestamp(
        "event_time", request, "event_time", max_future=MAX_EVENT_TIME_AHEAD
    )
    if request.version < 0:
        raise InvalidArgument("version", request.version, "0 or a positive version")
    return HrEvent(
        delivery_id=delivery_id,
        type=event_type,
        employee_id=employee_id,
        leave_id=leave_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        event_time=event_time,
        version=request.version,
    )
