"""The detection loop against a real database: warnings, breaches, escalations."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import nats
import pytest

from assignment_engine.api.v1 import events_pb2
from assignment_engine.core import subjects
from assignment_engine.devstack import invariants, seeding
from assignment_engine.devstack.testing import ROOT_ADMIN_ID
from assignment_engine.sla_monitor.config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TICK_INTERVAL_S,
)
from assignment_engine.sla_monitor.monitor import ROUTING_INTERVAL_S, SlaMonitor

from .conftest import (
    WAIT_TIMEOUT_S,
    RunningMonitor,
    add_clock,
    monitor_settings,
    start_monitor,
    wait_for_breach,
    wait_for_value,
)

BREACH_ESCALATIONS_COUNT = (
    "SELECT count(*) FROM escalation_events WHERE reason = 'sla_breach'"
)
BREACH_ESCALATION_QUERY = """
    SELECT id, assignment_id, escalated_from_id, escalated_to_id, reason, level
    FROM escalation_events WHERE work_item_id = $1 AND reason = 'sla_breach'
"""


async def add_organisation(db: asyncpg.Connection) -> None:
    """Two units: "ops" supervised by olivia, and "lab" with no supervisor.

    alice escalates to mentor, and self-ref names herself as her escalation
    contact. The admins are "admin-b" and "Zed-admin". "Zed-admin" sorts first
    in "C" collation order, because upper case sorts before lower case.
    """
    await seeding.add_unit(db, "ops")
    await seeding.add_unit(db, "lab")
    await seeding.add_staff(db, "olivia", "ops", role="supervisor")
    await seeding.add_staff(db, "mentor", "ops")
    await seeding.add_staff(db, "alice", "ops", escalates_to_id="mentor")
    await seeding.add_staff(db, "bob", "ops")
    await seeding.add_staff(db, "self-ref", "ops", escalates_to_id="self-ref")
    await seeding.add_staff(db, "carol", "lab")
    await seeding.add_staff(db, "admin-b", "lab", role="admin")
    await seeding.add_staff(db, "Zed-admin", "lab", role="admin")
    await seeding.set_supervisor(db, "ops", "olivia")


async def test_warning_and_breach_marked_on_time(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=0.3, deadline_in_s=0.9, assignee_id="bob"
    )

    await wait_for_breach(db, work_item_id)

    clock = await db.fetchrow(
        "SELECT warning_at, deadline, warned_at, breached_at FROM sla_clocks"
    )
    assert clock["warned_at"] >= clock["warning_at"]
    assert clock["warned_at"] - clock["warning_at"] < timedelta(seconds=1)
    assert clock["warned_at"] < clock["deadline"]
    assert clock["breached_at"] >= clock["deadline"]
    assert clock["breached_at"] - clock["deadline"] < timedelta(seconds=1)


async def test_overdue_clock_marks_warning_too(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(db, warning_in_s=-120, deadline_in_s=-60)

    breached_at = await wait_for_breach(db, work_item_id)

    warned_at = await db.fetchval("SELECT warned_at FROM sla_clocks")
    assert warned_at == breached_at


@pytest.mark.parametrize(
    ("assignee", "target_unit", "recipient"),
    [
        pytest.param("alice", None, "mentor", id="escalation-contact"),
        pytest.param("bob", None, "olivia", id="unit-supervisor"),
        pytest.param("self-ref", None, "olivia", id="contact-is-assignee"),
        pytest.param("carol", None, "Zed-admin", id="admin-when-no-supervisor"),
        pytest.param("olivia", None, "Zed-admin", id="assignee-is-supervisor"),
        pytest.param("Zed-admin", None, "admin-b", id="assignee-is-first-admin"),
        pytest.param("bob", "lab", "olivia", id="assignee-unit-over-target"),
        pytest.param(None, "ops", "olivia", id="queued-target-supervisor"),
        pytest.param(None, "lab", "Zed-admin", id="queued-target-unsupervised"),
        pytest.param(None, None, "Zed-admin", id="queued-without-target"),
    ],
)
async def test_breach_escalates_to_recipient(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    assignee: str | None,
    target_unit: str | None,
    recipient: str,
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db,
        warning_in_s=-2,
        deadline_in_s=-1,
        target_unit_id=target_unit,
        assignee_id=assignee,
    )

    await wait_for_value(
        db,
        "SELECT count(*) FROM escalation_events "
        "WHERE work_item_id = $1 AND reason = 'sla_breach'",
        work_item_id,
    )

    escalation = await db.fetchrow(BREACH_ESCALATION_QUERY, work_item_id)
    assignment_id = await db.fetchval(
        "SELECT id FROM assignments WHERE work_item_id = $1", work_item_id
    )
    assert escalation["escalated_to_id"] == recipient
    assert escalation["escalated_from_id"] == assignee
    assert escalation["assignment_id"] == assignment_id
    assert escalation["reason"] == "sla_breach"
    assert escalation["level"] == 1


async def test_breach_without_recipient_logs_error(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="assignment_engine.sla_monitor")
    # The detection loop makes no RPC, so the default caller need not be an admin,
    # and demoting them leaves the assignee as the only admin.
    await db.execute("UPDATE staff SET role = 'staff' WHERE id = $1", ROOT_ADMIN_ID)
    await seeding.add_unit(db, "solo-unit")
    await seeding.add_staff(db, "solo", "solo-unit", role="admin")
    work_item_id = await add_clock(
        db, warning_in_s=-2, deadline_in_s=-1, assignee_id="solo"
    )

    await wait_for_breach(db, work_item_id)

    escalations = await db.fetchval("SELECT count(*) FROM escalation_events")
    errors = [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR
        and getattr(record, "ae_fields", {}).get("work_item_id") == str(work_item_id)
    ]
    assert escalations == 0
    assert len(errors) == 1
    assert str(work_item_id) in errors[0].getMessage()

    # The running monitor routes the breach once an admin exists.
    await seeding.add_staff(db, "backup", "solo-unit", role="admin")
    recipient = await wait_for_value(
        db,
        "SELECT escalated_to_id FROM escalation_events WHERE work_item_id = $1",
        work_item_id,
        timeout_s=ROUTING_INTERVAL_S + WAIT_TIMEOUT_S,
    )
    assert recipient == "backup"


async def arrange_unrouted_breach(
    db: asyncpg.Connection, monitor: SlaMonitor
) -> uuid.UUID:
    """Breach an item of "solo", the only admin, in one pass; return the item id."""
    await demote_root_admin(db)
    await seeding.add_unit(db, "solo-unit")
    await seeding.add_staff(db, "solo", "solo-unit", role="admin")
    work_item_id = await add_clock(
        db, warning_in_s=-2, deadline_in_s=-1, assignee_id="solo"
    )
    await monitor.run_pass()
    return work_item_id


MonitorFactory = Callable[..., SlaMonitor]


@pytest.fixture
def driven_monitor(
    pool: asyncpg.Pool, database_url: str, nats_url: str, subject_prefix: str
) -> MonitorFactory:
    """Return a factory of monitors that a test drives pass by pass.

    By default they route breaches that had no recipient on every pass.
    """

    def make(
        *, batch_size: int = DEFAULT_BATCH_SIZE, routing_interval_s: float = 0.0
    ) -> SlaMonitor:
        settings = monitor_settings(
            database_url, nats_url, subject_prefix, batch_size=batch_size
        )
        monitor = SlaMonitor(pool, settings, on_commit=lambda: None)
        monitor.routing_interval_s = routing_interval_s
        return monitor

    return make


async def demote_root_admin(db: asyncpg.Connection) -> None:
    """Make the bootstrap admin ordinary staff, so only the test's admins remain.

    The detection loop makes no RPC, so no test caller needs the admin role.
    """
    await db.execute("UPDATE staff SET role = 'staff' WHERE id = $1", ROOT_ADMIN_ID)


async def published_breaches(
    db: asyncpg.Connection, work_item_id: uuid.UUID
) -> list[events_pb2.SlaBreached]:
    payloads = await db.fetch(
        "SELECT payload FROM outbox WHERE subject = $1 ORDER BY id",
        subjects.SLA_BREACHED,
    )
    events = [events_pb2.SlaBreached.FromString(row["payload"]) for row in payloads]
    return [event for event in events if event.work_item_id == str(work_item_id)]


async def test_unrouted_breach__escalates_when_admin_added(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    monitor = driven_monitor()
    work_item_id = await arrange_unrouted_breach(db, monitor)
    unrouted_before = await db.fetchval("SELECT count(*) FROM sla_unrouted_breaches")
    await monitor.run_pass()
    unrouted_while_no_admin = await db.fetchval(
        "SELECT count(*) FROM sla_unrouted_breaches"
    )

    await seeding.add_staff(db, "backup", "solo-unit", role="admin")
    await monitor.run_pass()
    await monitor.run_pass()

    escalation = await db.fetchrow(BREACH_ESCALATION_QUERY, work_item_id)
    assignment_id = await db.fetchval(
        "SELECT id FROM assignments WHERE work_item_id = $1", work_item_id
    )
    unrouted_after = await db.fetchval("SELECT count(*) FROM sla_unrouted_breaches")
    events = await published_breaches(db, work_item_id)
    breached_at = await db.fetchval("SELECT breached_at FROM sla_clocks")
    results = {result.description: result for result in await invariants.check_all(db)}
    assert unrouted_before == 1
    assert unrouted_while_no_admin == 1
    assert unrouted_after == 0
    assert escalation["escalated_to_id"] == "backup"
    assert escalation["escalated_from_id"] == "solo"
    assert escalation["assignment_id"] == assignment_id
    assert escalation["level"] == 1
    assert [(event.level, event.escalation_id) for event in events] == [
        (0, ""),
        (1, str(escalation["id"])),
    ]
    assert events[1].escalated_to_id == "backup"
    assert events[1].occurred_at.ToDatetime(tzinfo=UTC) == breached_at
    assert results["every breach is escalated exactly once"].holds


async def test_unrouted_breach__dropped_when_clock_stops(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    monitor = driven_monitor()
    work_item_id = await arrange_unrouted_breach(db, monitor)

    await db.execute(
        "UPDATE sla_clocks SET stopped_at = now() WHERE work_item_id = $1",
        work_item_id,
    )
    await seeding.add_staff(db, "backup", "solo-unit", role="admin")
    await monitor.run_pass()

    escalations = await db.fetchval("SELECT count(*) FROM escalation_events")
    unrouted = await db.fetchval("SELECT count(*) FROM sla_unrouted_breaches")
    assert escalations == 0
    assert unrouted == 0


async def test_unrouted_breach__skipped_while_item_locked(
    db: asyncpg.Connection, driven_monitor: MonitorFactory, database_url: str
) -> None:
    monitor = driven_monitor()
    work_item_id = await arrange_unrouted_breach(db, monitor)
    await seeding.add_staff(db, "backup", "solo-unit", role="admin")

    # A completion holds the work item FOR UPDATE while it stops the clock.
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM work_items WHERE id = $1 FOR UPDATE", work_item_id
            )
            await asyncio.wait_for(monitor.run_pass(), WAIT_TIMEOUT_S)
            held_escalations = await db.fetchval(
                "SELECT count(*) FROM escalation_events"
            )
    finally:
        await holder.close()
    await monitor.run_pass()

    escalations = await db.fetchval("SELECT count(*) FROM escalation_events")
    assert held_escalations == 0
    assert escalations == 1


async def test_stopped_and_paused_clocks_never_fire(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    earlier = datetime.now(UTC) - timedelta(seconds=1)
    stopped = await add_clock(
        db, warning_in_s=0.1, deadline_in_s=0.3, stopped_at=earlier
    )
    paused = await add_clock(
        db, warning_in_s=0.1, deadline_in_s=0.3, paused_since=earlier
    )
    running = await add_clock(db, warning_in_s=0.1, deadline_in_s=0.3)

    await wait_for_breach(db, running)
    # Two more passes, in case the three clocks were split across passes.
    await asyncio.sleep(2 * DEFAULT_TICK_INTERVAL_S)

    rows = await db.fetch(
        "SELECT work_item_id, warned_at, breached_at FROM sla_clocks "
        "WHERE work_item_id = ANY ($1::uuid[])",
        [stopped, paused],
    )
    escalated = await db.fetchval(
        "SELECT count(*) FROM escalation_events WHERE work_item_id = ANY ($1::uuid[])",
        [stopped, paused],
    )
    assert len(rows) == 2
    for row in rows:
        assert row["warned_at"] is None, row["work_item_id"]
        assert row["breached_at"] is None, row["work_item_id"]
    assert escalated == 0


async def test_two_monitors_escalate_each_item_once(
    db: asyncpg.Connection, database_url: str, nats_url: str, subject_prefix: str
) -> None:
    item_count = 200
    await add_organisation(db)
    for index in range(4):
        await seeding.add_staff(db, f"worker-{index}", "ops", wip_limit=item_count)
    for index in range(item_count):
        await add_clock(
            db,
            warning_in_s=0.6,
            deadline_in_s=0.8,
            target_unit_id="ops",
            assignee_id=f"worker-{index % 4}" if index % 2 == 0 else None,
        )
    # Small batches, so the two monitors interleave many transactions.
    settings = monitor_settings(database_url, nats_url, subject_prefix, batch_size=20)
    first = await start_monitor(settings)
    second = await start_monitor(settings)

    try:
        await wait_for_value(
            db,
            "SELECT count(*) = $1 FROM sla_clocks WHERE breached_at IS NOT NULL",
            item_count,
        )
        await asyncio.sleep(2 * DEFAULT_TICK_INTERVAL_S)
        await wait_for_value(db, "SELECT NOT EXISTS (SELECT 1 FROM outbox)")
    finally:
        await first.runtime.close()
        await second.runtime.close()
    published = await count_published(nats_url, subject_prefix)

    escalations = await db.fetchval(
        "SELECT count(*) FROM escalation_events WHERE reason = 'sla_breach'"
    )
    warning_escalations = await db.fetchval(
        "SELECT count(*) FROM escalation_events WHERE reason = 'sla_warning'"
    )
    escalated_items = await db.fetchval(
        "SELECT count(DISTINCT work_item_id) FROM escalation_events"
    )
    unwarned = await db.fetchval(
        "SELECT count(*) FROM sla_clocks WHERE warned_at IS NULL"
    )
    results = {result.description: result for result in await invariants.check_all(db)}
    assert escalations == item_count
    assert warning_escalations == item_count
    assert escalated_items == item_count
    assert unwarned == 0
    assert results["every breach is escalated exactly once"].holds
    assert published[subjects.SLA_WARNING] == item_count
    assert published[subjects.SLA_BREACHED] == item_count


async def test_breach_publishes_sla_events(
    db: asyncpg.Connection, monitor: RunningMonitor, nats_url: str
) -> None:
    prefix = monitor.settings.common.subject_prefix
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=0.1, deadline_in_s=0.3, assignee_id="bob"
    )
    client = await nats.connect(nats_url)

    try:
        subscription = await client.jetstream().subscribe(f"{prefix}.sla.>")
        warning_message = await subscription.next_msg(timeout=WAIT_TIMEOUT_S)
        breached_message = await subscription.next_msg(timeout=WAIT_TIMEOUT_S)
    finally:
        await client.close()

    warning = events_pb2.SlaWarning.FromString(warning_message.data)
    breached = events_pb2.SlaBreached.FromString(breached_message.data)
    escalation = await db.fetchrow(BREACH_ESCALATION_QUERY, work_item_id)
    deadline = await db.fetchval("SELECT deadline FROM sla_clocks")
    assert warning_message.subject == subjects.subject(prefix, subjects.SLA_WARNING)
    assert warning.work_item_id == str(work_item_id)
    assert warning.assignee_id == "bob"
    assert warning.deadline.ToDatetime(tzinfo=UTC) == deadline
    assert breached_message.subject == subjects.subject(prefix, subjects.SLA_BREACHED)
    assert breached.work_item_id == str(work_item_id)
    assert breached.assignee_id == "bob"
    assert breached.escalated_to_id == "olivia"
    assert breached.escalation_id == str(escalation["id"])
    assert breached.level == 1


async def test_monitor_recovers_after_failed_statements(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="assignment_engine.sla_monitor")
    await add_organisation(db)
    await db.execute("ALTER TABLE sla_clocks RENAME TO sla_clocks_hidden")
    await wait_for_log_event(caplog, "sla_pass_failed")
    await db.execute("ALTER TABLE sla_clocks_hidden RENAME TO sla_clocks")

    work_item_id = await add_clock(db, warning_in_s=-2, deadline_in_s=-1)

    await wait_for_breach(db, work_item_id)
    assert await db.fetchval(BREACH_ESCALATIONS_COUNT) == 1


async def test_monitor_recovers_after_terminated_connections(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await db.execute(
        """
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
        """
    )

    work_item_id = await add_clock(db, warning_in_s=-2, deadline_in_s=-1)

    await wait_for_breach(db, work_item_id)
    assert await db.fetchval(BREACH_ESCALATIONS_COUNT) == 1


async def count_published(nats_url: str, prefix: str) -> dict[str, int]:
    """Count the messages of each SLA subject in the prefix's stream."""
    client = await nats.connect(nats_url)
    try:
        info = await client.jetstream().stream_info(
            subjects.stream_name(prefix), subjects_filter=f"{prefix}.sla.>"
        )
    finally:
        await client.close()
    counts = info.state.subjects or {}
    return {
        name: counts.get(subjects.subject(prefix, name), 0)
        for name in (subjects.SLA_WARNING, subjects.SLA_BREACHED)
    }


