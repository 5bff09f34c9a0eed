"""RecordHrEvent: delivery ids, employee mapping, ordering and the effects on leave."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import availability_pb2, common_pb2, events_pb2
from assignment_engine.availability.hr_events import is_older
from assignment_engine.core import subjects

from .conftest import CALLERS, Stub, StubFactory, outbox_events, timestamp

pytestmark = pytest.mark.usefixtures("organisation")

APPROVED = availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED
CANCELLED = availability_pb2.HR_EVENT_TYPE_LEAVE_CANCELLED
RETURNED = availability_pb2.HR_EVENT_TYPE_EMPLOYEE_RETURNED
ACCEPTED = availability_pb2.HR_EVENT_OUTCOME_ACCEPTED
STALE = availability_pb2.HR_EVENT_OUTCOME_STALE
REJECTED = availability_pb2.HR_EVENT_OUTCOME_REJECTED
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(stub_as: StubFactory) -> Stub:
    subject, role = CALLERS["service"]
    return stub_as(subject, role)


def event(
    delivery_id: str,
    event_type: int = APPROVED,
    *,
    employee_id: str = "E-ned",
    leave_id: str = "L-1",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    event_time: datetime | None = None,
    version: int = 0,
    reason: str = "annual leave",
) -> availability_pb2.RecordHrEventRequest:
    now = datetime.now(UTC)
    request = availability_pb2.RecordHrEventRequest(
        delivery_id=delivery_id,
        type=event_type,  # type: ignore[arg-type]
        employee_id=employee_id,
        leave_id=leave_id,
        reason=reason,
        version=version,
        event_time=timestamp(event_time or now),
    )
    if event_type == APPROVED:
        request.starts_at.CopyFrom(timestamp(starts_at or now + timedelta(days=1)))
        request.ends_at.CopyFrom(timestamp(ends_at or now + timedelta(days=2)))
    return request


def current(
    delivery_id: str, **fields: object
) -> availability_pb2.RecordHrEventRequest:
    """An approval of leave that started an hour ago and lasts two more."""
    now = datetime.now(UTC)
    return event(
        delivery_id,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        **fields,  # type: ignore[arg-type]
    )


async def staff_row(database: asyncpg.Connection, staff_id: str) -> asyncpg.Record:
    return await database.fetchrow(
        "SELECT availability, availability_source, availability_reason FROM staff"
        " WHERE id = $1",
        staff_id,
    )


async def stored(database: asyncpg.Connection, delivery_id: str) -> asyncpg.Record:
    return await database.fetchrow(
        "SELECT outcome, reason, staff_id, event_type, employee_id, payload"
        " FROM hr_events WHERE delivery_id = $1",
        delivery_id,
    )


async def leave_rows(database: asyncpg.Connection) -> list[asyncpg.Record]:
    return await database.fetch(
        "SELECT hr_leave_id, staff_id, state, source, starts_at, ends_at, hr_version"
        " FROM leave_periods ORDER BY created_at"
    )


# Approval -----------------------------------------------------------------------


async def test_approval__future_leave_is_scheduled(
    service: Stub, database: asyncpg.Connection
) -> None:
    response = await service.RecordHrEvent(event("d-1", version=3))

    assert response.outcome == ACCEPTED
    assert not response.repeated
    assert response.leave.state == availability_pb2.LEAVE_STATE_SCHEDULED
    assert response.leave.hr_leave_id == "L-1"
    assert response.leave.staff_id == "ned"
    assert response.leave.source == common_pb2.AVAILABILITY_SOURCE_HR_SYSTEM
    row = await stored(database, "d-1")
    assert row["outcome"] == "accepted"
    assert row["staff_id"] == "ned"
    assert row["event_type"] == "leave_approved"
    assert json.loads(row["payload"])["version"] == 3


async def test_approval__started_leave_puts_person_on_leave(
    service: Stub, database: asyncpg.Connection
) -> None:
    response = await service.RecordHrEvent(current("d-1"))

    assert response.leave.state == availability_pb2.LEAVE_STATE_ACTIVE
    row = await staff_row(database, "ned")
    assert row["availability"] == "on_leave"
    assert row["availability_source"] == "hr_system"
    assert row["availability_reason"] == "annual leave"
    rows = await outbox_events(database, subjects.AVAILABILITY_CHANGED)
    changed = events_pb2.AvailabilityChanged.FromString(rows[0]["payload"])
    assert changed.source == common_pb2.AVAILABILITY_SOURCE_HR_SYSTEM


async def test_approval__newer_version_moves_the_leave(
    service: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await service.RecordHrEvent(event("d-1", version=1))

    response = await service.RecordHrEvent(
        event(
            "d-2",
            version=2,
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=12),
        )
    )

    assert response.outcome == ACCEPTED
    rows = await leave_rows(database)
    assert len(rows) == 1
    assert rows[0]["starts_at"] > now + timedelta(days=9)
    assert rows[0]["hr_version"] == 2


async def test_approval__postponing_active_leave_frees_person(
    service: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await service.RecordHrEvent(current("d-1", version=1))
    await database.execute("DELETE FROM outbox")

    response = await service.RecordHrEvent(
        event(
            "d-2",
            version=2,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
        )
    )

    assert response.leave.state == availability_pb2.LEAVE_STATE_SCHEDULED
    assert (await staff_row(database, "ned"))["availability"] == "available"
    freed = await outbox_events(database, subjects.CAPACITY_FREED)
    assert len(freed) == 1


# Delivery ids -------------------------------------------------------------------


async def test_repeated_delivery__returns_stored_outcome_without_effect(
    service: Stub, database: asyncpg.Connection
) -> None:
    first = await service.RecordHrEvent(current("d-1"))

    again = await service.RecordHrEvent(current("d-1"))

    assert again.repeated
    assert again.outcome == first.outcome
    assert again.reason == first.reason
    assert again.leave.id == first.leave.id
    assert len(await leave_rows(database)) == 1
    assert len(await outbox_events(database, subjects.AVAILABILITY_CHANGED)) == 1
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 1


async def test_repeated_delivery__with_another_body_changes_nothing(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(event("d-1", leave_id="L-1"))

    again = await service.RecordHrEvent(event("d-1", leave_id="L-2"))

    assert again.repeated
    assert [row["hr_leave_id"] for row in await leave_rows(database)] == ["L-1"]


async def test_unknown_employee__is_stored_as_rejected(
    service: Stub, database: asyncpg.Connection
) -> None:
    response = await service.RecordHrEvent(event("d-1", employee_id="E-404"))

    assert response.outcome == REJECTED
    assert response.reason == "unknown employee E-404"
    row = await stored(database, "d-1")
    assert row["outcome"] == "rejected"
    assert row["reason"] == "unknown employee E-404"
    assert row["staff_id"] is None
    assert await leave_rows(database) == []


async def test_leave_of_another_employee__is_rejected(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(event("d-1", employee_id="E-ned"))

    response = await service.RecordHrEvent(
        event("d-2", CANCELLED, employee_id="E-nina")
    )

    assert response.outcome == REJECTED
    assert [row["state"] for row in await leave_rows(database)] == ["scheduled"]


# Ordering -----------------------------------------------------------------------


async def test_older_version__after_newer_is_stale(
    service: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await service.RecordHrEvent(event("d-2", version=2, event_time=now))

    response = await service.RecordHrEvent(
        event(
            "d-1",
            version=1,
            event_time=now + timedelta(minutes=1),
            starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=31),
        )
    )

    assert response.outcome == STALE
    assert (await stored(database, "d-1"))["outcome"] == "stale"
    rows = await leave_rows(database)
    assert rows[0]["hr_version"] == 2
    assert rows[0]["starts_at"] < now + timedelta(days=2)


async def test_older_event_time__without_versions_is_stale(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(current("d-2", event_time=T0 + timedelta(hours=1)))
    await database.execute("DELETE FROM outbox")

    response = await service.RecordHrEvent(event("d-1", CANCELLED, event_time=T0))

    assert response.outcome == STALE
    assert (await staff_row(database, "ned"))["availability"] == "on_leave"
    assert await outbox_events(database, subjects.AVAILABILITY_CHANGED) == []


async def test_cancellation_before_approval__makes_older_approval_stale(
    service: Stub, database: asyncpg.Connection
) -> None:
    cancel = await service.RecordHrEvent(
        event("d-2", CANCELLED, version=2, event_time=T0 + timedelta(hours=1))
    )

    approve = await service.RecordHrEvent(event("d-1", version=1, event_time=T0))

    assert cancel.outcome == ACCEPTED
    assert approve.outcome == STALE
    assert await leave_rows(database) == []


@pytest.mark.parametrize(
    ("version", "event_time", "applied_version", "applied_time", "older"),
    [
        pytest.param(1, T0, 2, T0, True, id="lower version"),
        pytest.param(3, T0, 2, T0 + timedelta(hours=1), False, id="higher version"),
        pytest.param(2, T0, 2, T0 + timedelta(hours=1), True, id="tie, earlier"),
        pytest.param(2, T0 + timedelta(hours=1), 2, T0, False, id="tie, later"),
        pytest.param(0, T0, 5, T0 + timedelta(hours=1), True, id="no version"),
        pytest.param(5, T0 + timedelta(hours=1), 0, T0, False, id="none applied"),
        pytest.param(0, T0, 0, None, False, id="nothing applied"),
        pytest.param(0, T0, 0, T0, False, id="same time"),
    ],
)
def test_is_older__compares_versions_then_event_times(
    version: int,
    event_time: datetime,
    applied_version: int,
    applied_time: datetime | None,
    older: bool,
) -> None:
    result = is_older(version, event_time, applied_version, applied_time)

    assert result is older


# Cancellation and return --------------------------------------------------------


async def test_cancellation__of_active_leave_frees_capacity(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(current("d-1", version=1))
    await database.execute("DELETE FROM outbox")

    response = await service.RecordHrEvent(event("d-2", CANCELLED, version=2))

    assert response.outcome == ACCEPTED
    assert response.leave.state == availability_pb2.LEAVE_STATE_CANCELLED
    row = await staff_row(database, "ned")
    assert row["availability"] == "available"
    assert row["availability_source"] == "hr_system"
    freed = await outbox_events(database, subjects.CAPACITY_FREED)
    assert len(freed) == 1


async def test_employee_returned__ends_active_hr_leave(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(current("d-1"))

    response = await service.RecordHrEvent(event("d-2", RETURNED, leave_id=""))

    assert response.outcome == ACCEPTED
    assert response.leave.state == availability_pb2.LEAVE_STATE_ENDED
    assert (await staff_row(database, "ned"))["availability"] == "available"


async def test_employee_returned__without_active_leave_changes_nothing(
    service: Stub, database: asyncpg.Connection
) -> None:
    await service.RecordHrEvent(event("d-1"))

    response = await service.RecordHrEvent(event("d-2", RETURNED, leave_id=""))

    assert response.outcome == ACCEPTED
    assert response.reason == "the employee has no active HR leave"
    assert [row["state"] for row in await leave_rows(database)] == ["scheduled"]


async def test_employee_returned__leaves_manual_leave_alone(
    stub: Stub, service: Stub, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await stub.ScheduleLeave(
        availability_pb2.ScheduleLeaveRequest(
            staff_id="ned",
            starts_at=timestamp(now - timedelta(hours=1)),
            ends_at=timestamp(now + timedelta(hours=1)),
        )
    )

    await service.RecordHrEvent(event("d-1", RETURNED, leave_id=""))

    assert (await staff_row(database, "ned"))["availability"] == "on_leave"


async def test_record_hr_event__missing_leave_id_is_invalid(service: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.RecordHrEvent(event("d-1", CANCELLED, leave_id=""))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("leave_id=")
