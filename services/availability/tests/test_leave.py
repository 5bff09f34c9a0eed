"""ScheduleLeave, CancelLeave, ListLeave and the leave timer against a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import availability_pb2, common_pb2, events_pb2
from assignment_engine.availability import app
from assignment_engine.core import subjects
from assignment_engine.core.runtime import ServiceRuntime

from .conftest import (
    Stub,
    eventually,
    make_settings,
    outbox_events,
    timestamp,
)

pytestmark = pytest.mark.usefixtures("organisation")

ON_LEAVE = common_pb2.AVAILABILITY_STATUS_ON_LEAVE
AVAILABLE = common_pb2.AVAILABILITY_STATUS_AVAILABLE
# Leave in the timer tests starts this far ahead, so ScheduleLeave returns
# before the timer may start it.
START_AHEAD = timedelta(seconds=1.5)
DURATION = timedelta(seconds=1.5)
# Bound of each wait for the timer: its longest sleep is 1 s.
TIMER_WAIT_S = 10.0


async def schedule(
    stub: Stub,
    staff_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "holiday",
) -> availability_pb2.Leave:
    response = await stub.ScheduleLeave(
        availability_pb2.ScheduleLeaveRequest(
            staff_id=staff_id,
            starts_at=timestamp(starts_at),
            ends_at=timestamp(ends_at),
            reason=reason,
        )
    )
    return response.leave


async def availability(database: asyncpg.Connection, staff_id: str) -> str:
    return await database.fetchval(
        "SELECT availability FROM staff WHERE id = $1", staff_id
    )


async def leave_state(database: asyncpg.Connection, leave_id: str) -> str:
    return await database.fetchval(
        "SELECT state FROM leave_periods WHERE id = $1::uuid", leave_id
    )


async def changed_events(
    database: asyncpg.Connection,
) -> list[events_pb2.AvailabilityChanged]:
    rows = await outbox_events(database, subjects.AVAILABILITY_CHANGED)
    return [events_pb2.AvailabilityChanged.FromString(row["payload"]) for row in rows]


async def freed_events(database: asyncpg.Connection) -> list[events_pb2.CapacityFreed]:
    rows = await outbox_events(database, subjects.CAPACITY_FREED)
    return [events_pb2.CapacityFreed.FromString(row["payload"]) for row in rows]


async def make_due(database: asyncpg.Connection, leave_id: str) -> None:
    """Move an active leave's end into the past, so the timer ends it."""
    await database.execute(
        "UPDATE leave_periods SET starts_at = now() - interval '2 minutes',"
        " ends_at = now() - interval '1 second' WHERE id = $1::uuid",
        leave_id,
    )


# ScheduleLeave ------------------------------------------------------------------


async def test_schedule_leave__future_leave_waits(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)

    leave = await schedule(
        stub, "ned", now + timedelta(days=1), now + timedelta(days=3)
    )

    assert leave.state == availability_pb2.LEAVE_STATE_SCHEDULED
    assert leave.staff_id == "ned"
    assert leave.reason == "holiday"
    assert leave.hr_leave_id == ""
    assert await availability(database, "ned") == "available"
    assert await changed_events(database) == []


