"""Escalations: the database guard, acknowledging, resolving and listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import sla_monitor_pb2 as pb
from assignment_engine.devstack import seeding
from assignment_engine.devstack.testing import ROOT_ADMIN_ID

from .conftest import RunningMonitor, add_clock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def add_staff(db: asyncpg.Connection) -> None:
    await seeding.add_unit(db, "ops")
    await seeding.add_staff(db, "olivia", "ops", role="supervisor")
    await seeding.add_staff(db, "zed", "ops", role="admin")
    await seeding.add_staff(db, "bob", "ops")


async def add_escalation(
    db: asyncpg.Connection,
    work_item_id: uuid.UUID,
    escalated_to_id: str,
    *,
    escalated_at: datetime = T0,
    reason: str = "manual",
    acknowledged: bool = False,
    resolved: bool = False,
) -> uuid.UUID:
    """Insert an escalation of a work item from bob; return its id."""
    escalation_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO escalation_events (id, work_item_id, escalated_from_id,
                                       escalated_to_id, reason, level, escalated_at,
                                       acknowledged_at, resolved_at)
        VALUES ($1, $2, 'bob', $3, $4, 1, $5::timestamptz,
                CASE WHEN $6 OR $7 THEN $5::timestamptz + interval '1 minute' END,
                CASE WHEN $7 THEN $5::timestamptz + interval '2 minutes' END)
        """,
        escalation_id,
        work_item_id,
        escalated_to_id,
        reason,
        escalated_at,
        acknowledged,
        resolved,
    )
    return escalation_id


async def open_escalation(db: asyncpg.Connection) -> uuid.UUID:
    await add_staff(db)
    work_item_id = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    return await add_escalation(db, work_item_id, "olivia")


async def acknowledge(
    monitor: RunningMonitor, escalation_id: uuid.UUID, note: str = ""
) -> pb.Escalation:
    response = await monitor.stub.AcknowledgeEscalation(
        pb.AcknowledgeEscalationRequest(escalation_id=str(escalation_id), note=note)
    )
    return response.escalation


async def resolve(
    monitor: RunningMonitor, escalation_id: uuid.UUID, note: str = ""
) -> pb.Escalation:
    response = await monitor.stub.ResolveEscalation(
        pb.ResolveEscalationRequest(escalation_id=str(escalation_id), note=note)
    )
    return response.escalation


# The database guard ---------------------------------------------------------


async def test_escalation_delete_is_rejected(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)

    with pytest.raises(asyncpg.RestrictViolationError) as caught:
        await db.execute("DELETE FROM escalation_events WHERE id = $1", escalation_id)

    assert "cannot be deleted" in str(caught.value)
    assert await db.fetchval("SELECT count(*) FROM escalation_events") == 1


async def test_escalation_recipient_rewrite_is_rejected(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)

    with pytest.raises(asyncpg.RestrictViolationError) as caught:
        await db.execute(
            "UPDATE escalation_events SET escalated_to_id = 'zed' WHERE id = $1",
            escalation_id,
        )

    assert "cannot be rewritten" in str(caught.value)
    recipient = await db.fetchval("SELECT escalated_to_id FROM escalation_events")
    assert recipient == "olivia"


# Acknowledge and resolve ------------------------------------------------------


async def test_acknowledge_sets_stamp_and_note(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)

    escalation = await acknowledge(monitor, escalation_id, "looking into it")

    row = await db.fetchrow(
        "SELECT acknowledged_by, resolved_at FROM escalation_events"
    )
    assert escalation.state == pb.ESCALATION_STATE_ACKNOWLEDGED
    assert escalation.HasField("acknowledged_at")
    assert not escalation.HasField("resolved_at")
    assert escalation.notes == "looking into it"
    assert row["acknowledged_by"] == ROOT_ADMIN_ID
    assert row["resolved_at"] is None


async def test_acknowledge_twice_fails_precondition(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)
    first = await acknowledge(monitor, escalation_id)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await acknowledge(monitor, escalation_id, "again")

    stored_notes = await db.fetchval("SELECT notes FROM escalation_events")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "acknowledged" in (caught.value.details() or "")
    assert first.state == pb.ESCALATION_STATE_ACKNOWLEDGED
    assert stored_notes == ""


async def test_resolve_acknowledges_open_escalation(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)

    escalation = await resolve(monitor, escalation_id, "fixed")

    row = await db.fetchrow(
        "SELECT resolved_by, acknowledged_by FROM escalation_events"
    )
    assert escalation.state == pb.ESCALATION_STATE_RESOLVED
    assert escalation.HasField("acknowledged_at")
    assert escalation.HasField("resolved_at")
    assert escalation.notes == "fixed"
    assert row["resolved_by"] == ROOT_ADMIN_ID
    assert row["acknowledged_by"] == ROOT_ADMIN_ID


async def test_resolve_appends_note_keeps_acknowledgement(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)
    acknowledged = await acknowledge(monitor, escalation_id, "on it")

    resolved = await resolve(monitor, escalation_id, "restarted the service\ndone")

    assert resolved.acknowledged_at == acknowledged.acknowledged_at
    assert resolved.notes == "on it\nrestarted the service\ndone"


async def test_resolve_twice_fails_precondition(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)
    await resolve(monitor, escalation_id)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await resolve(monitor, escalation_id)

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "resolved" in (caught.value.details() or "")


