"""Retention: expired assignments are purged in batches, the audit stays whole."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from assignment_engine.devstack import seeding
from assignment_engine.sla_monitor.retention import RetentionPurger

RETENTION_DAYS = 90


async def add_assignment(
    db: asyncpg.Connection,
    status: str,
    *,
    ended_days_ago: float | None,
    assignee_id: str = "ann",
) -> uuid.UUID:
    """Insert a work item with one assignment and its 'assigned' decision.

    The assignment began a year ago and ended `ended_days_ago` days ago (None
    for one still active). Returns the assignment id.
    """
    now = datetime.now(UTC)
    work_item_id = uuid.uuid4()
    assignment_id = uuid.uuid4()
    ended_at = None if ended_days_ago is None else now - timedelta(days=ended_days_ago)
    await db.execute(
        """
        INSERT INTO work_items (id, type, external_id, priority, received_at, state)
        VALUES ($1, 'incident', $2, 3, $3, 'assigned')
        """,
        work_item_id,
        str(work_item_id),
        now - timedelta(days=365),
    )
    await db.execute(
        """
        INSERT INTO assignments (id, work_item_id, assignee_id, status, score,
                                 assigned_at, ended_at, end_reason)
        VALUES ($1, $2, $3, $4, 1.0, $5, $6, $7)
        """,
        assignment_id,
        work_item_id,
        assignee_id,
        status,
        now - timedelta(days=365),
        ended_at,
        "done" if ended_at else "",
    )
    await db.execute(
        """
        INSERT INTO assignment_decisions (work_item_id, assignment_id, kind)
        VALUES ($1, $2, 'assigned')
        """,
        work_item_id,
        assignment_id,
    )
    return assignment_id


async def add_escalation(db: asyncpg.Connection, assignment_id: uuid.UUID) -> None:
    await db.execute(
        """
        INSERT INTO escalation_events (id, work_item_id, assignment_id,
                                       escalated_from_id, escalated_to_id, reason,
                                       level)
        SELECT $1, work_item_id, id, assignee_id, 'olivia', 'manual', 1
        FROM assignments WHERE id = $2
        """,
        uuid.uuid4(),
        assignment_id,
    )


async def add_staff(db: asyncpg.Connection) -> None:
    await seeding.add_unit(db, "ops")
    await seeding.add_staff(db, "ann", "ops", wip_limit=10)
    await seeding.add_staff(db, "olivia", "ops", role="supervisor")


def purger(pool: asyncpg.Pool, batch_size: int) -> RetentionPurger:
    return RetentionPurger(
        pool,
        retention_days=RETENTION_DAYS,
        batch_size=batch_size,
        interval_s=3600.0,
    )


async def remaining(db: asyncpg.Connection) -> set[uuid.UUID]:
    rows = await db.fetch("SELECT id FROM assignments")
    return {row["id"] for row in rows}


async def test_purge_deletes_expired_in_batches(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    expired = [
        await add_assignment(db, "completed", ended_days_ago=91 + index)
        for index in range(17)
    ] + [
        await add_assignment(db, "cancelled", ended_days_ago=200 + index)
        for index in range(5)
    ]
    recent = [
        await add_assignment(db, "completed", ended_days_ago=89),
        await add_assignment(db, "cancelled", ended_days_ago=1),
    ]

    run = await purger(pool, batch_size=5).purge()

    assert run.deleted == 22
    assert run.batches == 5
    assert not run.truncated
    assert await remaining(db) == set(recent)
    assert not set(expired) & await remaining(db)


async def test_purge_keeps_active_assignments(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    active = [
        await add_assignment(db, status, ended_days_ago=None)
        for status in ("assigned", "in_progress", "on_hold")
    ]
    # An active row with an end time is inconsistent, but must survive too.
    odd = await add_assignment(db, "on_hold", ended_days_ago=400)

    run = await purger(pool, batch_size=10).purge()

    assert run.deleted == 0
    assert await remaining(db) == {*active, odd}


async def test_purge_keeps_escalated_assignments(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    escalated = await add_assignment(db, "completed", ended_days_ago=300)
    await add_escalation(db, escalated)
    plain = await add_assignment(db, "completed", ended_days_ago=300)

    run = await purger(pool, batch_size=10).purge()

    assert run.deleted == 1
    assert await remaining(db) == {escalated}
    assert plain not in await remaining(db)


async def test_purge_keeps_decisions_and_summaries(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    expired = await add_assignment(db, "cancelled", ended_days_ago=120)
    ended_at = await db.fetchval(
        "SELECT ended_at FROM assignments WHERE id = $1", expired
    )
    decisions_before = await db.fetchval("SELECT count(*) FROM assignment_decisions")

    await purger(pool, batch_size=10).purge()

    summary = await db.fetchrow(
        "SELECT assignee_id, status, ended_at, end_reason, purged_at "
        "FROM assignment_summaries WHERE assignment_id = $1",
        expired,
    )
    decision = await db.fetchval(
        "SELECT assignment_id FROM assignment_decisions WHERE assignment_id = $1",
        expired,
    )
    decisions_after = await db.fetchval("SELECT count(*) FROM assignment_decisions")
    assert summary["assignee_id"] == "ann"
    assert summary["status"] == "cancelled"
    assert summary["ended_at"] == ended_at
    assert summary["end_reason"] == "done"
    assert summary["purged_at"] is not None
    assert decision == expired
    assert decisions_after == decisions_before


async def test_purge_again_finds_nothing(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    for _ in range(3):
        await add_assignment(db, "completed", ended_days_ago=100)
    await purger(pool, batch_size=2).purge()

    run = await purger(pool, batch_size=2).purge()

    assert run.deleted == 0
    assert run.batches == 0


async def test_concurrent_purges_delete_each_row_once(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    for _ in range(60):
        await add_assignment(db, "completed", ended_days_ago=100)

    runs = await asyncio.gather(*(purger(pool, batch_size=4).purge() for _ in range(3)))

    purged = await db.fetchval(
        "SELECT count(*) FROM assignment_summaries WHERE purged_at IS NOT NULL"
    )
    assert sum(run.deleted for run in runs) == 60
    assert purged == 60
    assert await remaining(db) == set()


async def test_decision_reference_requires_summary(db: asyncpg.Connection) -> None:
    await add_staff(db)
    work_item_id = await db.fetchval(
        "SELECT work_item_id FROM assignments WHERE id = $1",
        await add_assignment(db, "completed", ended_days_ago=1),
    )

    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(
            "INSERT INTO assignment_decisions (work_item_id, assignment_id, kind) "
            "VALUES ($1, $2, 'assigned')",
            work_item_id,
            uuid.uuid4(),
        )


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("DELETE FROM assignment_summaries", id="delete"),
        pytest.param(
            "UPDATE assignment_summaries SET assigned_at = now()", id="rewrite"
        ),
        pytest.param(
            "UPDATE assignment_summaries SET end_reason = 'changed'",
            id="rewrite-after-purge",
        ),
    ],
)
async def test_summary_rewrite_is_rejected(
    db: asyncpg.Connection, pool: asyncpg.Pool, statement: str
) -> None:
    await add_staff(db)
    await add_assignment(db, "completed", ended_days_ago=100)
    await purger(pool, batch_size=10).purge()

    with pytest.raises(asyncpg.RestrictViolationError):
        await db.execute(statement)

    assert await db.fetchval("SELECT count(*) FROM assignment_summaries") == 1


async def test_decisions_stay_append_only(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_staff(db)
    await add_assignment(db, "completed", ended_days_ago=100)
    await purger(pool, batch_size=10).purge()

    with pytest.raises(asyncpg.RestrictViolationError):
        await db.execute("DELETE FROM assignment_decisions")

    assert await db.fetchval("SELECT count(*) FROM assignment_decisions") == 1
