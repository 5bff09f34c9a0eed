"""Database rows to API messages, and the SLA state of a clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from assignment_engine.api.v1 import sla_monitor_pb2
from assignment_engine.core.calendars import BusinessCalendar, working_time_between
from assignment_engine.core.records import set_time

ESCALATION_REASON = {
    "sla_breach": sla_monitor_pb2.ESCALATION_REASON_SLA_BREACH,
    "sla_warning": sla_monitor_pb2.ESCALATION_REASON_SLA_WARNING,
    "re_escalation": sla_monitor_pb2.ESCALATION_REASON_RE_ESCALATION,
    "manual": sla_monitor_pb2.ESCALATION_REASON_MANUAL,
}
ESCALATION_STATE = {
    "open": sla_monitor_pb2.ESCALATION_STATE_OPEN,
    "acknowledged": sla_monitor_pb2.ESCALATION_STATE_ACKNOWLEDGED,
    "resolved": sla_monitor_pb2.ESCALATION_STATE_RESOLVED,
}
STATE_NAMES = {value: name for name, value in ESCALATION_STATE.items()}


def sla_state(
    row: Any, calendar: BusinessCalendar | None = None
) -> tuple[sla_monitor_pb2.SlaState.ValueType, timedelta]:
    """Return the state of a clock row and the working time remaining to its deadline.

    A stopped clock is MET when it stopped before its deadline, else MISSED, and
    has zero remaining. A paused clock is PAUSED. A running clock is compared
    with the database time in `row["now"]`. The remaining time counts only the
    working time of `calendar` (None for 24x7), and it is negative once the
    deadline has passed. A paused clock's remaining time is taken at its pause,
    because resuming moves the deadline out by the pause.
    """
    deadline: datetime = row["deadline"]
    stopped_at: datetime | None = row["stopped_at"]
    if stopped_at is not None:
        if stopped_at < deadline:
            return sla_monitor_pb2.SLA_STATE_MET, timedelta(0)
        return sla_monitor_pb2.SLA_STATE_MISSED, timedelta(0)
    # NOTE: the pause rule assumes that resuming a clock shifts warning_at and
    # deadline by the paused time; nothing in this service pauses or resumes.
    as_of: datetime = row["paused_since"] or row["now"]
    if as_of < deadline:
        remaining = working_time_between(calendar, as_of, deadline)
    else:
        remaining = -working_time_between(calendar, deadline, as_of)
    if row["paused_since"] is not None:
        return sla_monitor_pb2.SLA_STATE_PAUSED, remaining
    if as_of >= deadline:
        return sla_monitor_pb2.SLA_STATE_BREACHED, remaining
    if as_of >= row["warning_at"]:
        return sla_monitor_pb2.SLA_STATE_WARNING, remaining
    return sla_monitor_pb2.SLA_STATE_ON_TRACK, remaining


def elapsed(row: Any, calendar: BusinessCalendar | None = None) -> timedelta:
    """Return the working time a clock has run: from its start to when it stopped,
    paused or now, less the paused time, and never below zero."""
    until: datetime = row["stopped_at"] or row["paused_since"] or row["now"]
    worked = working_time_between(calendar, row["started_at"], until)
    return max(worked - row["paused_total"], timedelta(0))


def sla_status(
    row: Any, calendar: BusinessCalendar | None = None
) -> sla_monitor_pb2.SlaStatus:
    state, remaining = sla_state(row, calendar)
    message = sla_monitor_pb2.SlaStatus(
        work_item_id=str(row["work_item_id"]),
        state=state,
        calendar_id=row["calendar_id"] or "",
    )
    set_time(message.received_at, row["received_at"])
    set_time(message.warning_at, row["warning_at"])
    set_time(message.deadline, row["deadline"])
    message.remaining.FromTimedelta(remaining)
    set_time(message.warned_at, row["warned_at"])
    set_time(message.breached_at, row["breached_at"])
    set_time(message.stopped_at, row["stopped_at"])
    message.resolution_target.FromTimedelta(row["resolution_target"])
    set_time(message.paused_since, row["paused_since"])
    message.paused_total.FromTimedelta(row["paused_total"])
    message.elapsed.FromTimedelta(elapsed(row, calendar))
    return message


def policy(row: Any) -> sla_monitor_pb2.SlaPolicy:
    message = sla_monitor_pb2.SlaPolicy(
        work_item_type=row["work_item_type"],
        priority=row["priority"],
        warning_fraction=row["warning_fraction"],
        calendar_id=row["calendar_id"] or "",
    )
    message.resolution_target.FromTimedelta(row["resolution_target"])
    message.re_escalation_interval.FromTimedelta(row["re_escalation_interval"])
    return message


def escalation_state(row: Any) -> str:
    if row["resolved_at"] is not None:
        return "resolved"
    if row["acknowledged_at"] is not None:
        return "acknowledged"
    return "open"


def escalation(row: Any) -> sla_monitor_pb2.Escalation:
    message = sla_monitor_pb2.Escalation(
        id=str(row["id"]),
        work_item_id=str(row["work_item_id"]),
        assignment_id=str(row["assignment_id"]) if row["assignment_id"] else "",
        escalated_from_id=row["escalated_from_id"] or "",
        escalated_to_id=row["escalated_to_id"],
        reason=ESCALATION_REASON[row["reason"]],
        level=row["level"],
        state=ESCALATION_STATE[escalation_state(row)],
        notes=row["notes"],
    )
    set_time(message.escalated_at, row["escalated_at"])
    set_time(message.acknowledged_at, row["acknowledged_at"])
    set_time(message.resolved_at, row["resolved_at"])
    return message


def calendar(row: Any) -> sla_monitor_pb2.BusinessCalendar:
    """Build a BusinessCalendar from a business_calendars row (decoded jsonb)."""
    return sla_monitor_pb2.BusinessCalendar(
        id=row["id"],
        timezone=row["timezone"],
        hours=[
            sla_monitor_pb2.WorkingHours(
                weekday=entry["weekday"], start=entry["start"], end=entry["end"]
            )
            for entry in row["hours"]
        ],
        holidays=[
            sla_monitor_pb2.HolidayRange(
                first=entry["first"], last=entry["last"], name=entry.get("name", "")
            )
            for entry in row["holidays"]
        ],
    )


def unit_capacity(row: Any) -> sla_monitor_pb2.UnitCapacity:
    """Build a UnitCapacity from a row of unit_capacity or capacity_snapshots."""
    return sla_monitor_pb2.UnitCapacity(
        unit_id=row["unit_id"],
        staff=row["staff"],
        available_staff=row["available_staff"],
        wip_capacity=row["wip_capacity"],
        active_assignments=row["active_assignments"],
        utilisation=row["utilisation"],
        queue_length=row["queue_length"],
    )


def capacity_snapshot(row: Any) -> sla_monitor_pb2.CapacitySnapshot:
    day: date = row["day"]
    message = sla_monitor_pb2.CapacitySnapshot(
        day=day.isoformat(),
        capacity=unit_capacity(row),
        warnings=row["warnings"],
        breaches=row["breaches"],
    )
    set_time(message.recorded_at, row["recorded_at"])
    return message
