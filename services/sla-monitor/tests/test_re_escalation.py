"""Re-escalation of unacknowledged escalations, and warning escalations."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import asyncpg
import pytest

from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.devstack import seeding
from assignment_engine.sla_monitor.config import DEFAULT_TICK_INTERVAL_S

from .conftest import (
    RunningMonitor,
    add_clock,
    monitor_settings,
    start_monitor,
    wait_for_value,
)

CHAIN_QUERY = """
    SELECT level, reason, escalated_from_id, escalated_to_id, escalated_at,
           re_escalate_at
    FROM escalation_events
    WHERE work_item_id = $1 AND reason IN ('sla_breach', 're_escalation')
    ORDER BY level
"""
# Slack on top of the interval before a climb: one detection tick plus the time
# a pass takes on a loaded machine.
CLIMB_SLACK = timedelta(seconds=1.5)


async def add_organisation(db: asyncpg.Connection) -> None:
    """Units "ops" (supervisor olivia) and "exec" (no supervisor), and admins.

    bob works in ops. olivia escalates to director, who is in exec and has no
    escalation contact. "Admin-a" is the first admin in "C" collation order,
    before "Admin-b" and the test database's admin "root".
    """
    await seeding.add_unit(db, "ops")
    await seeding.add_unit(db, "exec")
    await seeding.add_staff(db, "director", "exec", role="supervisor")
    await seeding.add_staff(db, "olivia", "ops", role="supervisor")
    await seeding.add_staff(db, "bob", "ops")
    await seeding.add_staff(db, "Admin-a", "exec", role="admin")
    await seeding.add_staff(db, "Admin-b", "exec", role="admin")
    await seeding.set_supervisor(db, "ops", "olivia")
    await db.execute(
        "UPDATE staff SET escalates_to_id = 'director' WHERE id = 'olivia'"
    )


async def set_re_escalation_interval(db: asyncpg.Connection, seconds: float) -> None:
    """Give the items of add_clock (type incident, priority 3) the interval."""
    await db.execute(
        """
        INSERT INTO sla_policies (work_item_type, priority, resolution_target,
                                  re_escalation_interval)
        VALUES ('incident', 3, interval '1 hour', make_interval(secs => $1))
        """,
        seconds,
    )


async def breach(db: asyncpg.Connection, assignee_id: str | None = "bob") -> uuid.UUID:
    """Add an overdue clock of an item assigned to `assignee_id` (queued for ops
    when None)."""
    return await add_clock(
        db,
        warning_in_s=-2,
        deadline_in_s=-1,
        assignee_id=assignee_id,
        target_unit_id="ops" if assignee_id is None else None,
    )


async def wait_for_level(
    db: asyncpg.Connection, work_item_id: uuid.UUID, level: int
) -> None:
    await wait_for_value(
        db,
        "SELECT count(*) FROM escalation_events "
        "WHERE work_item_id = $1 AND level = $2 "
        "AND reason IN ('sla_breach', 're_escalation')",
        work_item_id,
        level,
    )


async def test_unacknowledged_breach_climbs_each_interval(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.0)
    work_item_id = await breach(db)

    await wait_for_level(db, work_item_id, 3)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1, 2, 3]
    assert [row["reason"] for row in chain] == [
        "sla_breach",
        "re_escalation",
        "re_escalation",
    ]
    assert [row["escalated_to_id"] for row in chain] == [
        "olivia",
        "director",
        "Admin-a",
    ]
    assert [row["escalated_from_id"] for row in chain] == ["bob", "olivia", "director"]
    for earlier, later in pairwise(chain):
        gap = later["escalated_at"] - earlier["escalated_at"]
        assert gap >= timedelta(seconds=1), gap
        assert gap < timedelta(seconds=1) + CLIMB_SLACK, gap
    assert [row["re_escalate_at"] for row in chain] == [None, None, None]


async def test_climb_never_passes_maximum_level(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.0)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 3)

    await asyncio.sleep(2.5)

    levels = await db.fetchval(
        "SELECT array_agg(level ORDER BY level) FROM escalation_events "
        "WHERE work_item_id = $1",
        work_item_id,
    )
    assert levels == [1, 1, 2, 3]


async def test_configured_maximum_level_stops_climb(
    db: asyncpg.Connection, database_url: str, nats_url: str, subject_prefix: str
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.0)
    settings = monitor_settings(
        database_url, nats_url, subject_prefix, max_escalation_level=2
    )
    running = await start_monitor(settings)
    try:
        work_item_id = await breach(db)
        await wait_for_level(db, work_item_id, 2)

        await asyncio.sleep(2.5)
    finally:
        await running.runtime.close()

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1, 2]
    assert chain[1]["re_escalate_at"] is None


async def test_acknowledged_escalation_stops_climb(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 2.0)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 1)
    escalation_id = await db.fetchval(
        "SELECT id FROM escalation_events WHERE work_item_id = $1 AND level = 1 "
        "AND reason = 'sla_breach'",
        work_item_id,
    )

    await monitor.stub.AcknowledgeEscalation(
        pb.AcknowledgeEscalationRequest(escalation_id=str(escalation_id))
    )
    await asyncio.sleep(3.0)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1]
    assert chain[0]["re_escalate_at"] is None


async def test_acknowledging_second_level_stops_third(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.5)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 2)
    second = await db.fetchval(
        "SELECT id FROM escalation_events WHERE work_item_id = $1 AND level = 2",
        work_item_id,
    )

    await monitor.stub.ResolveEscalation(
        pb.ResolveEscalationRequest(escalation_id=str(second))
    )
    await asyncio.sleep(2.5)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1, 2]


@pytest.mark.parametrize(
    ("contacts", "recipients"),
    [
        pytest.param(
            {"bob": "lead-a", "lead-a": "lead-b", "lead-b": "lead-a"},
            ["lead-a", "lead-b", "Admin-a"],
            id="two-person-cycle",
        ),
        pytest.param(
            {"bob": "lead-a", "lead-a": "lead-a"},
            ["lead-a", "olivia", "director"],
            id="contact-is-self",
        ),
        pytest.param(
            {"bob": "lead-a", "lead-a": "bob"},
            ["lead-a", "olivia", "director"],
            id="contact-is-assignee",
        ),
        pytest.param(
            {"bob": "Admin-a", "Admin-a": "bob"},
            ["Admin-a", "Admin-b", "root"],
            id="admins-in-order",
        ),
    ],
)
async def test_re_escalation_recipient_follows_chain(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    contacts: dict[str, str],
    recipients: list[str],
) -> None:
    await add_organisation(db)
    await seeding.add_staff(db, "lead-a", "ops")
    await seeding.add_staff(db, "lead-b", "exec")
    for staff_id, contact in contacts.items():
        await db.execute(
            "UPDATE staff SET escalates_to_id = $2 WHERE id = $1", staff_id, contact
        )
    await set_re_escalation_interval(db, 1.0)
    work_item_id = await breach(db)

    await wait_for_level(db, work_item_id, 3)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["escalated_to_id"] for row in chain] == recipients
    assert "bob" not in [row["escalated_to_id"] for row in chain]


async def test_cycle_is_logged(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="assignment_engine.sla_monitor")
    await add_organisation(db)
    await db.execute(
        "UPDATE staff SET escalates_to_id = 'olivia' WHERE id = 'director'"
    )
    await set_re_escalation_interval(db, 1.0)
    work_item_id = await breach(db)

    await wait_for_level(db, work_item_id, 3)

    climbs = [
        getattr(record, "ae_fields", {})
        for record in caplog.records
        if getattr(record, "ae_fields", {}).get("event") == "re_escalated"
    ]
    assert [climb["staff_id"] for climb in climbs] == ["director", "Admin-a"]
    assert [climb["cycle"] for climb in climbs] == [False, True]


async def test_queued_item_climbs_from_target_supervisor(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.0)
    work_item_id = await breach(db, assignee_id=None)

    await wait_for_level(db, work_item_id, 3)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["escalated_to_id"] for row in chain] == [
        "olivia",
        "director",
        "Admin-a",
    ]
    assert [row["escalated_from_id"] for row in chain] == [None, "olivia", "director"]


async def test_paused_clock_does_not_climb(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 2.0)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 1)

    await db.execute(
        "UPDATE sla_clocks SET paused_since = now() WHERE work_item_id = $1",
        work_item_id,
    )
    await asyncio.sleep(3.0)

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1]
    assert chain[0]["re_escalate_at"] is not None


async def test_stopped_clock_ends_climb(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 1.5)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 1)

    await db.execute(
        "UPDATE sla_clocks SET stopped_at = now() WHERE work_item_id = $1",
        work_item_id,
    )
    await wait_for_value(
        db,
        "SELECT re_escalate_at IS NULL FROM escalation_events "
        "WHERE work_item_id = $1 AND level = 1 AND reason = 'sla_breach'",
        work_item_id,
    )

    chain = await db.fetch(CHAIN_QUERY, work_item_id)
    assert [row["level"] for row in chain] == [1]


async def test_re_escalate_at_can_only_be_cleared(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    await set_re_escalation_interval(db, 3600.0)
    work_item_id = await breach(db)
    await wait_for_level(db, work_item_id, 1)

    with pytest.raises(asyncpg.RestrictViolationError) as caught:
        await db.execute(
            "UPDATE escalation_events SET re_escalate_at = now() "
            "WHERE work_item_id = $1 AND level = 1",
            work_item_id,
        )

    assert "can only be cleared" in str(caught.value)


async def test_levels_escalate_once_across_monitors_and_restart(
    db: asyncpg.Connection, database_url: str, nats_url: str, subject_prefix: str
) -> None:
    item_count = 40
    await add_organisation(db)
    await seeding.add_staff(db, "worker", "ops", wip_limit=item_count)
    await set_re_escalation_interval(db, 1.0)
    # Small batches, so the monitors interleave many transactions.
    settings = monitor_settings(database_url, nats_url, subject_prefix, batch_size=5)
    first = await start_monitor(settings)
    second = await start_monitor(settings)
    replacement = None
    try:
        for index in range(item_count):
            await breach(db, assignee_id="worker" if index % 2 == 0 else None)
        await wait_for_value(
            db, "SELECT count(*) FROM escalation_events WHERE level = 2"
        )

        await first.runtime.close()
        replacement = await start_monitor(settings)
        await wait_for_value(
            db,
            "SELECT count(*) = $1 FROM escalation_events WHERE level = 3",
            item_count,
        )
        await asyncio.sleep(1.0 + 2 * DEFAULT_TICK_INTERVAL_S)
    finally:
        await second.runtime.close()
        if replacement is not None:
            await replacement.runtime.close()

    per_level = await db.fetch(
        """
        SELECT level, count(*) AS rows, count(DISTINCT work_item_id) AS items
        FROM escalation_events
        WHERE reason IN ('sla_breach', 're_escalation')
        GROUP BY level ORDER BY level
        """
    )
    assert [row["level"] for row in per_level] == [1, 2, 3]
    for row in per_level:
        assert row["rows"] == item_count, row["level"]
        assert row["items"] == item_count, row["level"]


# Warning escalations --------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignee", "recipient"),
    [
        pytest.param("bob", "olivia", id="assignee-supervisor"),
        pytest.param("olivia", "director", id="assignee-contact"),
        pytest.param(None, "olivia", id="queued-target-supervisor"),
    ],
)
async def test_warning_writes_one_escalation(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    assignee: str | None,
    recipient: str,
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db,
        warning_in_s=0.2,
        deadline_in_s=3600,
        assignee_id=assignee,
        target_unit_id="ops" if assignee is None else None,
    )

    await wait_for_value(
        db,
        "SELECT warned_at FROM sla_clocks WHERE work_item_id = $1",
        work_item_id,
    )
    await asyncio.sleep(2 * DEFAULT_TICK_INTERVAL_S)

    rows = await db.fetch(
        "SELECT reason, level, escalated_from_id, escalated_to_id, assignment_id, "
        "re_escalate_at FROM escalation_events WHERE work_item_id = $1",
        work_item_id,
    )
    assignment_id = await db.fetchval(
        "SELECT id FROM assignments WHERE work_item_id = $1", work_item_id
    )
    assert len(rows) == 1
    assert rows[0]["reason"] == "sla_warning"
    assert rows[0]["level"] == 1
    assert rows[0]["escalated_to_id"] == recipient
    assert rows[0]["escalated_from_id"] == assignee
    assert rows[0]["assignment_id"] == assignment_id
    assert rows[0]["re_escalate_at"] is None


async def test_breach_keeps_single_warning_escalation(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_organisation(db)
    now = datetime.now(UTC)
    work_item_id = await add_clock(
        db, warning_in_s=0.2, deadline_in_s=0.6, assignee_id="bob"
    )

    await wait_for_level(db, work_item_id, 1)
    await asyncio.sleep(2 * DEFAULT_TICK_INTERVAL_S)

    reasons = await db.fetchval(
        "SELECT array_agg(reason ORDER BY reason) FROM escalation_events "
        "WHERE work_item_id = $1",
        work_item_id,
    )
    warned_at = await db.fetchval(
        "SELECT warned_at FROM sla_clocks WHERE work_item_id = $1", work_item_id
    )
    assert reasons == ["sla_breach", "sla_warning"]
    assert warned_at > now