async def wait_for_log_event(caplog: pytest.LogCaptureFixture, event: str) -> None:
    give_up_at = time.monotonic() + WAIT_TIMEOUT_S
    while not any(
        getattr(record, "ae_fields", {}).get("event") == event
        for record in caplog.records
    ):
        if time.monotonic() > give_up_at:
            raise AssertionError(f"no {event!r} log record within {WAIT_TIMEOUT_S} s")
        await asyncio.sleep(0.02)


async def test_failed_routing__waits_while_passes_mark_clocks(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    await add_organisation(db)
    monitor = driven_monitor(routing_interval_s=ROUTING_INTERVAL_S)
    # Routing now fails on every try.
    await db.execute("DROP TABLE sla_unrouted_breaches")
    with pytest.raises(asyncpg.UndefinedTableError):
        await monitor.run_pass()
    work_item_id = await add_clock(
        db, warning_in_s=-2, deadline_in_s=-1, assignee_id="bob"
    )

    await monitor.run_pass()

    breached_at = await db.fetchval(
        "SELECT breached_at FROM sla_clocks WHERE work_item_id = $1", work_item_id
    )
    assert breached_at is not None


async def test_unrouted_full_batch__newer_breaches_not_starved(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    batch_size = 3
    monitor = driven_monitor(batch_size=batch_size)
    # No admin, and two units without a supervisor: a queued item has no recipient.
    await demote_root_admin(db)
    await seeding.add_unit(db, "lab")
    await seeding.add_unit(db, "desk")
    await seeding.add_staff(db, "nina", "desk", role="supervisor")
    for _ in range(batch_size):
        await add_clock(db, warning_in_s=-2, deadline_in_s=-1, target_unit_id="lab")
    await monitor.run_pass()
    newer = {
        await add_clock(db, warning_in_s=-2, deadline_in_s=-1, target_unit_id="desk")
        for _ in range(2)
    }
    await monitor.run_pass()

    await seeding.set_supervisor(db, "desk", "nina")
    await monitor.run_pass()
    await monitor.run_pass()

    escalated = await db.fetch(
        "SELECT work_item_id, escalated_to_id FROM escalation_events "
        "WHERE reason = 'sla_breach'"
    )
    waiting = await db.fetchval("SELECT count(*) FROM sla_unrouted_breaches")
    assert {row["work_item_id"] for row in escalated} == newer
    assert {row["escalated_to_id"] for row in escalated} == {"nina"}
    assert waiting == batch_size


async def test_unrouted_full_batch__waits_routing_interval(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    batch_size = 3
    monitor = driven_monitor(
        batch_size=batch_size, routing_interval_s=ROUTING_INTERVAL_S
    )
    await demote_root_admin(db)
    await seeding.add_unit(db, "lab")
    for _ in range(batch_size):
        await add_clock(db, warning_in_s=-2, deadline_in_s=-1, target_unit_id="lab")
    await monitor.run_pass()
    first_tries = await db.fetchval("SELECT max(tried_at) FROM sla_unrouted_breaches")

    await monitor.run_pass()
    await monitor.run_pass()

    later_tries = await db.fetchval("SELECT max(tried_at) FROM sla_unrouted_breaches")
    assert first_tries is not None
    assert later_tries == first_tries


async def test_missed_breach__recorded_and_routed(
    db: asyncpg.Connection, driven_monitor: MonitorFactory
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-2, deadline_in_s=-1, assignee_id="bob"
    )
    # Marked without an escalation or a row, as a monitor that predates
    # sla_unrouted_breaches leaves a breach it cannot escalate.
    await db.execute(
        "UPDATE sla_clocks SET warned_at = now(), breached_at = now() "
        "WHERE work_item_id = $1",
        work_item_id,
    )
    monitor = driven_monitor(routing_interval_s=ROUTING_INTERVAL_S)

    await monitor.run_pass()

    escalation = await db.fetchrow(BREACH_ESCALATION_QUERY, work_item_id)
    waiting = await db.fetchval("SELECT count(*) FROM sla_unrouted_breaches")
    assert escalation["escalated_to_id"] == "olivia"
    assert waiting == 0