async def test_schedule_leave__started_leave_takes_effect_at_once(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    ends_at = (now + timedelta(hours=4)).replace(microsecond=0)

    leave = await schedule(
        stub, "ned", now - timedelta(hours=1), ends_at, reason="doctor"
    )

    assert leave.state == availability_pb2.LEAVE_STATE_ACTIVE
    staff = await stub.GetStaff(availability_pb2.GetStaffRequest(staff_id="ned"))
    assert staff.staff.availability == ON_LEAVE
    assert staff.staff.availability_reason == "doctor"
    assert staff.staff.unavailable_until == timestamp(ends_at)
    changed = await changed_events(database)
    assert [(e.previous, e.current) for e in changed] == [(AVAILABLE, ON_LEAVE)]


async def test_schedule_leave__unknown_staff_is_not_found(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await schedule(stub, "nobody", now, now + timedelta(days=1))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert await database.fetchval("SELECT count(*) FROM leave_periods") == 0


async def test_leave__starts_and_ends_without_anyone_acting(
    stub: Stub, database: asyncpg.Connection
) -> None:
    starts_at = datetime.now(UTC) + START_AHEAD
    leave = await schedule(stub, "ned", starts_at, starts_at + DURATION)

    await eventually(lambda: _is(database, "ned", "on_leave"), timeout_s=TIMER_WAIT_S)
    on_leave_at = datetime.now(UTC)
    await eventually(lambda: _is(database, "ned", "available"), timeout_s=TIMER_WAIT_S)
    available_at = datetime.now(UTC)

    assert on_leave_at >= starts_at
    assert available_at >= starts_at + DURATION
    assert await leave_state(database, leave.id) == "ended"
    changed = await changed_events(database)
    assert [(e.previous, e.current) for e in changed] == [
        (AVAILABLE, ON_LEAVE),
        (ON_LEAVE, AVAILABLE),
    ]
    assert [e.source for e in changed] == [common_pb2.AVAILABILITY_SOURCE_ADMIN] * 2
    freed = await freed_events(database)
    assert [(e.staff_id, e.unit_id, e.reason) for e in freed] == [
        ("ned", "north", "became_available")
    ]


async def _is(database: asyncpg.Connection, staff_id: str, expected: str) -> bool:
    return await availability(database, staff_id) == expected


async def test_leave__two_runtimes_apply_each_leave_once(
    runtime: ServiceRuntime,
    stub: Stub,
    database: asyncpg.Connection,
    database_url: str,
    nats_url: str,
    subject_prefix: str,
) -> None:
    people = ["ned", "nina", "nora", "sid", "sue"]
    second = await app.start(
        make_settings(database_url, nats_url, subject_prefix), relay=False
    )
    try:
        starts_at = datetime.now(UTC) + START_AHEAD
        for offset, person in enumerate(people):
            start = starts_at + timedelta(milliseconds=100 * offset)
            await schedule(stub, person, start, start + DURATION)

        await eventually(
            lambda: _all_ended(database, len(people)), timeout_s=TIMER_WAIT_S
        )
    finally:
        await second.close()

    changed = await changed_events(database)
    for person in people:
        mine = [(e.previous, e.current) for e in changed if e.staff_id == person]
        assert mine == [(AVAILABLE, ON_LEAVE), (ON_LEAVE, AVAILABLE)], person
    freed = await freed_events(database)
    assert sorted(e.staff_id for e in freed) == sorted(people)


async def _all_ended(database: asyncpg.Connection, expected: int) -> bool:
    ended = await database.fetchval(
        "SELECT count(*) FROM leave_periods WHERE state = 'ended'"
    )
    return ended == expected


async def test_leave__end_keeps_a_manual_change(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    leave = await schedule(
        stub, "ned", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    await stub.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id="ned", status=common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
        )
    )
    await database.execute("DELETE FROM outbox")

    await make_due(database, leave.id)
    await eventually(
        lambda: _leave_is(database, leave.id, "ended"), timeout_s=TIMER_WAIT_S
    )

    assert await availability(database, "ned") == "unavailable"
    assert await changed_events(database) == []
    assert await freed_events(database) == []


async def _leave_is(database: asyncpg.Connection, leave_id: str, state: str) -> bool:
    return await leave_state(database, leave_id) == state


async def test_leave__overlapping_leave_keeps_person_on_leave(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    long_leave = await schedule(
        stub, "ned", now - timedelta(hours=2), now + timedelta(hours=5)
    )
    short_leave = await schedule(
        stub, "ned", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    await database.execute("DELETE FROM outbox")

    await make_due(database, short_leave.id)
    await eventually(
        lambda: _leave_is(database, short_leave.id, "ended"), timeout_s=TIMER_WAIT_S
    )

    assert await availability(database, "ned") == "on_leave"
    holder = await database.fetchval(
        "SELECT availability_leave_id::text FROM staff WHERE id = 'ned'"
    )
    assert holder == long_leave.id
    assert await freed_events(database) == []


async def test_leave__back_to_back_frees_no_capacity(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    handover = now + START_AHEAD
    first = await schedule(stub, "ned", now - timedelta(hours=1), handover)
    second = await schedule(stub, "ned", handover, handover + timedelta(hours=1))
    await database.execute("DELETE FROM outbox")

    await eventually(
        lambda: _leave_is(database, first.id, "ended"), timeout_s=TIMER_WAIT_S
    )

    # A pass compares both times with one transaction time, so the second
    # leave starts in the pass that ends the first.
    assert await leave_state(database, second.id) == "active"
    assert await availability(database, "ned") == "on_leave"
    assert await freed_events(database) == []


# CancelLeave --------------------------------------------------------------------


async def test_cancel_leave__scheduled_leave_never_starts(
    stub: Stub, database: asyncpg.Connection
) -> None:
    starts_at = datetime.now(UTC) + timedelta(milliseconds=500)
    leave = await schedule(stub, "ned", starts_at, starts_at + timedelta(hours=1))

    response = await stub.CancelLeave(
        availability_pb2.CancelLeaveRequest(leave_id=leave.id)
    )
    # Longer than one timer pass, so a wrongly claimed leave would show.
    await asyncio.sleep(1.5)

    assert response.leave.state == availability_pb2.LEAVE_STATE_CANCELLED
    assert await leave_state(database, leave.id) == "cancelled"
    assert await availability(database, "ned") == "available"
    assert await changed_events(database) == []


async def test_cancel_leave__active_leave_ends_at_once(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    leave = await schedule(
        stub, "ned", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    await database.execute("DELETE FROM outbox")

    response = await stub.CancelLeave(
        availability_pb2.CancelLeaveRequest(leave_id=leave.id)
    )

    assert response.leave.state == availability_pb2.LEAVE_STATE_CANCELLED
    assert await availability(database, "ned") == "available"
    freed = await freed_events(database)
    assert [(e.staff_id, e.reason) for e in freed] == [("ned", "became_available")]


async def test_cancel_leave__cancelled_leave_is_returned_unchanged(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    leave = await schedule(
        stub, "ned", now + timedelta(days=1), now + timedelta(days=2)
    )
    request = availability_pb2.CancelLeaveRequest(leave_id=leave.id)
    await stub.CancelLeave(request)
    await database.execute("DELETE FROM outbox")

    again = await stub.CancelLeave(request)

    assert again.leave.state == availability_pb2.LEAVE_STATE_CANCELLED
    assert await outbox_events(database, subjects.AVAILABILITY_CHANGED) == []


async def test_cancel_leave__ended_leave_fails_precondition(
    stub: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    leave = await schedule(
        stub, "ned", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    await make_due(database, leave.id)
    await eventually(
        lambda: _leave_is(database, leave.id, "ended"), timeout_s=TIMER_WAIT_S
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CancelLeave(availability_pb2.CancelLeaveRequest(leave_id=leave.id))

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await leave_state(database, leave.id) == "ended"


async def test_cancel_leave__unknown_id_is_not_found(stub: Stub) -> None:
    request = availability_pb2.CancelLeaveRequest(
        leave_id="00000000-0000-4000-8000-000000000000"
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CancelLeave(request)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ListLeave ----------------------------------------------------------------------


async def test_list_leave__returns_pending_leave_soonest_first(stub: Stub) -> None:
    now = datetime.now(UTC)
    later = await schedule(
        stub, "ned", now + timedelta(days=5), now + timedelta(days=6)
    )
    current = await schedule(
        stub, "ned", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    cancelled = await schedule(
        stub, "ned", now + timedelta(days=2), now + timedelta(days=3)
    )
    await stub.CancelLeave(availability_pb2.CancelLeaveRequest(leave_id=cancelled.id))
    await schedule(stub, "nina", now + timedelta(days=1), now + timedelta(days=2))

    response = await stub.ListLeave(availability_pb2.ListLeaveRequest(staff_id="ned"))

    assert [leave.id for leave in response.leave] == [current.id, later.id]
    assert [leave.state for leave in response.leave] == [
        availability_pb2.LEAVE_STATE_ACTIVE,
        availability_pb2.LEAVE_STATE_SCHEDULED,
    ]


async def test_list_leave__unknown_staff_is_not_found(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListLeave(availability_pb2.ListLeaveRequest(staff_id="nobody"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
