"""Daily capacity snapshots and GetCapacity.

The snapshot tests drive `CapacitySnapshotter` with a clock of their own on the
organisation's default zone, Asia/Riyadh (UTC+3 all year), so a simulated
midnight or a missed day needs no waiting. They run without a monitor runtime,
whose own snapshotter would record the real previous day.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.core.config import ConfigError
from assignment_engine.devstack import seeding
from assignment_engine.sla_monitor.config import SlaMonitorSettings
from assignment_engine.sla_monitor.snapshots import (
    MAX_BACKFILL_DAYS,
    CapacitySnapshotter,
)

from .conftest import (
    RunningMonitor,
    assign,
    monitor_settings,
    start_monitor,
)

RIYADH = "Asia/Riyadh"
DAY = date(2030, 6, 10)
# 00:00:05 on 11 June in Riyadh, just after DAY ended.
AFTER_DAY = datetime(2030, 6, 10, 21, 0, 5, tzinfo=UTC)
SNAPSHOT_QUERY = """
    SELECT unit_id, day, staff, available_staff, wip_capacity, active_assignments,
           utilisation, queue_length, warnings, breaches, recorded_at
    FROM capacity_snapshots ORDER BY day, unit_id COLLATE "C"
"""


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.instant = now

    def __call__(self) -> datetime:
        return self.instant


async def add_organisation(db: asyncpg.Connection) -> None:
    """Unit north: ann (available, WIP 2, one assignment), ben (busy, WIP 3),
    cat (on leave, WIP 4, one assignment). Unit south: sam (available, WIP 1).
    Two items wait in the queue for north and none for south.
    """
    await seeding.add_unit(db, "north")
    await seeding.add_unit(db, "south")
    await seeding.add_staff(db, "ann", "north", wip_limit=2)
    await seeding.add_staff(db, "ben", "north", wip_limit=3, availability="busy")
    await seeding.add_staff(db, "cat", "north", wip_limit=4, availability="on_leave")
    await seeding.add_staff(db, "sam", "south", wip_limit=1)
    for assignee in ("ann", "cat"):
        await assign(db, await add_item(db, None), assignee)
    for _ in range(2):
        work_item_id = await add_item(db, "north")
        await db.execute(
            "INSERT INTO queue_entries (work_item_id, priority, target_unit_id) "
            "VALUES ($1, 3, 'north')",
            work_item_id,
        )


async def add_item(db: asyncpg.Connection, target_unit_id: str | None) -> uuid.UUID:
    work_item_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO work_items (id, type, external_id, target_unit_id, priority,
                                received_at, state)
        VALUES ($1, 'incident', $2, $3, 3, now(), 'queued')
        """,
        work_item_id,
        str(work_item_id),
        target_unit_id,
    )
    return work_item_id


async def add_marked_clock(
    db: asyncpg.Connection,
    *,
    warned_at: datetime | None,
    breached_at: datetime | None = None,
    assignee_id: str | None = None,
    target_unit_id: str | None = None,
) -> uuid.UUID:
    """Insert an item whose clock was marked at the given instants."""
    work_item_id = await add_item(db, target_unit_id)
    started_at = datetime(2030, 1, 1, tzinfo=UTC)
    await db.execute(
        """
        INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction,
                                started_at, warning_at, deadline, warned_at,
                                breached_at)
        VALUES ($1, interval '1 hour', 0.75, $2, $2, $2, $3, $4)
        """,
        work_item_id,
        started_at,
        warned_at,
        breached_at,
    )
    if assignee_id is not None:
        await assign(db, work_item_id, assignee_id)
    return work_item_id


def snapshotter(pool: asyncpg.Pool, clock: FakeClock) -> CapacitySnapshotter:
    return CapacitySnapshotter(pool, RIYADH, now=clock)


