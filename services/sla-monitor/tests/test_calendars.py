"""SetCalendar, ListCalendars, policies with a calendar, and working-time status."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import common_pb2
from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.core.calendars import (
    BusinessCalendar,
    add_working_time,
    from_rows,
    working_time_between,
)

from .conftest import RunningMonitor

# Slack for comparing a duration computed here with the server's, which reads
# the clock a little later.
TOLERANCE = timedelta(seconds=5)
OFFICE_DAYS = range(1, 6)


@pytest.fixture
def restore_timezone() -> Iterator[None]:
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def hours(*entries: tuple[int, str, str]) -> list[pb.WorkingHours]:
    return [
        pb.WorkingHours(weekday=weekday, start=start, end=end)
        for weekday, start, end in entries
    ]


def calendar_request(**overrides: Any) -> pb.SetCalendarRequest:
    fields: dict[str, Any] = {
        "id": "office",
        "timezone": "Europe/London",
        "hours": hours((1, "09:00", "17:00")),
    }
    fields.update(overrides)
    return pb.SetCalendarRequest(calendar=pb.BusinessCalendar(**fields))


def clock(minutes: int) -> str:
    """Format minutes after midnight as HH:MM, where 1440 is "24:00"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def holiday(first: str, last: str, name: str = "") -> pb.HolidayRange:
    return pb.HolidayRange(first=first, last=last, name=name)


MONDAY = (1, "09:00", "17:00")
INVALID_CALENDARS: list[Any] = [
    pytest.param(calendar_request(id=""), "calendar.id", id="id-missing"),
    pytest.param(calendar_request(id="bad id"), "calendar.id", id="id-malformed"),
    pytest.param(calendar_request(timezone=""), "calendar.timezone", id="zone-missing"),
    pytest.param(
        calendar_request(timezone="Mars/Olympus"),
        "calendar.timezone",
        id="zone-unknown",
    ),
    pytest.param(
        calendar_request(timezone="localtime"), "calendar.timezone", id="zone-localtime"
    ),
    pytest.param(
        calendar_request(timezone="posixrules"),
        "calendar.timezone",
        id="zone-posixrules",
    ),
    pytest.param(
        calendar_request(timezone="../../etc/passwd"),
        "calendar.timezone",
        id="zone-path",
    ),
    pytest.param(
        calendar_request(timezone="posix/Europe/London"),
        "calendar.timezone",
        id="zone-posix-copy",
    ),
    pytest.param(calendar_request(hours=[]), "calendar.hours", id="hours-empty"),
    pytest.param(
        calendar_request(hours=hours(*[MONDAY] * 201)),
        "calendar.hours",
        id="hours-too-many",
    ),
    pytest.param(
        calendar_request(hours=hours((0, "09:00", "17:00"))),
        "calendar.hours[0].weekday",
        id="weekday-zero",
    ),
    pytest.param(
        calendar_request(hours=hours(MONDAY, (8, "09:00", "17:00"))),
        "calendar.hours[1].weekday",
        id="weekday-eight",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "", "17:00"))),
        "calendar.hours[0].start",
        id="start-missing",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "9:00", "17:00"))),
        "calendar.hours[0].start",
        id="start-one-digit-hour",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "24:00", "24:00"))),
        "calendar.hours[0].start",
        id="start-end-of-day",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "12:60", "17:00"))),
        "calendar.hours[0].start",
        id="start-minute-sixty",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "\uff10\uff19:00", "17:00"))),
        "calendar.hours[0].start",
        id="start-fullwidth-digits",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", ""))),
        "calendar.hours[0].end",
        id="end-missing",
    ),
    pytest.param(
        calendar_request(hours=hours(MONDAY, MONDAY, (3, "09:00", "08:00"))),
        "calendar.hours[2].end",
        id="end-before-start",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", "09:00"))),
        "calendar.hours[0].end",
        id="end-equals-start",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", "00:00"))),
        "calendar.hours[0].end",
        id="end-midnight-as-zero",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", "24:30"))),
        "calendar.hours[0].end",
        id="end-past-end-of-day",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", "12:00"), (1, "11:00", "13:00"))),
        "calendar.hours[1]",
        id="overlap-later-entry",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "13:00", "17:00"), (1, "09:00", "14:00"))),
        "calendar.hours[0]",
        id="overlap-earlier-entry",
    ),
    pytest.param(
        calendar_request(hours=hours((1, "09:00", "24:00"), (1, "23:00", "23:30"))),
        "calendar.hours[1]",
        id="overlap-end-of-day",
    ),
    pytest.param(
        calendar_request(hours=hours(MONDAY, (1, "09:00", "17:00"))),
        "calendar.hours[1]",
        id="duplicate-entry",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("", "2026-12-25")]),
        "calendar.holidays[0].first",
        id="holiday-first-missing",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("2026-13-01", "2026-12-25")]),
        "calendar.holidays[0].first",
        id="holiday-month-thirteen",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("2026-12-25", "26 Dec 2026")]),
        "calendar.holidays[0].last",
        id="holiday-last-malformed",
    ),
    pytest.param(
        calendar_request(
            holidays=[
                holiday("2026-12-25", "2026-12-26"),
                holiday("2026-12-31", "2026-12-30"),
            ]
        ),
        "calendar.holidays[1].last",
        id="holiday-last-before-first",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("2026-12-25", "2026-12-25", "a\x00b")]),
        "calendar.holidays[0].name",
        id="holiday-name-control-character",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("2026-12-25", "2026-12-25", "n" * 201)]),
        "calendar.holidays[0].name",
        id="holiday-name-too-long",
    ),
    pytest.param(
        calendar_request(holidays=[holiday("2026-12-25", "2026-12-25")] * 1001),
        "calendar.holidays",
        id="holidays-too-many",
    ),
]


