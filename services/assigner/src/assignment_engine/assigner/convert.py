"""Database rows to API messages."""

from __future__ import annotations

from typing import Any

from assignment_engine.api.v1 import assigner_pb2, common_pb2
from assignment_engine.core.records import set_time, work_item

ASSIGNMENT_STATUS = {
    "assigned": common_pb2.ASSIGNMENT_STATUS_ASSIGNED,
    "in_progress": common_pb2.ASSIGNMENT_STATUS_IN_PROGRESS,
    "on_hold": common_pb2.ASSIGNMENT_STATUS_ON_HOLD,
    "completed": common_pb2.ASSIGNMENT_STATUS_COMPLETED,
    "cancelled": common_pb2.ASSIGNMENT_STATUS_CANCELLED,
}
STATUS_NAMES = {value: name for name, value in ASSIGNMENT_STATUS.items()}
DECISION_KIND = {
    "assigned": assigner_pb2.DECISION_KIND_ASSIGNED,
    "queued": assigner_pb2.DECISION_KIND_QUEUED,
    "assigned_from_queue": assigner_pb2.DECISION_KIND_ASSIGNED_FROM_QUEUE,
    "reassigned": assigner_pb2.DECISION_KIND_REASSIGNED,
}


def assignment(row: Any) -> common_pb2.Assignment:
    message = common_pb2.Assignment(
        id=str(row["id"]),
        work_item=work_item(row, "work_item_id"),
        assignee_id=row["assignee_id"],
        status=ASSIGNMENT_STATUS[row["status"]],
        score=row["score"],
    )
    set_time(message.assigned_at, row["assigned_at"])
    set_time(message.started_at, row["started_at"])
    set_time(message.ended_at, row["ended_at"])
    set_time(message.sla_deadline, row["deadline"])
    return message


def breakdown(entry: dict[str, Any]) -> common_pb2.ScoreBreakdown:
    return common_pb2.ScoreBreakdown(
        staff_id=entry["staff_id"],
        skills=entry["skills"],
        capacity=entry["capacity"],
        availability=entry["availability"],
        unit=entry["unit"],
        total=entry["total"],
        matched_skills=entry["matched_skills"],
        active_assignments=entry["active_assignments"],
        wip_limit=entry["wip_limit"],
        rank=entry["rank"],
    )


def decision(row: Any) -> assigner_pb2.Decision:
    message = assigner_pb2.Decision(
        kind=DECISION_KIND[row["kind"]],
        assignment_id=str(row["assignment_id"]) if row["assignment_id"] else "",
        candidates=[breakdown(entry) for entry in row["candidates"]],
        actor=row["actor"],
        reason=row["reason"],
    )
    set_time(message.decided_at, row["decided_at"])
    return message