async def test_snapshot_at_midnight_records_ended_day(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    # Inside DAY: 23:59 and 03:00 local; outside: 23:59 local the day before.
    await add_marked_clock(
        db,
        warned_at=datetime(2030, 6, 10, 20, 59, tzinfo=UTC),
        breached_at=datetime(2030, 6, 10, 0, 0, tzinfo=UTC),
        assignee_id="ann",
    )
    await add_marked_clock(
        db, warned_at=datetime(2030, 6, 9, 20, 59, tzinfo=UTC), assignee_id="sam"
    )
    await add_marked_clock(
        db,
        warned_at=datetime(2030, 6, 9, 21, 0, tzinfo=UTC),
        target_unit_id="south",
    )
    await add_marked_clock(db, warned_at=datetime(2030, 6, 10, 1, 0, tzinfo=UTC))

    result = await snapshotter(pool, FakeClock(AFTER_DAY)).run_pass()

    rows = {row["unit_id"]: row for row in await db.fetch(SNAPSHOT_QUERY)}
    north, south = rows["north"], rows["south"]
    assert result.days == [DAY]
    assert set(rows) == {"engine-ops", "north", "south"}
    assert {row["day"] for row in rows.values()} == {DAY}
    assert north["staff"] == 3
    assert north["available_staff"] == 2
    assert north["wip_capacity"] == 5
    assert north["active_assignments"] == 3
    assert north["utilisation"] == pytest.approx(3 / 5)
    assert north["queue_length"] == 2
    assert north["warnings"] == 1
    assert north["breaches"] == 1
    assert south["active_assignments"] == 1
    assert south["queue_length"] == 0
    assert south["warnings"] == 1
    assert south["breaches"] == 0
    assert rows["engine-ops"]["utilisation"] == 0.0


async def test_snapshot_before_midnight_records_previous_day(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    before_midnight = AFTER_DAY - timedelta(seconds=10)

    result = await snapshotter(pool, FakeClock(before_midnight)).run_pass()

    days = await db.fetchval("SELECT array_agg(DISTINCT day) FROM capacity_snapshots")
    assert result.days == [DAY - timedelta(days=1)]
    assert days == [DAY - timedelta(days=1)]


async def test_snapshot_pass_twice_writes_once(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    clock = FakeClock(AFTER_DAY)
    await snapshotter(pool, clock).run_pass()
    first = await db.fetch(SNAPSHOT_QUERY)
    await db.execute("UPDATE staff SET wip_limit = 9")
    clock.instant += timedelta(hours=1)

    second_pass = await snapshotter(pool, clock).run_pass()

    second = await db.fetch(SNAPSHOT_QUERY)
    assert second_pass.days == []
    assert second_pass.rows == 0
    assert [dict(row) for row in second] == [dict(row) for row in first]


async def test_two_snapshotters_write_each_row_once(
    db: asyncpg.Connection, database_url: str, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    clock = FakeClock(AFTER_DAY + timedelta(days=2))
    await db.execute(
        "INSERT INTO capacity_snapshots (unit_id, day, staff, available_staff, "
        "wip_capacity, active_assignments, utilisation, queue_length, warnings, "
        "breaches) VALUES ('north', $1, 0, 0, 0, 0, 0, 0, 0, 0)",
        DAY - timedelta(days=1),
    )
    other_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)

    try:
        results = await asyncio.gather(
            *(
                snapshotter(target, clock).run_pass()
                for target in (pool, other_pool, pool, other_pool)
            )
        )
    finally:
        await other_pool.close()

    per_key = await db.fetchval(
        "SELECT max(copies) FROM (SELECT count(*) AS copies FROM capacity_snapshots "
        "GROUP BY unit_id, day) counted"
    )
    rows = await db.fetchval("SELECT count(*) FROM capacity_snapshots")
    # Three missed days for three units, after the one row inserted above.
    assert rows == 1 + 3 * 3
    assert sum(result.rows for result in results) == 3 * 3
    assert per_key == 1


async def test_missed_day_is_back_filled(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    clock = FakeClock(AFTER_DAY)
    await snapshotter(pool, clock).run_pass()
    await add_marked_clock(
        db, warned_at=datetime(2030, 6, 11, 9, 0, tzinfo=UTC), assignee_id="ann"
    )
    # No pass ran at the midnight after 11 June; the next one is after 12 June.
    clock.instant += timedelta(days=2)

    result = await snapshotter(pool, clock).run_pass()

    north = await db.fetch(
        "SELECT day, warnings FROM capacity_snapshots WHERE unit_id = 'north' "
        "ORDER BY day"
    )
    assert result.days == [date(2030, 6, 11), date(2030, 6, 12)]
    assert [row["day"] for row in north] == [
        DAY,
        date(2030, 6, 11),
        date(2030, 6, 12),
    ]
    assert [row["warnings"] for row in north] == [0, 1, 0]


async def test_back_fill_limited_to_recent_days(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_organisation(db)
    clock = FakeClock(AFTER_DAY)
    await snapshotter(pool, clock).run_pass()
    clock.instant += timedelta(days=60)

    result = await snapshotter(pool, clock).run_pass()

    last_ended = DAY + timedelta(days=60)
    assert len(result.days) == MAX_BACKFILL_DAYS
    assert result.days[0] == last_ended - timedelta(days=MAX_BACKFILL_DAYS - 1)
    assert result.days[-1] == last_ended


def test_day_bounds_follow_daylight_saving() -> None:
    london = CapacitySnapshotter(None, "Europe/London")  # type: ignore[arg-type]

    spring_start, spring_end = london.day_bounds(date(2030, 3, 31))
    autumn_start, autumn_end = london.day_bounds(date(2030, 10, 27))

    assert spring_start == datetime(2030, 3, 31, 0, 0, tzinfo=UTC)
    assert spring_end - spring_start == timedelta(hours=23)
    assert autumn_end - autumn_start == timedelta(hours=25)


def test_sleep_until_next_midnight() -> None:
    clock = FakeClock(datetime(2030, 6, 10, 20, 59, tzinfo=UTC))
    riyadh = CapacitySnapshotter(None, RIYADH, now=clock)  # type: ignore[arg-type]

    seconds = riyadh.seconds_until_next_day()

    assert seconds == pytest.approx(61.0)


# Settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Mars/Olympus", ""])
def test_invalid_org_timezone_rejected(
    database_url: str, nats_url: str, zone: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        monitor_settings(database_url, nats_url, "p", org_timezone=zone)

    assert "AE_ORG_TIMEZONE" in str(caught.value)


def test_org_timezone_read_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A dummy HMAC key, so that the common settings load.
    monkeypatch.setenv("AE_JWT_SECRET", "k" * 64)
    monkeypatch.setenv("AE_ORG_TIMEZONE", "localtime")

    with pytest.raises(ConfigError) as caught:
        SlaMonitorSettings.from_env()

    assert "'localtime'" in str(caught.value)


# GetCapacity ------------------------------------------------------------------------


async def add_snapshot(
    db: asyncpg.Connection, unit_id: str, day: date, warnings: int
) -> None:
    await db.execute(
        """
        INSERT INTO capacity_snapshots (unit_id, day, staff, available_staff,
                                        wip_capacity, active_assignments,
                                        utilisation, queue_length, warnings,
                                        breaches, recorded_at)
        VALUES ($1, $2, 4, 3, 6, 3, 0.5, 2, $3, 1, $4)
        """,
        unit_id,
        day,
        warnings,
        datetime(day.year, day.month, day.day, 21, 0, 1, tzinfo=UTC),
    )


async def test_get_capacity_now_from_live_tables(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)

    response = await monitor.stub.GetCapacity(pb.GetCapacityRequest())

    units = {unit.unit_id: unit for unit in response.now}
    north = units["north"]
    assert list(units) == ["engine-ops", "north", "south"]
    assert north.staff == 3
    assert north.available_staff == 2
    assert north.wip_capacity == 5
    assert north.active_assignments == 2
    assert north.utilisation == pytest.approx(0.4)
    assert north.queue_length == 2
    assert units["south"].utilisation == 0.0
    assert response.timezone == RIYADH
    assert len(response.snapshots) == 0


async def test_get_capacity_of_one_unit(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)

    response = await monitor.stub.GetCapacity(pb.GetCapacityRequest(unit_id="south"))

    assert [unit.unit_id for unit in response.now] == ["south"]
    assert response.now[0].wip_capacity == 1


async def test_get_capacity_unknown_unit_not_found(monitor: RunningMonitor) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await monitor.stub.GetCapacity(pb.GetCapacityRequest(unit_id="nowhere"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_get_capacity_range_by_day_then_unit(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    for day, warnings in [(date(2025, 1, 1), 1), (date(2025, 1, 2), 2)]:
        await add_snapshot(db, "south", day, warnings)
        await add_snapshot(db, "north", day, warnings + 10)
    await add_snapshot(db, "north", date(2025, 1, 3), 99)

    response = await monitor.stub.GetCapacity(
        pb.GetCapacityRequest(from_day="2025-01-01", to_day="2025-01-02")
    )

    keys = [(s.day, s.capacity.unit_id) for s in response.snapshots]
    first = response.snapshots[0]
    assert keys == [
        ("2025-01-01", "north"),
        ("2025-01-01", "south"),
        ("2025-01-02", "north"),
        ("2025-01-02", "south"),
    ]
    assert [s.warnings for s in response.snapshots] == [11, 1, 12, 2]
    assert first.breaches == 1
    assert first.capacity.staff == 4
    assert first.capacity.available_staff == 3
    assert first.capacity.wip_capacity == 6
    assert first.capacity.active_assignments == 3
    assert first.capacity.utilisation == 0.5
    assert first.capacity.queue_length == 2
    assert first.recorded_at.ToDatetime(tzinfo=UTC) == datetime(
        2025, 1, 1, 21, 0, 1, tzinfo=UTC
    )


async def test_get_capacity_range_of_one_unit(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await add_snapshot(db, "south", date(2025, 1, 1), 1)
    await add_snapshot(db, "north", date(2025, 1, 1), 2)

    response = await monitor.stub.GetCapacity(
        pb.GetCapacityRequest(
            unit_id="north", from_day="2025-01-01", to_day="2025-01-01"
        )
    )

    assert [s.capacity.unit_id for s in response.snapshots] == ["north"]
    assert [unit.unit_id for unit in response.now] == ["north"]


async def test_get_capacity_accepts_366_days(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await add_snapshot(db, "north", date(2024, 1, 1), 1)
    await add_snapshot(db, "north", date(2025, 1, 1), 2)

    response = await monitor.stub.GetCapacity(
        pb.GetCapacityRequest(from_day="2024-01-01", to_day="2025-01-01")
    )

    assert [s.warnings for s in response.snapshots] == [1, 2]


async def test_get_capacity_reports_configured_timezone(
    database_url: str, nats_url: str, subject_prefix: str
) -> None:
    settings = monitor_settings(
        database_url, nats_url, subject_prefix, org_timezone="Europe/London"
    )
    running = await start_monitor(settings)

    try:
        response = await running.stub.GetCapacity(pb.GetCapacityRequest())
    finally:
        await running.runtime.close()

    assert response.timezone == "Europe/London"
