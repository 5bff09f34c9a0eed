"""Every RPC rejects a missing or malformed field with INVALID_ARGUMENT naming it."""

from __future__ import annotations

import base64
import json
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message

from assignment_engine.api.v1 import common_pb2
from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.core import paging

from .conftest import RunningMonitor

DAY_S = 24 * 3600
VALID_UUID = "00000000-0000-4000-8000-000000000000"


def policy(**overrides: Any) -> pb.SetSlaPolicyRequest:
    fields: dict[str, Any] = {
        "work_item_type": "incident",
        "priority": common_pb2.PRIORITY_HIGH,
        "resolution_target": Duration(seconds=3600),
    }
    fields.update(overrides)
    return pb.SetSlaPolicyRequest(
        policy=pb.SlaPolicy(**{k: v for k, v in fields.items() if v is not None})
    )


def raw_token(parts: list[Any]) -> str:
    encoded = json.dumps(parts).encode()
    return base64.urlsafe_b64encode(encoded).decode().rstrip("=")


CASES: list[Any] = [
    # GetSlaStatus
    ("GetSlaStatus", pb.GetSlaStatusRequest(), "work_item_id"),
    ("GetSlaStatus", pb.GetSlaStatusRequest(work_item_id="INC-1"), "work_item_id"),
    # SetSlaPolicy
    ("SetSlaPolicy", pb.SetSlaPolicyRequest(), "policy"),
    ("SetSlaPolicy", policy(work_item_type=""), "policy.work_item_type"),
    ("SetSlaPolicy", policy(work_item_type="**"), "policy.work_item_type"),
    ("SetSlaPolicy", policy(work_item_type="bad type"), "policy.work_item_type"),
    ("SetSlaPolicy", policy(work_item_type="x" * 65), "policy.work_item_type"),
    ("SetSlaPolicy", policy(priority=None), "policy.priority"),
    ("SetSlaPolicy", policy(priority=9), "policy.priority"),
    ("SetSlaPolicy", policy(resolution_target=None), "policy.resolution_target"),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(nanos=500_000_000)),
        "policy.resolution_target",
    ),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(seconds=365 * DAY_S, nanos=1000)),
        "policy.resolution_target",
    ),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(seconds=-3600)),
        "policy.resolution_target",
    ),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(seconds=3600, nanos=-1)),
        "policy.resolution_target",
    ),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(seconds=3600, nanos=1_000_000_000)),
        "policy.resolution_target",
    ),
    (
        "SetSlaPolicy",
        policy(resolution_target=Duration(seconds=2**62)),
        "policy.resolution_target",
    ),
    ("SetSlaPolicy", policy(warning_fraction=1.0), "policy.warning_fraction"),
    ("SetSlaPolicy", policy(warning_fraction=-0.25), "policy.warning_fraction"),
    ("SetSlaPolicy", policy(warning_fraction=1.5), "policy.warning_fraction"),
    ("SetSlaPolicy", policy(warning_fraction=float("nan")), "policy.warning_fraction"),
    ("SetSlaPolicy", policy(warning_fraction=float("inf")), "policy.warning_fraction"),
    (
        "SetSlaPolicy",
        policy(re_escalation_interval=Duration(nanos=500_000_000)),
        "policy.re_escalation_interval",
    ),
    (
        "SetSlaPolicy",
        policy(re_escalation_interval=Duration(seconds=31 * DAY_S)),
        "policy.re_escalation_interval",
    ),
    (
        "SetSlaPolicy",
        policy(re_escalation_interval=Duration(seconds=-60)),
        "policy.re_escalation_interval",
    ),
    (
        "SetSlaPolicy",
        policy(re_escalation_interval=Duration(nanos=-5)),
        "policy.re_escalation_interval",
    ),
    ("SetSlaPolicy", policy(calendar_id="bad id"), "policy.calendar_id"),
    ("SetSlaPolicy", policy(calendar_id="-office"), "policy.calendar_id"),
    # SetCalendar: the full table of calendar fields is in test_calendars.py.
    ("SetCalendar", pb.SetCalendarRequest(), "calendar"),
    (
        "SetCalendar",
        pb.SetCalendarRequest(calendar=pb.BusinessCalendar(timezone="UTC")),
        "calendar.id",
    ),
    # GetCapacity
    ("GetCapacity", pb.GetCapacityRequest(unit_id="no such unit"), "unit_id"),
    ("GetCapacity", pb.GetCapacityRequest(from_day="2026-01-01"), "to_day"),
    ("GetCapacity", pb.GetCapacityRequest(to_day="2026-01-01"), "from_day"),
    (
        "GetCapacity",
        pb.GetCapacityRequest(from_day="2026-1-1", to_day="2026-01-02"),
        "from_day",
    ),
    (
        "GetCapacity",
        pb.GetCapacityRequest(from_day="20260101", to_day="2026-01-02"),
        "from_day",
    ),
    (
        "GetCapacity",
        pb.GetCapacityRequest(from_day="2026-01-01", to_day="2026-02-30"),
        "to_day",
    ),
    (
        "GetCapacity",
        pb.GetCapacityRequest(from_day="2026-03-02", to_day="2026-03-01"),
        "to_day",
    ),
    (
        "GetCapacity",
        pb.GetCapacityRequest(from_day="2026-01-01", to_day="2027-01-03"),
        "to_day",
    ),
    # ListEscalations
    ("ListEscalations", pb.ListEscalationsRequest(recipient_id="a b"), "recipient_id"),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(states=[pb.ESCALATION_STATE_UNSPECIFIED]),
        "states[0]",
    ),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(states=[pb.ESCALATION_STATE_OPEN, 7]),  # type: ignore[list-item]
        "states[1]",
    ),
    ("ListEscalations", pb.ListEscalationsRequest(work_item_id="x"), "work_item_id"),
    ("ListEscalations", pb.ListEscalationsRequest(page_size=-1), "page_size"),
    ("ListEscalations", pb.ListEscalationsRequest(page_size=1001), "page_size"),
    ("ListEscalations", pb.ListEscalationsRequest(page_token="%%%"), "page_token"),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(
            page_token=paging.encode_token("assignments", [0, VALID_UUID])
        ),
        "page_token",
    ),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(
            page_token=raw_token(["escalations", 10**20, VALID_UUID])
        ),
        "page_token",
    ),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(
            page_token=raw_token(["escalations", "soon", VALID_UUID])
        ),
        "page_token",
    ),
    (
        "ListEscalations",
        pb.ListEscalationsRequest(page_token=raw_token(["escalations", 0, "nope"])),
        "page_token",
    ),
    # AcknowledgeEscalation
    ("AcknowledgeEscalation", pb.AcknowledgeEscalationRequest(), "escalation_id"),
    (
        "AcknowledgeEscalation",
        pb.AcknowledgeEscalationRequest(escalation_id="E-1"),
        "escalation_id",
    ),
    (
        "AcknowledgeEscalation",
        pb.AcknowledgeEscalationRequest(escalation_id=VALID_UUID, note="n" * 2001),
        "note",
    ),
    (
        "AcknowledgeEscalation",
        pb.AcknowledgeEscalationRequest(escalation_id=VALID_UUID, note="a\x00b"),
        "note",
    ),
    # ResolveEscalation
    ("ResolveEscalation", pb.ResolveEscalationRequest(), "escalation_id"),
    (
        "ResolveEscalation",
        pb.ResolveEscalationRequest(escalation_id="E-1"),
        "escalation_id",
    ),
    (
        "ResolveEscalation",
        pb.ResolveEscalationRequest(escalation_id=VALID_UUID, note="n" * 2001),
        "note",
    ),
    (
        "ResolveEscalation",
        pb.ResolveEscalationRequest(escalation_id=VALID_UUID, note="\x1b[31m"),
        "note",
    ),
]


@pytest.mark.parametrize(
    ("method", "request_message", "field"),
    CASES,
    ids=[f"{method}-{field}-{index}" for index, (method, _, field) in enumerate(CASES)],
)
async def test_malformed_field_is_invalid_argument(
    monitor: RunningMonitor, method: str, request_message: Message, field: str
) -> None:
    call = getattr(monitor.stub, method)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(request_message)

    details = caught.value.details() or ""
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, details
    assert details.startswith(f"{field}="), details


async def test_malformed_policy_changes_nothing(monitor: RunningMonitor) -> None:
    before = await monitor.stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())

    with pytest.raises(grpc.aio.AioRpcError):
        await monitor.stub.SetSlaPolicy(policy(warning_fraction=2.0))

    after = await monitor.stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())
    assert list(after.policies) == list(before.policies)
