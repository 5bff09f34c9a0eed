"""SLA clocks through hold, resume, completion from hold, and business calendars."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import assigner_pb2 as pb
from assignment_engine.api.v1 import common_pb2, sla_monitor_pb2
from assignment_engine.devstack import seeding

from .conftest import Engine

SHIFT_CLOCK = """
UPDATE sla_clocks
SET started_at = started_at - $2::interval, warning_at = warning_at - $2::interval,
    deadline = deadline - $2::interval, paused_since = paused_since - $2::interval
WHERE work_item_id = $1
"""


async def submit(
    engine: Engine,
    external_id: str,
    received_at: datetime,
    priority: int = common_pb2.PRIORITY_HIGH,
) -> pb.SubmitWorkItemResponse:
    request = pb.SubmitWorkItemRequest(
        type="incident",
        external_id=external_id,
        required_skills=["network"],
        priority=priority,
    )  # type: ignore[arg-type]
    request.received_at.FromDatetime(received_at)
    return await engine.assigner.SubmitWorkItem(request)


async def status(engine: Engine, work_item_id: str) -> sla_monitor_pb2.SlaStatus:
    reply = await engine.sla_monitor.GetSlaStatus(
        sla_monitor_pb2.GetSlaStatusRequest(work_item_id=work_item_id)
    )
    return reply.status


async def organisation(db: asyncpg.Connection) -> None:
    await seeding.add_unit(db, "desk")
    await seeding.add_staff(db, "ana", "desk", skills=["network"], wip_limit=5)


async def test_pause__completed_from_hold_counts_only_active_time(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await organisation(db)
    await seeding.set_policy(db, "incident", 2, 8 * 3600)
    submitted = await submit(
        full_engine, "INC1", datetime.now(UTC) - timedelta(hours=2)
    )
    await full_engine.assigner.HoldAssignment(
        pb.HoldAssignmentRequest(
            assignment_id=submitted.assignment.id, reason="waiting on requester"
        )
    )
    # Four days on hold, as if the hold had started four days ago.
    await db.execute(SHIFT_CLOCK, submitted.work_item.id, timedelta(days=4))

    done = await full_engine.assigner.CompleteAssignment(
        pb.CompleteAssignmentRequest(assignment_id=submitted.assignment.id)
    )
    clock = await status(full_engine, submitted.work_item.id)
    await asyncio.sleep(0.5)

    assert done.assignment.status == common_pb2.ASSIGNMENT_STATUS_COMPLETED
    assert clock.state == sla_monitor_pb2.SLA_STATE_MET
    assert abs(clock.elapsed.ToTimedelta() - timedelta(hours=2)) < timedelta(seconds=30)
    assert (
        await db.fetchval(
            "SELECT warned_at IS NULL AND breached_at IS NULL FROM sla_clocks"
        )
        is True
    )
    assert await db.fetchval("SELECT count(*) FROM escalation_events") == 0


async def test_pause__returned_to_queue_after_ten_hours_has_three_hours_left(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await organisation(db)
    await seeding.set_policy(db, "incident", 2, 4 * 3600)
    submitted = await submit(
        full_engine, "INC1", datetime.now(UTC) - timedelta(hours=1)
    )
    await full_engine.assigner.HoldAssignment(
        pb.HoldAssignmentRequest(assignment_id=submitted.assignment.id)
    )
    await db.execute(SHIFT_CLOCK, submitted.work_item.id, timedelta(hours=10))

    returned = await full_engine.assigner.ReturnToQueue(
        pb.ReturnToQueueRequest(
            assignment_id=submitted.assignment.id, reason="needs a specialist"
        )
    )
    now = datetime.now(UTC)
    clock = await db.fetchrow(
        "SELECT warning_at, deadline, breached_at, paused_since FROM sla_clocks"
    )

    assert returned.assignment.status == common_pb2.ASSIGNMENT_STATUS_CANCELLED
    assert clock["breached_at"] is None
    assert clock["paused_since"] is None
    assert abs((clock["deadline"] - now) - timedelta(hours=3)) < timedelta(seconds=30)
    assert abs((clock["warning_at"] - now) - timedelta(hours=2)) < timedelta(seconds=30)


async def test_pause__nothing_fires_while_on_hold_and_warning_follows_resume(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await organisation(db)
    await seeding.set_policy(db, "incident", 1, 4.0)
    submitted = await submit(
        full_engine, "INC1", datetime.now(UTC), common_pb2.PRIORITY_CRITICAL
    )
    await full_engine.assigner.HoldAssignment(
        pb.HoldAssignmentRequest(assignment_id=submitted.assignment.id)
    )

    await asyncio.sleep(5.0)
    fired_while_paused = await db.fetchval(
        "SELECT warned_at IS NOT NULL OR breached_at IS NOT NULL FROM sla_clocks"
    )
    paused = await status(full_engine, submitted.work_item.id)
    await full_engine.assigner.ResumeAssignment(
        pb.ResumeAssignmentRequest(assignment_id=submitted.assignment.id)
    )
    deadline = time.monotonic() + 10
    while (
        await db.fetchval("SELECT warned_at FROM sla_clocks") is None
        and time.monotonic() < deadline
    ):
        await asyncio.sleep(0.05)

    assert fired_while_paused is False
    assert paused.state == sla_monitor_pb2.SLA_STATE_PAUSED
    assert await db.fetchval("SELECT warned_at IS NOT NULL FROM sla_clocks") is True
    assert (
        await db.fetchval("SELECT paused_total >= interval '4 seconds' FROM sla_clocks")
        is True
    )


async def test_calendar__riyadh_thursday_item_is_due_monday_after_sunday_holiday(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await organisation(db)
    calendar = sla_monitor_pb2.BusinessCalendar(
        id="riyadh-office",
        timezone="Asia/Riyadh",
        hours=[
            sla_monitor_pb2.WorkingHours(weekday=day, start="08:00", end="16:00")
            for day in (7, 1, 2, 3, 4)
        ],
        holidays=[
            sla_monitor_pb2.HolidayRange(
                first="2025-06-15", last="2025-06-15", name="holiday"
            )
        ],
    )
    await full_engine.sla_monitor.SetCalendar(
        sla_monitor_pb2.SetCalendarRequest(calendar=calendar)
    )
    target = Duration()
    target.FromTimedelta(timedelta(hours=3))
    await full_engine.sla_monitor.SetSlaPolicy(
        sla_monitor_pb2.SetSlaPolicyRequest(
            policy=sla_monitor_pb2.SlaPolicy(
                work_item_type="incident",
                priority=2,
                resolution_target=target,
                calendar_id="riyadh-office",
            )  # type: ignore[arg-type]
        )
    )
    riyadh = ZoneInfo("Asia/Riyadh")

    submitted = await submit(
        full_engine, "INC1", datetime(2025, 6, 12, 15, 0, tzinfo=riyadh)
    )

    assert submitted.sla_deadline.ToDatetime(tzinfo=UTC).astimezone(riyadh) == datetime(
        2025, 6, 16, 10, 0, tzinfo=riyadh
    )
    assert await db.fetchval("SELECT calendar_id FROM sla_clocks") == "riyadh-office"


async def test_calendar__unit_default_applies_when_policy_names_none(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    await organisation(db)
    calendar = sla_monitor_pb2.BusinessCalendar(
        id="london-office",
        timezone="Europe/London",
        hours=[
            sla_monitor_pb2.WorkingHours(weekday=day, start="09:00", end="17:00")
            for day in range(1, 6)
        ],
    )
    await full_engine.sla_monitor.SetCalendar(
        sla_monitor_pb2.SetCalendarRequest(calendar=calendar)
    )
    await db.execute(
        "UPDATE units SET default_calendar_id = 'london-office' WHERE id = 'desk'"
    )
    await seeding.set_policy(db, "incident", 2, 2 * 3600)
    london = ZoneInfo("Europe/London")
    request = pb.SubmitWorkItemRequest(
        type="incident",
        external_id="INC1",
        required_skills=["network"],
        target_unit_id="desk",
        priority=2,
    )  # type: ignore[arg-type]
    request.received_at.FromDatetime(datetime(2025, 6, 13, 16, 15, tzinfo=london))

    submitted = await full_engine.assigner.SubmitWorkItem(request)

    assert submitted.sla_deadline.ToDatetime(tzinfo=UTC).astimezone(london) == datetime(
        2025, 6, 16, 10, 15, tzinfo=london
    )


async def test_calendar__unit_default_is_set_through_availability(
    db: asyncpg.Connection, full_engine: Engine
) -> None:
    from assignment_engine.api.v1 import availability_pb2

    calendar = sla_monitor_pb2.BusinessCalendar(
        id="desk-hours",
        timezone="UTC",
        hours=[sla_monitor_pb2.WorkingHours(weekday=1, start="09:00", end="17:00")],
    )
    await full_engine.sla_monitor.SetCalendar(
        sla_monitor_pb2.SetCalendarRequest(calendar=calendar)
    )

    saved = await full_engine.availability.UpsertUnit(
        availability_pb2.UpsertUnitRequest(
            unit=common_pb2.Unit(
                id="desk", name="Desk", default_calendar_id="desk-hours"
            )
        )
    )
    units = await full_engine.availability.ListUnits(
        availability_pb2.ListUnitsRequest()
    )

    assert saved.unit.default_calendar_id == "desk-hours"
    assert [u.default_calendar_id for u in units.units if u.id == "desk"] == [
        "desk-hours"
    ]
    assert (
        await db.fetchval("SELECT default_calendar_id FROM units WHERE id = 'desk'")
        == "desk-hours"
    )


async def test_calendar__unknown_unit_default_is_not_found(full_engine: Engine) -> None:
    import grpc
    import pytest

    from assignment_engine.api.v1 import availability_pb2

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await full_engine.availability.UpsertUnit(
            availability_pb2.UpsertUnitRequest(
                unit=common_pb2.Unit(id="desk", name="Desk", default_calendar_id="nope")
            )
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "unit.default_calendar_id" in (raised.value.details() or "")
