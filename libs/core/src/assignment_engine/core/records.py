"""Database rows shared by several services, as API messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from assignment_engine.api.v1 import common_pb2

WORK_ITEM_STATE = {
    "queued": common_pb2.WORK_ITEM_STATE_QUEUED,
    "assigned": common_pb2.WORK_ITEM_STATE_ASSIGNED,
    "completed": common_pb2.WORK_ITEM_STATE_COMPLETED,
    "cancelled": common_pb2.WORK_ITEM_STATE_CANCELLED,
}


def set_time(target: Timestamp, value: datetime | None) -> None:
    """Copy `value` into the Timestamp field `target`, leaving it unset for None."""
    if value is not None:
        target.FromDatetime(value)


def work_item(row: Any, id_column: str = "id") -> common_pb2.WorkItem:
    """Build a WorkItem from a row of work_items columns (id under `id_column`)."""
    message = common_pb2.WorkItem(
        id=str(row[id_column]),
        type=row["type"],
        external_id=row["external_id"],
        title=row["title"],
        required_skills=list(row["required_skills"]),
        target_unit_id=row["target_unit_id"] or "",
        priority=row["priority"],
        state=WORK_ITEM_STATE[row["state"]],
    )
    set_time(message.received_at, row["received_at"])
    return message
