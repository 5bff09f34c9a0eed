"""Warning escalations and re-escalation, run by the detection loop.

A marked warning gets one 'sla_warning' escalation at level 1, which never
climbs. A breach escalation that is neither acknowledged nor resolved within
its policy's re_escalation_interval climbs one level ('re_escalation', level
n+1), and so on up to the maximum level. Each climb claims the open escalation FOR
UPDATE SKIP LOCKED and clears its re_escalate_at in the same statement. The
partial unique index on (work_item_id, level) rejects a second row of a level in
any case, so several monitors and restarts add each level once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.sla_monitor", "escalation.sql")


@dataclass(frozen=True)
class WarningEscalation:
    work_item_id: uuid.UUID
    assignee_id: str | None
    # None when no recipient qualified or the item already had the escalation.
    escalation_id: uuid.UUID | None
    escalated_to_id: str | None


class ClimbOutcome(StrEnum):
    ESCALATED = "escalated"
    # Another transaction inserted the next level first.
    ALREADY_ESCALATED = "already_escalated"
    MAXIMUM_LEVEL = "maximum_level"
    CLOCK_STOPPED = "clock_stopped"
    NO_RECIPIENT = "no_recipient"


@dataclass(frozen=True)
class Climb:
    work_item_id: uuid.UUID
    # The escalation that waited unacknowledged, and its level and recipient.
    from_escalation_id: uuid.UUID
    from_level: int
    from_recipient_id: str
    outcome: ClimbOutcome
    # Set when the outcome is ESCALATED.
    escalation_id: uuid.UUID | None = None
    escalated_to_id: str | None = None
    # Whether the chain led back to a previous recipient, so an admin was chosen.
    cycle: bool = False


@dataclass
class ClimbBatch:
    climbs: list[Climb] = field(default_factory=list)
    # Whether the claim returned a whole batch, so more escalations may be due.
    full: bool = False


async def add_warning_escalations(
    conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]
) -> list[WarningEscalation]:
    """Insert the warning escalation of each row that has a recipient.

    `rows` are claimed clocks with work_item_id, assignment_id, assignee_id and
    escalated_to_id. Returns one `WarningEscalation` per row, in the same order.
    """
    with_recipient = [row for row in rows if row["escalated_to_id"] is not None]
    inserted: dict[uuid.UUID, asyncpg.Record] = {}
    if with_recipient:
        records = await conn.fetch(
            queries.insert_warning_escalations,
            [uuid.uuid4() for _ in with_recipient],
            [row["work_item_id"] for row in with_recipient],
            [row["assignment_id"] for row in with_recipient],
            [row["assignee_id"] for row in with_recipient],
            [row["escalated_to_id"] for row in with_recipient],
        )
        inserted = {record["work_item_id"]: record for record in records}
    results = []
    for row in rows:
        record = inserted.get(row["work_item_id"])
        results.append(
            WarningEscalation(
                work_item_id=row["work_item_id"],
                assignee_id=row["assignee_id"],
                escalation_id=record["id"] if record else None,
                escalated_to_id=row["escalated_to_id"],
            )
        )
    return results


def log_warning_escalations(escalations: Sequence[WarningEscalation]) -> None:
    for escalation in escalations:
        ids = {
            "work_item_id": str(escalation.work_item_id),
            "assignee_id": escalation.assignee_id,
        }
        if escalation.escalated_to_id is None:
            logger.warning(
                "SLA warning of work item %s has no escalation recipient: there is "
                "no escalation contact, unit supervisor or admin other than the "
                "assignee; add an admin",
                escalation.work_item_id,
                extra=logs.fields(event="sla_warning_unescalated", **ids),
            )
        elif escalation.escalation_id is not None:
            logger.info(
                "SLA warning escalated to %s",
                escalation.escalated_to_id,
                extra=logs.fields(
                    event="sla_warning_escalated",
                    escalation_id=str(escalation.escalation_id),
                    staff_id=escalation.escalated_to_id,
                    **ids,
                ),
            )


async def climb_batch(
    conn: asyncpg.Connection, batch_size: int, max_level: int
) -> ClimbBatch:
    """Claim due escalations and insert the next level of each one that may climb.

    An escalation does not climb when it is at `max_level`, when its clock has
    stopped or when no staff member qualifies as the next recipient. Its re_escalate_at is
    cleared in every case, so it is claimed once.
    """
    claimed = await conn.fetch(queries.claim_re_escalations, batch_size)
    batch = ClimbBatch(full=len(claimed) == batch_size)
    climbing = []
    for row in claimed:
        if row["level"] >= max_level:
            batch.climbs.append(_stopped(row, ClimbOutcome.MAXIMUM_LEVEL))
        elif row["clock_stopped"]:
            batch.climbs.append(_stopped(row, ClimbOutcome.CLOCK_STOPPED))
        elif row["next_recipient_id"] is None:
            # NOTE: the claim cleared re_escalate_at, so this escalation never
            # climbs again, even after someone who could receive it is added.
            batch.climbs.append(_stopped(row, ClimbOutcome.NO_RECIPIENT))
        else:
            climbing.append(row)
    if not climbing:
        return batch

    records = await conn.fetch(
        queries.insert_re_escalations,
        [uuid.uuid4() for _ in climbing],
        [row["work_item_id"] for row in climbing],
        [row["assignment_id"] for row in climbing],
        [row["escalated_to_id"] for row in climbing],
        [row["next_recipient_id"] for row in climbing],
        [row["level"] + 1 for row in climbing],
        max_level,
    )
    inserted = {(record["work_item_id"], record["level"]): record for record in records}
    for row in climbing:
        record = inserted.get((row["work_item_id"], row["level"] + 1))
        if record is None:
            batch.climbs.append(_stopped(row, ClimbOutcome.ALREADY_ESCALATED))
            continue
        batch.climbs.append(
            Climb(
                work_item_id=row["work_item_id"],
                from_escalation_id=row["id"],
                from_level=row["level"],
                from_recipient_id=row["escalated_to_id"],
                outcome=ClimbOutcome.ESCALATED,
                escalation_id=record["id"],
                escalated_to_id=record["escalated_to_id"],
                cycle=row["cycle"],
            )
        )
    return batch


def _stopped(row: asyncpg.Record, outcome: ClimbOutcome) -> Climb:
    return Climb(
        work_item_id=row["work_item_id"],
        from_escalation_id=row["id"],
        from_level=row["level"],
        from_recipient_id=row["escalated_to_id"],
        outcome=outcome,
    )


def log_climbs(climbs: Sequence[Climb]) -> None:
    for climb in climbs:
        ids = {
            "work_item_id": str(climb.work_item_id),
            "from_escalation_id": str(climb.from_escalation_id),
            "level": climb.from_level,
        }
        if climb.outcome is ClimbOutcome.ESCALATED:
            logger.info(
                "escalation not acknowledged by %s; re-escalated to %s at level %d%s",
                climb.from_recipient_id,
                climb.escalated_to_id,
                climb.from_level + 1,
                " (the chain led back to a previous recipient)" if climb.cycle else "",
                extra=logs.fields(
                    event="re_escalated",
                    escalation_id=str(climb.escalation_id),
                    staff_id=climb.escalated_to_id,
                    cycle=climb.cycle,
                    **ids,
                ),
            )
        elif climb.outcome is ClimbOutcome.NO_RECIPIENT:
            logger.error(
                "escalation of work item %s at level %d cannot climb: every "
                "escalation contact, supervisor and admin is the assignee or "
                "already received it; add an admin",
                climb.work_item_id,
                climb.from_level,
                extra=logs.fields(event="re_escalation_unroutable", **ids),
            )
        else:
            logger.info(
                "escalation of work item %s stops climbing at level %d: %s",
                climb.work_item_id,
                climb.from_level,
                climb.outcome.value.replace("_", " "),
                extra=logs.fields(
                    event="re_escalation_stopped", outcome=climb.outcome.value, **ids
                ),
            )
