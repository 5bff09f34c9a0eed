"""The JSON body of an HR delivery, parsed into a RecordHrEvent request.

The body is a JSON object with these fields:

- `type`: "leave.approved", "leave.cancelled" or "employee.returned".
- `employee_id` and `event_time`: required for every type.
- `leave_id`: required for leave.approved and leave.cancelled.
- `starts_at` and `ends_at`: required for leave.approved.
- `reason` and `version`: optional.

Times are RFC 3339 strings with an offset. A null counts as a missing field, and
unknown fields are ignored.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from assignment_engine.api.v1 import availability_pb2

EVENT_TYPES = {
    "leave.approved": availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED,
    "leave.cancelled": availability_pb2.HR_EVENT_TYPE_LEAVE_CANCELLED,
    "employee.returned": availability_pb2.HR_EVENT_TYPE_EMPLOYEE_RETURNED,
}
MAX_ID_LENGTH = 128
MAX_REASON_LENGTH = 500
MAX_VERSION = 2**63 - 1
# The years RecordHrEvent accepts.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2199
RFC3339_PATTERN = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


class PayloadError(Exception):
    """A body that is not JSON, or a field that is missing or has the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_event(delivery_id: str, body: bytes) -> availability_pb2.RecordHrEventRequest:
    """Build the RecordHrEvent request of a delivery; raise PayloadError if invalid."""
    document = _decode(body)
    type_name = _required(document, "type", str)
    if type_name not in EVENT_TYPES:
        raise PayloadError(
            "type",
            f"type is invalid; expected one of {', '.join(EVENT_TYPES)}, "
            f"got {_shown(type_name)}",
        )
    event_type = EVENT_TYPES[type_name]
    request = availability_pb2.RecordHrEventRequest(
        delivery_id=delivery_id,
        type=event_type,
        employee_id=_identifier(document, "employee_id", required=True),
        leave_id=_identifier(
            document,
            "leave_id",
            required=event_type != availability_pb2.HR_EVENT_TYPE_EMPLOYEE_RETURNED,
        ),
        reason=_reason(document),
        version=_version(document),
    )
    request.event_time.FromDatetime(_time(document, "event_time"))
    if event_type == availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED:
        starts_at = _time(document, "starts_at")
        ends_at = _time(document, "ends_at")
        if ends_at <= starts_at:
            raise PayloadError(
                "ends_at", "ends_at is invalid; expected a time after starts_at"
            )
        request.starts_at.FromDatetime(starts_at)
        request.ends_at.FromDatetime(ends_at)
    return request


def _decode(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers invalid JSON, invalid UTF-8 and integers too long to
        # convert; RecursionError covers deeply nested arrays.
        raise PayloadError("body", "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise PayloadError("body", "the body is invalid; expected a JSON object")
    return document


def _required(document: dict[str, Any], field: str, kind: type) -> Any:
    value = document.get(field)
    if value is None:
        raise PayloadError(field, f"{field} is missing")
    # bool is a subclass of int, but true is no version.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PayloadError(field, f"{field} is invalid; expected a {_kind_name(kind)}")
    return value


def _identifier(document: dict[str, Any], field: str, *, required: bool) -> str:
    if not required and document.get(field) is None:
        return ""
    value: str = _required(document, field, str)
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise PayloadError(
            field,
            f"{field} is invalid; expected 1 to {MAX_ID_LENGTH} printable characters",
        )
    return value


def _reason(document: dict[str, Any]) -> str:
    if document.get("reason") is None:
        return ""
    value: str = _required(document, "reason", str)
    if len(value) > MAX_REASON_LENGTH or not value.isprintable():
        raise PayloadError(
            "reason",
            f"reason is invalid; expected at most {MAX_REASON_LENGTH} printable characters",
        )
    return value


def _version(document: dict[str, Any]) -> int:
    if document.get("version") is None:
        return 0
    value: int = _required(document, "version", int)
    if not 0 <= value <= MAX_VERSION:
        raise PayloadError(
            "version",
            f"version is invalid; expected an integer from 0 to {MAX_VERSION}",
        )
    return value


def _time(document: dict[str, Any], field: str) -> datetime:
    value: str = _required(document, field, str)
    expected = (
        f"{field} is invalid; expected an RFC 3339 time such as 2030-01-31T09:00:00Z"
    )
    if not RFC3339_PATTERN.match(value):
        raise PayloadError(field, expected)
    try:
        instant = datetime.fromisoformat(value.upper())
    except ValueError:
        raise PayloadError(field, expected) from None
    in_range = EARLIEST_YEAR <= instant.year <= LATEST_YEAR
    # Checked before the conversion to UTC, which overflows near years 1 and 9999.
    if in_range:
        instant = instant.astimezone(UTC)
        in_range = EARLIEST_YEAR <= instant.year <= LATEST_YEAR
    if not in_range:
        raise PayloadError(
            field,
            f"{field} is invalid; expected a time from {EARLIEST_YEAR} to {LATEST_YEAR}",
        )
    return instant


def _kind_name(kind: type) -> str:
    return {str: "string", int: "integer"}.get(kind, kind.__name__)


def _shown(value: str) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
