"""The claim statements that mark clocks, insert escalations and build the
outbox events in SQL, and the protobuf encoding functions of migration 0007."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from google.protobuf import timestamp_pb2, wrappers_pb2

from assignment_engine.api.v1 import events_pb2
from assignment_engine.core import subjects
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.migrate import apply_migrations
from assignment_engine.devstack import seeding
from assignment_engine.devstack.testing import ROOT_ADMIN_ID
from assignment_engine.sla_monitor.monitor import BatchResult, SlaMonitor

from .conftest import add_clock, monitor_settings

VARINTS = [
    0,
    1,
    127,
    128,
    300,
    16_383,
    16_384,
    2**21 - 1,
    2**21,
    2**28 - 1,
    2**28,
    2**35 - 1,
    2**35,
    2**49,
    2**63 - 1,
    -1,
    -300,
    -(2**63),
]
INSTANTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    datetime(1901, 3, 4, 5, 6, 7, 1, tzinfo=UTC),
    datetime(2026, 12, 4, 18, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 4, 18, 0, 0, 123_456, tzinfo=UTC),
    datetime(2026, 12, 4, 18, 0, 0, 999_999, tzinfo=UTC),
    # Beyond 2^35 seconds, where protobuf_varint falls back to its loop.
    datetime(3100, 1, 1, 0, 0, 0, 10, tzinfo=UTC),
]
STRINGS = ["", "a", "staff-0001", "Zoë Ünïcode ✓", "x" * 127, "y" * 128, "z" * 20_000]
EVENT_TYPES = {
    subjects.SLA_WARNING: events_pb2.SlaWarning,
    subjects.SLA_BREACHED: events_pb2.SlaBreached,
}


@pytest.mark.parametrize("value", VARINTS)
async def test_varint_matches_protobuf(db: asyncpg.Connection, value: int) -> None:
    encoded = await db.fetchval("SELECT protobuf_varint($1)", value)
    # Int64Value writes its value in field 1 (tag byte 0x08) as a varint, and
    # leaves out 0.
    expected = wrappers_pb2.Int64Value(value=value).SerializeToString()[1:] or b"\x00"
    assert encoded == expected


@pytest.mark.parametrize("value", VARINTS)
async def test_int_field_matches_protobuf(db: asyncpg.Connection, value: int) -> None:
    encoded = await db.fetchval("SELECT protobuf_int(1, $1)", value)
    assert encoded == wrappers_pb2.Int64Value(value=value).SerializeToString()


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
async def test_timestamp_matches_protobuf(
    db: asyncpg.Connection, instant: datetime
) -> None:
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(instant)
    encoded = await db.fetchval("SELECT protobuf_timestamp($1)", instant)
    assert encoded == expected.SerializeToString()


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
async def test_timestamp_ignores_session_zone(
    db: asyncpg.Connection, instant: datetime
) -> None:
    in_utc = await db.fetchval("SELECT protobuf_timestamp($1)", instant)
    await db.execute("SET TIME ZONE 'Asia/Kathmandu'")
    in_kathmandu = await db.fetchval("SELECT protobuf_timestamp($1)", instant)
    assert in_kathmandu == in_utc


@pytest.mark.parametrize("value", STRINGS, ids=lambda value: f"{len(value)} chars")
async def test_string_field_matches_protobuf(
    db: asyncpg.Connection, value: str
) -> None:
    encoded = await db.fetchval("SELECT protobuf_string(1, $1)", value)
    assert encoded == wrappers_pb2.StringValue(value=value).SerializeToString()


async def test_message_field_keeps_empty_message(db: asyncpg.Connection) -> None:
    empty = await db.fetchval("SELECT protobuf_message(5, ''::bytea)")
    message = events_pb2.SlaWarning()
    message.deadline.SetInParent()
    assert empty == message.SerializeToString()


async def add_organisation(db: asyncpg.Connection) -> None:
    """One unit "ops" supervised by olivia, with alice (who escalates to mentor),
    bob and the admin "admin-a"."""
    await seeding.add_unit(db, "ops")
    await seeding.add_staff(db, "olivia", "ops", role="supervisor")
    await seeding.add_staff(db, "mentor", "ops")
    await seeding.add_staff(db, "alice", "ops", escalates_to_id="mentor")
    await seeding.add_staff(db, "bob", "ops")
    await seeding.add_staff(db, "admin-a", "ops", role="admin")
    await seeding.set_supervisor(db, "ops", "olivia")


async def process_batch(pool: asyncpg.Pool, database_url: str) -> BatchResult:
    settings = monitor_settings(database_url, "nats://unused", "unused")
    monitor = SlaMonitor(pool, settings, on_commit=lambda: None)
    return await run_in_transaction(
        pool, monitor._process_batch, action="process due SLA clocks"
    )


async def outbox_events(db: asyncpg.Connection) -> list[tuple[str, object]]:
    rows = await db.fetch(
        "SELECT subject, payload, headers, event_id FROM outbox ORDER BY id"
    )
    events = []
    for row in rows:
        event_type = EVENT_TYPES[row["subject"]]
        event = event_type.FromString(row["payload"])
        headers = json.loads(row["headers"])
        assert event.event_id == str(row["event_id"])
        assert headers[subjects.EVENT_TYPE_HEADER] == event_type.DESCRIPTOR.full_name
        events.append((row["subject"], event))
    return events


async def test_warning_batch_writes_escalation_and_event(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-5, deadline_in_s=600, assignee_id="alice"
    )

    result = await process_batch(pool, database_url)

    clock = await db.fetchrow(
        "SELECT warned_at, breached_at, deadline FROM sla_clocks WHERE work_item_id = $1",
        work_item_id,
    )
    escalation = await db.fetchrow(
        "SELECT id, assignment_id, escalated_from_id, escalated_to_id, reason, level, "
        "re_escalate_at FROM escalation_events WHERE work_item_id = $1",
        work_item_id,
    )
    assignment_id = await db.fetchval(
        "SELECT id FROM assignments WHERE work_item_id = $1", work_item_id
    )
    events = await outbox_events(db)
    assert result.warned == [work_item_id]
    assert result.breaches == []
    assert clock["warned_at"] is not None
    assert clock["breached_at"] is None
    assert escalation["reason"] == "sla_warning"
    assert escalation["level"] == 1
    assert escalation["escalated_from_id"] == "alice"
    assert escalation["escalated_to_id"] == "mentor"
    assert escalation["assignment_id"] == assignment_id
    assert escalation["re_escalate_at"] is None
    assert len(result.warning_escalations) == 1
    assert result.warning_escalations[0].escalation_id == escalation["id"]
    assert len(events) == 1
    subject, event = events[0]
    assert subject == subjects.SLA_WARNING
    assert isinstance(event, events_pb2.SlaWarning)
    assert event.work_item_id == str(work_item_id)
    assert event.assignee_id == "alice"
    assert event.deadline.ToDatetime(tzinfo=UTC) == clock["deadline"]
    assert event.occurred_at.ToDatetime(tzinfo=UTC) == clock["warned_at"]


async def test_warning_payload_matches_python_serialization(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-5, deadline_in_s=600, assignee_id="bob"
    )

    await process_batch(pool, database_url)

    row = await db.fetchrow("SELECT event_id, payload FROM outbox")
    clock = await db.fetchrow(
        "SELECT warned_at, deadline FROM sla_clocks WHERE work_item_id = $1",
        work_item_id,
    )
    expected = events_pb2.SlaWarning(
        event_id=str(row["event_id"]), work_item_id=str(work_item_id), assignee_id="bob"
    )
    expected.occurred_at.FromDatetime(clock["warned_at"])
    expected.deadline.FromDatetime(clock["deadline"])
    assert row["payload"] == expected.SerializeToString()


async def test_breach_batch_writes_both_escalations_and_events(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    await add_organisation(db)
    assigned = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, assignee_id="bob"
    )
    queued = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, target_unit_id="ops"
    )

    result = await process_batch(pool, database_url)

    escalations = await db.fetch(
        "SELECT id, work_item_id, escalated_to_id, reason, level, re_escalate_at "
        "FROM escalation_events ORDER BY work_item_id, reason"
    )
    breached_at = {
        row["work_item_id"]: row["breached_at"]
        for row in await db.fetch("SELECT work_item_id, breached_at FROM sla_clocks")
    }
    events = await outbox_events(db)
    by_item = {(row["work_item_id"], row["reason"]): row for row in escalations}
    assert sorted(result.warned) == sorted([assigned, queued])
    assert len(escalations) == 4
    for item in (assigned, queued):
        breach = by_item[(item, "sla_breach")]
        warning = by_item[(item, "sla_warning")]
        assert breach["escalated_to_id"] == "olivia"
        assert warning["escalated_to_id"] == "olivia"
        assert breach["level"] == 1
        assert breach["re_escalate_at"] is not None
        assert warning["re_escalate_at"] is None
    breaches = {breach.work_item_id: breach for breach in result.breaches}
    assert breaches[assigned].escalation_id == by_item[(assigned, "sla_breach")]["id"]
    assert breaches[assigned].newly_escalated
    assert breaches[queued].assignee_id is None
    # The warnings come first in the outbox, then the breaches.
    assert [subject for subject, _ in events] == [
        subjects.SLA_WARNING,
        subjects.SLA_WARNING,
        subjects.SLA_BREACHED,
        subjects.SLA_BREACHED,
    ]
    for subject, event in events:
        item = uuid.UUID(event.work_item_id)
        assert event.occurred_at.ToDatetime(tzinfo=UTC) == breached_at[item]
        if subject == subjects.SLA_BREACHED:
            breach_row = by_item[(item, "sla_breach")]
            assert event.escalation_id == str(breach_row["id"])
            assert event.escalated_to_id == "olivia"
            assert event.level == 1


async def test_breach_without_recipient_has_level_zero(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    # The only admin is the assignee, and nobody else qualifies.
    await db.execute("UPDATE staff SET role = 'staff' WHERE id = $1", ROOT_ADMIN_ID)
    await seeding.add_unit(db, "solo")
    await seeding.add_staff(db, "lone-admin", "solo", role="admin")
    work_item_id = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, assignee_id="lone-admin"
    )

    result = await process_batch(pool, database_url)

    escalations = await db.fetchval("SELECT count(*) FROM escalation_events")
    events = await outbox_events(db)
    breached = [event for subject, event in events if subject == subjects.SLA_BREACHED]
    assert escalations == 0
    assert result.breaches[0].escalation_id is None
    assert result.warning_escalations[0].escalated_to_id is None
    assert len(breached) == 1
    assert isinstance(breached[0], events_pb2.SlaBreached)
    assert breached[0].work_item_id == str(work_item_id)
    assert breached[0].escalation_id == ""
    assert breached[0].escalated_to_id == ""
    assert breached[0].level == 0


async def test_breach_keeps_existing_level_one_escalation(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, assignee_id="bob"
    )
    existing_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO escalation_events (id, work_item_id, escalated_from_id, "
        "escalated_to_id, reason, level) VALUES ($1, $2, 'bob', 'admin-a', "
        "'sla_breach', 1)",
        existing_id,
        work_item_id,
    )

    result = await process_batch(pool, database_url)

    breach_rows = await db.fetchval(
        "SELECT count(*) FROM escalation_events WHERE reason = 'sla_breach'"
    )
    events = await outbox_events(db)
    breached = [event for subject, event in events if subject == subjects.SLA_BREACHED]
    assert breach_rows == 1
    assert result.breaches[0].escalation_id == existing_id
    assert result.breaches[0].escalated_to_id == "admin-a"
    assert not result.breaches[0].newly_escalated
    assert isinstance(breached[0], events_pb2.SlaBreached)
    assert breached[0].escalation_id == str(existing_id)
    assert breached[0].escalated_to_id == "admin-a"
    assert breached[0].level == 1


async def test_claim_skips_item_locked_by_another_transaction(
    db: asyncpg.Connection, pool: asyncpg.Pool, database_url: str
) -> None:
    await add_organisation(db)
    locked = await add_clock(db, warning_in_s=-5, deadline_in_s=600, assignee_id="bob")
    free = await add_clock(db, warning_in_s=-5, deadline_in_s=600, assignee_id="alice")
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM work_items WHERE id = $1 FOR UPDATE", locked
            )
            first = await process_batch(pool, database_url)
        second = await process_batch(pool, database_url)
    finally:
        await holder.close()

    escalated = await db.fetch("SELECT work_item_id FROM escalation_events")
    events = await outbox_events(db)
    assert first.warned == [free]
    assert second.warned == [locked]
    assert sorted(row["work_item_id"] for row in escalated) == sorted([locked, free])
    assert len(events) == 2


async def test_migration_drops_only_work_item_key(
    db: asyncpg.Connection, database_url: str
) -> None:
    """Re-apply 0007 to a database that contains an escalation from before it."""
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, assignee_id="bob"
    )
    escalation_id = uuid.uuid4()
    await db.execute(
        """
        DELETE FROM schema_migrations WHERE version = 7;
        DROP FUNCTION protobuf_timestamp(timestamptz), protobuf_message(integer, bytea),
            protobuf_int(integer, bigint), protobuf_string(integer, text),
            protobuf_varint(bigint), protobuf_varint_loop(bigint);
        ALTER TABLE escalation_events ADD CONSTRAINT escalation_events_work_item_id_fkey
            FOREIGN KEY (work_item_id) REFERENCES work_items (id);
        """
    )
    await db.execute(
        "INSERT INTO escalation_events (id, work_item_id, escalated_from_id, "
        "escalated_to_id, reason, level) VALUES ($1, $2, 'bob', 'olivia', "
        "'sla_breach', 1)",
        escalation_id,
        work_item_id,
    )

    applied = await apply_migrations(database_url)

    kept = await db.fetchval(
        "SELECT count(*) FROM escalation_events WHERE id = $1", escalation_id
    )
    keys = await db.fetch(
        "SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'escalation_events'::regclass AND contype = 'f'"
    )
    varint = await db.fetchval("SELECT protobuf_varint(300)")
    assert "0007_sla_claim_in_one_statement" in applied
    assert kept == 1
    assert sorted(row["conname"] for row in keys) == [
        "escalation_events_assignment_id_fkey",
        "escalation_events_escalated_to_id_fkey",
    ]
    assert varint == b"\xac\x02"
    # The clock's foreign key still keeps an escalated item from being deleted.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute("DELETE FROM work_items WHERE id = $1", work_item_id)


async def test_escalation_with_unknown_recipient_is_rejected(
    db: asyncpg.Connection,
) -> None:
    await add_organisation(db)
    work_item_id = await add_clock(
        db, warning_in_s=-10, deadline_in_s=-5, assignee_id="bob"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(
            "INSERT INTO escalation_events (id, work_item_id, escalated_to_id, reason, "
            "level) VALUES ($1, $2, 'nobody', 'sla_breach', 1)",
            uuid.uuid4(),
            work_item_id,
        )