@pytest.mark.parametrize(("request_message", "field"), INVALID_CALENDARS)
async def test_invalid_calendar_names_field(
    monitor: RunningMonitor, request_message: pb.SetCalendarRequest, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await monitor.stub.SetCalendar(request_message)

    details = caught.value.details() or ""
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, details
    assert details.startswith(f"{field}="), details


async def test_invalid_calendar_changes_nothing(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await monitor.stub.SetCalendar(calendar_request())

    with pytest.raises(grpc.aio.AioRpcError):
        await monitor.stub.SetCalendar(calendar_request(timezone="Mars/Olympus"))

    stored = await db.fetchval("SELECT timezone FROM business_calendars")
    assert stored == "Europe/London"


async def test_calendar_at_limits_is_accepted(monitor: RunningMonitor) -> None:
    # Half-hour slots, Monday onwards: four whole days and part of a fifth.
    entries = [
        (weekday, clock(minute), clock(minute + 30))
        for weekday in range(1, 8)
        for minute in range(0, 24 * 60, 30)
    ][:200]
    request = calendar_request(
        hours=hours(*entries),
        holidays=[holiday("2026-12-25", "2026-12-26", "h" * 200)] * 1000,
    )

    response = await monitor.stub.SetCalendar(request)

    assert len(response.calendar.hours) == 200
    assert len(response.calendar.holidays) == 1000


async def test_set_calendar_stores_sorted_definition(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    request = calendar_request(
        timezone="Asia/Riyadh",
        hours=hours(
            (4, "13:00", "24:00"),
            (1, "13:00", "17:00"),
            (1, "08:00", "13:00"),
        ),
        holidays=[
            holiday("2026-12-01", "2026-12-03", "National day"),
            holiday("2026-03-30", "2026-04-02", "Eid"),
        ],
    )

    response = await monitor.stub.SetCalendar(request)

    row = await db.fetchrow(
        "SELECT timezone, hours::text, holidays::text FROM business_calendars"
    )
    assert response.calendar.id == "office"
    assert response.calendar.timezone == "Asia/Riyadh"
    assert [(h.weekday, h.start, h.end) for h in response.calendar.hours] == [
        (1, "08:00", "13:00"),
        (1, "13:00", "17:00"),
        (4, "13:00", "24:00"),
    ]
    assert [(h.first, h.name) for h in response.calendar.holidays] == [
        ("2026-03-30", "Eid"),
        ("2026-12-01", "National day"),
    ]
    assert row["timezone"] == "Asia/Riyadh"
    assert '"end": "24:00"' in row["hours"]
    assert '"name": "Eid"' in row["holidays"]


async def test_set_calendar_replaces_definition(monitor: RunningMonitor) -> None:
    await monitor.stub.SetCalendar(calendar_request())

    await monitor.stub.SetCalendar(
        calendar_request(timezone="UTC", hours=hours((2, "10:00", "11:00")))
    )

    listed = await monitor.stub.ListCalendars(pb.ListCalendarsRequest())
    assert len(listed.calendars) == 1
    assert listed.calendars[0].timezone == "UTC"
    assert [(h.weekday, h.start) for h in listed.calendars[0].hours] == [(2, "10:00")]


async def test_list_calendars_sorted_by_id(monitor: RunningMonitor) -> None:
    for calendar_id in ("office", "Night-shift", "ops.24x5"):
        await monitor.stub.SetCalendar(calendar_request(id=calendar_id))

    listed = await monitor.stub.ListCalendars(pb.ListCalendarsRequest())

    assert [calendar.id for calendar in listed.calendars] == [
        "Night-shift",
        "office",
        "ops.24x5",
    ]


# Policies with a calendar ---------------------------------------------------------


def policy_request(calendar_id: str) -> pb.SetSlaPolicyRequest:
    return pb.SetSlaPolicyRequest(
        policy=pb.SlaPolicy(
            work_item_type="incident",
            priority=common_pb2.PRIORITY_HIGH,
            resolution_target=Duration(seconds=8 * 3600),
            calendar_id=calendar_id,
        )
    )


async def test_policy_with_unknown_calendar_not_found(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await monitor.stub.SetSlaPolicy(policy_request("office"))

    policies = await db.fetchval(
        "SELECT count(*) FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "office" in (caught.value.details() or "")
    assert policies == 0


async def test_policy_stores_calendar(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await monitor.stub.SetCalendar(calendar_request())

    response = await monitor.stub.SetSlaPolicy(policy_request("office"))

    listed = await monitor.stub.ListSlaPolicies(pb.ListSlaPoliciesRequest())
    incident = [p for p in listed.policies if p.work_item_type == "incident"]
    fallback = [p for p in listed.policies if p.work_item_type == "*"]
    stored = await db.fetchval(
        "SELECT calendar_id FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert response.policy.calendar_id == "office"
    assert stored == "office"
    assert incident[0].calendar_id == "office"
    assert all(policy.calendar_id == "" for policy in fallback)


async def test_policy_without_calendar_clears_it(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await monitor.stub.SetCalendar(calendar_request())
    await monitor.stub.SetSlaPolicy(policy_request("office"))

    await monitor.stub.SetSlaPolicy(policy_request(""))

    stored = await db.fetchval(
        "SELECT calendar_id FROM sla_policies WHERE work_item_type = 'incident'"
    )
    assert stored is None


# GetSlaStatus with a calendar -----------------------------------------------------


async def office_calendar(monitor: RunningMonitor, zone: str) -> BusinessCalendar:
    """Store the calendar "office", Monday to Friday 09:00 to 17:00 in `zone`."""
    await monitor.stub.SetCalendar(
        calendar_request(
            timezone=zone,
            hours=hours(*[(day, "09:00", "17:00") for day in OFFICE_DAYS]),
        )
    )
    stored: list[dict[str, object]] = [
        {"weekday": day, "start": "09:00", "end": "17:00"} for day in OFFICE_DAYS
    ]
    return from_rows(zone, stored, [])


async def add_calendar_clock(
    db: asyncpg.Connection,
    *,
    calendar_id: str | None,
    started_at: datetime,
    deadline: datetime,
    paused_since: datetime | None = None,
    paused_total: timedelta = timedelta(0),
) -> uuid.UUID:
    """Insert a queued work item and a clock that counts `calendar_id`."""
    work_item_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO work_items (id, type, external_id, priority, received_at, state)
        VALUES ($1, 'incident', $2, 3, $3, 'queued')
        """,
        work_item_id,
        str(work_item_id),
        started_at,
    )
    await db.execute(
        """
        INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction,
                                started_at, warning_at, deadline, paused_since,
                                paused_total, calendar_id)
        VALUES ($1, interval '10 hours', 0.75, $2, $3, $3, $4, $5, $6)
        """,
        work_item_id,
        started_at,
        deadline,
        paused_since,
        paused_total,
        calendar_id,
    )
    return work_item_id


async def status_of(monitor: RunningMonitor, work_item_id: uuid.UUID) -> pb.SlaStatus:
    response = await monitor.stub.GetSlaStatus(
        pb.GetSlaStatusRequest(work_item_id=str(work_item_id))
    )
    return response.status


async def test_calendar_clock_remaining_is_working_time(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    calendar = await office_calendar(monitor, "Asia/Riyadh")
    now = datetime.now(UTC)
    started_at = now - timedelta(days=3)
    deadline = add_working_time(calendar, now, timedelta(hours=10))
    work_item_id = await add_calendar_clock(
        db, calendar_id="office", started_at=started_at, deadline=deadline
    )

    status = await status_of(monitor, work_item_id)

    remaining = status.remaining.ToTimedelta()
    expected_elapsed = working_time_between(calendar, started_at, datetime.now(UTC))
    assert status.calendar_id == "office"
    assert abs(remaining - timedelta(hours=10)) < TOLERANCE
    # Ten working hours span at least one night, so wall time is longer.
    assert deadline - now > timedelta(hours=10) + timedelta(hours=16)
    assert abs(status.elapsed.ToTimedelta() - expected_elapsed) < TOLERANCE


async def test_clock_without_calendar_counts_every_hour(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await office_calendar(monitor, "Asia/Riyadh")
    now = datetime.now(UTC)
    work_item_id = await add_calendar_clock(
        db,
        calendar_id=None,
        started_at=now - timedelta(hours=2),
        deadline=now + timedelta(hours=30),
    )

    status = await status_of(monitor, work_item_id)

    assert status.calendar_id == ""
    assert abs(status.remaining.ToTimedelta() - timedelta(hours=30)) < TOLERANCE
    assert abs(status.elapsed.ToTimedelta() - timedelta(hours=2)) < TOLERANCE


async def test_breached_calendar_clock_remaining_negative(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    calendar = await office_calendar(monitor, "Europe/London")
    now = datetime.now(UTC)
    deadline = now - timedelta(days=9)
    work_item_id = await add_calendar_clock(
        db, calendar_id="office", started_at=now - timedelta(days=20), deadline=deadline
    )

    status = await status_of(monitor, work_item_id)

    overdue = working_time_between(calendar, deadline, datetime.now(UTC))
    assert status.state == pb.SLA_STATE_BREACHED
    assert abs(status.remaining.ToTimedelta() + overdue) < TOLERANCE
    # Nine days contain at least five working days of eight hours.
    assert status.remaining.ToTimedelta() <= -timedelta(hours=40)


async def test_paused_calendar_clock_keeps_remaining(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    calendar = await office_calendar(monitor, "Asia/Riyadh")
    now = datetime.now(UTC)
    started_at = now - timedelta(days=10)
    paused_since = now - timedelta(days=2)
    deadline = now + timedelta(days=5)
    work_item_id = await add_calendar_clock(
        db,
        calendar_id="office",
        started_at=started_at,
        deadline=deadline,
        paused_since=paused_since,
        paused_total=timedelta(hours=1),
    )

    status = await status_of(monitor, work_item_id)

    remaining = working_time_between(calendar, paused_since, deadline)
    elapsed = working_time_between(calendar, started_at, paused_since)
    assert status.state == pb.SLA_STATE_PAUSED
    assert status.remaining.ToTimedelta() == remaining
    assert status.elapsed.ToTimedelta() == elapsed - timedelta(hours=1)
    assert status.paused_total.ToTimedelta() == timedelta(hours=1)
    assert status.paused_since.ToDatetime(tzinfo=UTC) == paused_since


async def test_calendar_status_ignores_client_timezone(
    db: asyncpg.Connection, monitor: RunningMonitor, restore_timezone: None
) -> None:
    calendar = await office_calendar(monitor, "America/New_York")
    now = datetime.now(UTC)
    deadline = add_working_time(calendar, now, timedelta(hours=12))
    work_item_id = await add_calendar_clock(
        db, calendar_id="office", started_at=now, deadline=deadline
    )
    remaining = {}

    for name in ("Asia/Riyadh", "America/Los_Angeles", "Pacific/Kiritimati", "UTC"):
        os.environ["TZ"] = name
        time.tzset()
        status = await status_of(monitor, work_item_id)
        remaining[name] = status.remaining.ToTimedelta()

    assert max(remaining.values()) - min(remaining.values()) < timedelta(seconds=1)
    assert abs(remaining["UTC"] - timedelta(hours=12)) < TOLERANCE
