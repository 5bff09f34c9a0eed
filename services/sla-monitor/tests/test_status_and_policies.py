"""GetSlaStatus, SetSlaPolicy and ListSlaPolicies over gRPC."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import common_pb2
from assignment_engine.api.v1 import sla_monitor_pb2 as pb

from .conftest import RunningMonitor, add_clock

# Slack for comparing `remaining` with a value computed in the test: the time
# between computing it and the server's clock reading.
REMAINING_TOLERANCE = timedelta(seconds=5)


@pytest.fixture
def restore_timezone() -> Iterator[None]:
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


async def status_of(monitor: RunningMonitor, work_item_id: object) -> pb.SlaStatus:
    response = await monitor.stub.GetSlaStatus(
        pb.GetSlaStatusRequest(work_item_id=str(work_item_id))
    )
    return response.status


def duration(seconds: int) -> Duration:
    return Duration(seconds=seconds)


async def test_status_states_of_running_clocks(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    on_track = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    warning = await add_clock(db, warning_in_s=-60, deadline_in_s=3600)
    breached = await add_clock(db, warning_in_s=-7200, deadline_in_s=-3600)

    on_track_status = await status_of(monitor, on_track)
    warning_status = await status_of(monitor, warning)
    breached_status = await status_of(monitor, breached)

    assert on_track_status.state == pb.SLA_STATE_ON_TRACK
    assert warning_status.state == pb.SLA_STATE_WARNING
    assert breached_status.state == pb.SLA_STATE_BREACHED
    on_track_remaining = on_track_status.remaining.ToTimedelta()
    breached_remaining = breached_status.remaining.ToTimedelta()
    assert abs(on_track_remaining - timedelta(hours=2)) < REMAINING_TOLERANCE
    assert abs(breached_remaining - timedelta(hours=-1)) < REMAINING_TOLERANCE


async def test_stopped_clock_status_met_or_missed(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    now = datetime.now(UTC)
    met = await add_clock(
        db,
        warning_in_s=60,
        deadline_in_s=120,
        stopped_at=now - timedelta(seconds=1),
    )
    missed = await add_clock(
        db,
        warning_in_s=-120,
        deadline_in_s=-60,
        stopped_at=now - timedelta(seconds=1),
    )

    met_status = await status_of(monitor, met)
    missed_status = await status_of(monitor, missed)

    assert met_status.state == pb.SLA_STATE_MET
    assert met_status.remaining.ToTimedelta() == timedelta(0)
    assert met_status.HasField("stopped_at")
    assert missed_status.state == pb.SLA_STATE_MISSED
    assert missed_status.remaining.ToTimedelta() == timedelta(0)


async def test_paused_clock_status_stops_at_pause(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    paused_since = datetime.now(UTC) - timedelta(minutes=10)
    paused = await add_clock(
        db, warning_in_s=60, deadline_in_s=3600, paused_since=paused_since
    )
    deadline = await db.fetchval("SELECT deadline FROM sla_clocks")

    status = await status_of(monitor, paused)

    assert status.state == pb.SLA_STATE_PAUSED
    assert status.remaining.ToTimedelta() == deadline - paused_since
    assert status.paused_since.ToDatetime(tzinfo=UTC) == paused_since


async def test_status_returns_stored_times(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    work_item_id = await add_clock(db, warning_in_s=60, deadline_in_s=120)
    clock = await db.fetchrow(
        "SELECT c.warning_at, c.deadline, c.resolution_target, w.received_at "
        "FROM sla_clocks c JOIN work_items w ON w.id = c.work_item_id"
    )

    status = await status_of(monitor, work_item_id)

    assert status.work_item_id == str(work_item_id)
    assert status.received_at.ToDatetime(tzinfo=UTC) == clock["received_at"]
    assert status.warning_at.ToDatetime(tzinfo=UTC) == clock["warning_at"]
    assert status.deadline.ToDatetime(tzinfo=UTC) == clock["deadline"]
    assert status.resolution_target.ToTimedelta() == clock["resolution_target"]
    assert not status.HasField("warned_at")
    assert not status.HasField("breached_at")
    assert not status.HasField("stopped_at")


async def test_status_ignores_client_timezone(
    db: asyncpg.Connection, monitor: RunningMonitor, restore_timezone: None
) -> None:
    riyadh = timezone(timedelta(hours=3))
    deadline = datetime.now(riyadh) + timedelta(hours=1)
    work_item_id = await add_clock(db, warning_in_s=60, deadline_in_s=3600)
    await db.execute("UPDATE sla_clocks SET deadline = $1", deadline)
    statuses = {}

    for name in ("Asia/Riyadh", "America/Los_Angeles", "Pacific/Kiritimati", "UTC"):
        os.environ["TZ"] = name
        time.tzset()
        statuses[name] = await status_of(monitor, work_item_id)

    remaining = [status.remaining.ToTimedelta() for status in statuses.values()]
    for name, status in statuses.items():
        assert status.deadline.ToDatetime(tzinfo=UTC) == deadline, name
    assert max(remaining) - min(remaining) < timedelta(seconds=1)
    assert abs(remaining[0] - timedelta(hours=1)) < REMAINING_TOLERANCE


async def test_status_without_clock_not_found(
    monitor: RunningMonitor,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await monitor.stub.GetSlaStatus(
            pb.GetSlaStatusRequest(work_item_id="00000000-0000-4000-8000-000000000000")
        )

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_set_policy_applies_defaults(monitor: RunningMonitor) -> None:
    request = pb.SetSlaPolicyRequest(
        policy=pb.SlaPolicy(
            work_item_type="incident",
            priority=common_pb2.PRIORITY_HIGH,
            resolution_target=duration(2 * 3600),
        )
    )

    response = await monitor.stub.SetSlaPolicy(request)

    assert response.policy.work_item_type == "incident"
    assert response.policy.priority == common_pb2.PRIORITY_HIGH
    assert response.policy.resolution_target.ToTimedelta() == timedelta(hours=2)
    assert response.policy.warning_fraction == 0.75
    assert response.policy.re_escalation_interval.ToTimedelta() == timedelta(hours=1)


async def test_set_policy_replaces_existing_policy(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    first = pb.SlaPolicy(
        work_item_type="incident",
        priority=common_pb2.PRIORITY_HIGH,
        resolution_target=duration(2 * 3600),
    )
    second = pb.SlaPolicy(
        work_item_type="incident",
        priority=common_pb2.PRIORITY_HIGH,
        resolution_target=duration(3 * 3600),
        warning_fraction=0.5,
        re_escalation_interval=duration(600),
    )
    await monitor.stub.SetSlaPolicy(pb.SetSlaPolicyRequest(policy=first))

    await monitor.stub.SetSlaPolicy(pb.SetSlaPolicyRequest(policy=second))

    row = await db.fetchrow(
        "SELECT count(*) OVER () AS copies, resolution_target, warning_fraction, "
        "re_escalation_interval FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert row["copies"] == 1
    assert row["resolution_target"] == timedelta(hours=3)
    assert row["warning_fraction"] == 0.5
    assert row["re_escalation_interval"] == timedelta(minutes=10)


async def test_set_policy_replaces_fallback(monitor: RunningMonitor) -> None:
    request = pb.SetSlaPolicyRequest(
        policy=pb.SlaPolicy(
            work_item_type="*",
            priority=common_pb2.PRIORITY_CRITICAL,
            resolution_target=duration(3600),
        )
    )

    await monitor.stub.SetSlaPolicy(request)

    listed = await monitor.stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())
    critical = [
        policy
        for policy in listed.policies
        if policy.work_item_type == "*"
        and policy.priority == common_pb2.PRIORITY_CRITICAL
    ]
    assert len(critical) == 1
    assert critical[0].resolution_target.ToTimedelta() == timedelta(hours=1)


async def test_list_policies_sorted_by_type_priority(
    monitor: RunningMonitor,
) -> None:
    for work_item_type, priority in [
        ("incident", common_pb2.PRIORITY_LOW),
        ("change", common_pb2.PRIORITY_HIGH),
        ("incident", common_pb2.PRIORITY_CRITICAL),
        ("Zeta", common_pb2.PRIORITY_MODERATE),
    ]:
        await monitor.stub.SetSlaPolicy(
            pb.SetSlaPolicyRequest(
                policy=pb.SlaPolicy(
                    work_item_type=work_item_type,
                    priority=priority,
                    resolution_target=duration(3600),
                )
            )
        )

    response = await monitor.stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())

    keys = [(policy.work_item_type, policy.priority) for policy in response.policies]
    assert keys == [
        ("*", common_pb2.PRIORITY_CRITICAL),
        ("*", common_pb2.PRIORITY_HIGH),
        ("*", common_pb2.PRIORITY_MODERATE),
        ("*", common_pb2.PRIORITY_LOW),
        ("Zeta", common_pb2.PRIORITY_MODERATE),
        ("change", common_pb2.PRIORITY_HIGH),
        ("incident", common_pb2.PRIORITY_CRITICAL),
        ("incident", common_pb2.PRIORITY_LOW),
    ]
