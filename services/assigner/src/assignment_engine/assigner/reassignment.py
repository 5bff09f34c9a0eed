"""ReassignAssignment: move an active assignment to another staff member.

The transaction takes the locks in the order store.py documents: the work item
row, the assignment, then the staff_load rows of the previous and the new
assignee in staff id order, with both profiles FOR SHARE. Two reassignments that
cross between the same two people therefore wait for each other and never
deadlock, and every check runs on locked rows.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import asyncpg

from assignment_engine.api.v1 import events_pb2
from assignment_engine.assigner.scoring import (
    ELIGIBLE_AVAILABILITY,
    Breakdown,
    Candidate,
    Weights,
    score,
)
from assignment_engine.core import logs, subjects
from assignment_engine.core.errors import FailedPrecondition, NotFound
from assignment_engine.core.outbox import add_event
from assignment_engine.core.permissions import Action, Principal
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.assigner", "store.sql")

# Subject name (without the prefix) of AssignmentReassigned events.
ACTIVE_STATUSES = ("assigned", "in_progress", "on_hold")
CAPACITY_FREED_REASON = "assignment_reassigned"


@dataclass(frozen=True)
class Reassignment:
    """A validated ReassignAssignment request."""

    assignment_id: uuid.UUID
    new_assignee_id: str
    reason: str
    allow_over_limit: bool


@dataclass(frozen=True)
class ReassignResult:
    assignment: asyncpg.Record
    previous_assignee_id: str


def _ineligibility(person: asyncpg.Record) -> str | None:
    """Why `person` cannot take one more assignment, or None when they can."""
    if person["availability"] not in ELIGIBLE_AVAILABILITY:
        return f"is {person['availability']}"
    if person["wip_limit"] == 0:
        return "has a WIP limit of 0"
    if person["active_count"] >= person["wip_limit"]:
        return (
            f"is at their WIP limit ({person['active_count']} of "
            f"{person['wip_limit']} active)"
        )
    return None


def _breakdown(
    person: asyncpg.Record,
    item: asyncpg.Record,
    weights: Weights,
) -> Breakdown:
    """Score `person` for `item` on their locked row, as a decision would."""
    required = list(item["required_skills"])
    # Counted like rank_and_lock in store.sql: each of the person's skills that
    # the item requires, repeats included.
    matched = sum(1 for skill in person["skills"] if skill in required)
    candidate = Candidate(
        staff_id=person["id"],
        unit_id=person["unit_id"],
        availability=person["availability"],
        wip_limit=person["wip_limit"],
        active_count=person["active_count"],
        last_assigned_at=person["last_assigned_at"],
        matched_skills=matched,
    )
    return score(candidate, len(required), item["target_unit_id"], weights)


async def reassign(
    conn: asyncpg.Connection,
    principal: Principal,
    change: Reassignment,
    weights: Weights,
) -> ReassignResult:
    """Move the assignment to `change.new_assignee_id` inside the caller's transaction.

    Raises NotFound for an unknown assignment or new assignee, and
    PermissionDenied when `principal` may not reassign from the previous or to
    the new assignee. Raises FailedPrecondition when the assignment is not
    active or already belongs to the new assignee. It also raises it when the
    new assignee cannot take one more assignment, unless
    `change.allow_over_limit` is set. The caller checks that only admins set it.
    """
    assignment_id = change.assignment_id
    work_item_id = await conn.fetchval(queries.assignment_work_item, assignment_id)
    if work_item_id is None:
        raise NotFound(f"assignment {assignment_id} not found")
    item = await conn.fetchrow(queries.lock_work_item, work_item_id)
    assignment = await conn.fetchrow(queries.lock_assignment, assignment_id)
    previous_id: str = assignment["assignee_id"]
    new_id = change.new_assignee_id
    people = {
        row["id"]: row
        for row in await conn.fetch(queries.lock_loads_of_pair, [previous_id, new_id])
    }
    if new_id not in people:
        raise NotFound(f"staff member {new_id!r} not found (new_assignee_id)")
    previous, new = people[previous_id], people[new_id]

    principal.require(
        Action.REASSIGN, owner_id=previous_id, unit_ids=[previous["unit_id"]]
    )
    principal.require(Action.REASSIGN, owner_id=new_id, unit_ids=[new["unit_id"]])

    if assignment["status"] not in ACTIVE_STATUSES:
        raise FailedPrecondition(
            f"assignment {assignment_id} is {assignment['status']}, expected "
            "assigned, in_progress or on_hold"
        )
    if new_id == previous_id:
        raise FailedPrecondition(
            f"assignment {assignment_id} is already assigned to {new_id}"
        )
    problem = _ineligibility(new)
    if problem is not None and not change.allow_over_limit:
        raise FailedPrecondition(
            f"staff member {new_id} {problem}; an admin may reassign anyway "
            "with allow_over_limit"
        )
    over_limit = problem is not None

    new_score = _breakdown(new, item, weights)
    previous_score = _breakdown(previous, item, weights)
    await conn.execute(queries.set_assignee, assignment_id, new_id, new_score.total)
    await conn.execute(queries.release_load, previous_id)
    await conn.execute(queries.add_load, new_id)
    await conn.execute(
        queries.insert_reassignment_decision,
        work_item_id,
        assignment_id,
        principal.subject,
        change.reason,
        [new_score.as_json(1), previous_score.as_json(2)],
        previous_id,
        over_limit,
    )
    await _publish(
        conn, work_item_id, assignment_id, previous, new_id, over_limit, principal
    )
    logger.info(
        "reassigned assignment from %s to %s",
        previous_id,
        new_id,
        extra=logs.fields(
            event="assignment_reassigned",
            assignment_id=str(assignment_id),
            work_item_id=str(work_item_id),
            staff_id=new_id,
            previous_staff_id=previous_id,
            actor=principal.subject,
            over_limit=over_limit,
        ),
    )
    row = await conn.fetchrow(queries.get_assignment, assignment_id)
    return ReassignResult(row, previous_id)


async def _publish(
    conn: asyncpg.Connection,
    work_item_id: uuid.UUID,
    assignment_id: uuid.UUID,
    previous: asyncpg.Record,
    new_id: str,
    over_limit: bool,
    principal: Principal,
) -> None:
    """Write assignment.reassigned, and capacity.freed for the previous assignee."""
    reassigned = events_pb2.AssignmentReassigned(
        assignment_id=str(assignment_id),
        work_item_id=str(work_item_id),
        previous_assignee_id=previous["id"],
        assignee_id=new_id,
        actor_id=principal.subject,
        over_limit=over_limit,
    )
    await add_event(conn, subjects.ASSIGNMENT_REASSIGNED, reassigned)
    freed = events_pb2.CapacityFreed(
        staff_id=previous["id"],
        unit_id=previous["unit_id"],
        reason=CAPACITY_FREED_REASON,
    )
    await add_event(conn, subjects.CAPACITY_FREED, freed)