async def test_acknowledge_after_resolve_fails_precondition(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    escalation_id = await open_escalation(db)
    await resolve(monitor, escalation_id)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await acknowledge(monitor, escalation_id, "late note")

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "resolved" in (caught.value.details() or "")


async def test_acknowledge_resolved_row_fails(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    await add_staff(db)
    work_item_id = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    escalation_id = uuid.uuid4()
    await db.execute(
        """
        INSERT INTO escalation_events (id, work_item_id, escalated_to_id, reason,
                                       level, resolved_at)
        VALUES ($1, $2, 'olivia', 'manual', 1, now())
        """,
        escalation_id,
        work_item_id,
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await acknowledge(monitor, escalation_id, "note")

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("method", ["AcknowledgeEscalation", "ResolveEscalation"])
async def test_unknown_escalation_is_not_found(
    monitor: RunningMonitor, method: str
) -> None:
    request_type = (
        pb.AcknowledgeEscalationRequest
        if method == "AcknowledgeEscalation"
        else pb.ResolveEscalationRequest
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(monitor.stub, method)(request_type(escalation_id=UNKNOWN_ID))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ListEscalations ------------------------------------------------------------------


async def add_listing_data(db: asyncpg.Connection) -> dict[str, uuid.UUID]:
    """Seven escalations: five to olivia, two to zed, two of them at the same time.

    Returns the escalation ids by label, where "o1" is olivia's oldest.
    """
    await add_staff(db)
    first_item = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    second_item = await add_clock(db, warning_in_s=3600, deadline_in_s=7200)
    minute = timedelta(minutes=1)
    ids = {
        "o1": await add_escalation(db, first_item, "olivia", escalated_at=T0),
        "o2": await add_escalation(
            db, first_item, "olivia", escalated_at=T0 + minute, acknowledged=True
        ),
        "o3": await add_escalation(
            db, second_item, "olivia", escalated_at=T0 + 2 * minute, resolved=True
        ),
        "o4": await add_escalation(
            db, second_item, "olivia", escalated_at=T0 + 3 * minute
        ),
        "o5": await add_escalation(
            db, second_item, "olivia", escalated_at=T0 + 3 * minute
        ),
        "z1": await add_escalation(db, first_item, "zed", escalated_at=T0 + minute),
        "z2": await add_escalation(
            db, second_item, "zed", escalated_at=T0 + 4 * minute
        ),
    }
    ids["first_item"] = first_item
    return ids


def newest_first(ids: dict[str, uuid.UUID], labels: list[str]) -> list[str]:
    """Expected order: escalated_at descending, then id descending."""
    times = {
        "o1": 0,
        "o2": 1,
        "o3": 2,
        "o4": 3,
        "o5": 3,
        "z1": 1,
        "z2": 4,
    }
    ordered = sorted(labels, key=lambda label: (times[label], ids[label]), reverse=True)
    return [str(ids[label]) for label in ordered]


async def listed_ids(
    monitor: RunningMonitor, request: pb.ListEscalationsRequest
) -> list[str]:
    response = await monitor.stub.ListEscalations(request)
    return [escalation.id for escalation in response.escalations]


async def test_list_escalations_by_recipient_newest_first(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    ids = await add_listing_data(db)

    listed = await listed_ids(monitor, pb.ListEscalationsRequest(recipient_id="olivia"))

    assert listed == newest_first(ids, ["o1", "o2", "o3", "o4", "o5"])


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param([pb.ESCALATION_STATE_OPEN], ["o1", "o4", "o5"], id="open"),
        pytest.param([pb.ESCALATION_STATE_ACKNOWLEDGED], ["o2"], id="acknowledged"),
        pytest.param([pb.ESCALATION_STATE_RESOLVED], ["o3"], id="resolved"),
        pytest.param(
            [pb.ESCALATION_STATE_OPEN, pb.ESCALATION_STATE_RESOLVED],
            ["o1", "o3", "o4", "o5"],
            id="open-or-resolved",
        ),
    ],
)
async def test_list_escalations_by_state(
    db: asyncpg.Connection,
    monitor: RunningMonitor,
    states: list[int],
    expected: list[str],
) -> None:
    ids = await add_listing_data(db)

    listed = await listed_ids(
        monitor,
        pb.ListEscalationsRequest(recipient_id="olivia", states=states),  # type: ignore[arg-type]
    )

    assert listed == newest_first(ids, expected)


async def test_list_escalations_by_work_item(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    ids = await add_listing_data(db)

    listed = await listed_ids(
        monitor, pb.ListEscalationsRequest(work_item_id=str(ids["first_item"]))
    )

    assert listed == newest_first(ids, ["o1", "o2", "z1"])


async def test_list_escalations_pages_without_gaps(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    ids = await add_listing_data(db)
    pages: list[list[str]] = []
    token = ""

    for _ in range(10):
        response = await monitor.stub.ListEscalations(
            pb.ListEscalationsRequest(page_size=2, page_token=token)
        )
        pages.append([escalation.id for escalation in response.escalations])
        token = response.next_page_token
        if not token:
            break

    everything = newest_first(ids, ["o1", "o2", "o3", "o4", "o5", "z1", "z2"])
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [escalation_id for page in pages for escalation_id in page] == everything


async def test_list_escalations_returns_row_fields(
    db: asyncpg.Connection, monitor: RunningMonitor
) -> None:
    ids = await add_listing_data(db)

    response = await monitor.stub.ListEscalations(
        pb.ListEscalationsRequest(
            recipient_id="olivia", states=[pb.ESCALATION_STATE_RESOLVED]
        )
    )

    escalation = response.escalations[0]
    assert escalation.id == str(ids["o3"])
    assert escalation.escalated_from_id == "bob"
    assert escalation.escalated_to_id == "olivia"
    assert escalation.reason == pb.ESCALATION_REASON_MANUAL
    assert escalation.level == 1
    assert escalation.assignment_id == ""
    assert escalation.escalated_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(minutes=2)
    assert escalation.HasField("acknowledged_at")
    assert escalation.HasField("resolved_at")
