"""All SQL of the assigner: intake, the assignment decision, lifecycle changes.

Lock order, the same in every transaction so none deadlock: the work item row,
then its assignment, then the assignee's staff_load row (and the profile row
FOR SHARE). A decision updates at most one staff_load row. Its ranking may keep
locks on rows it skipped, and a decision that must wait for a held candidate
first releases them by rolling back to DECISION_SAVEPOINT. A reassignment
(reassignment.py) locks the previous and the new assignee's rows in staff id
order. Ending an assignment also updates the item's SLA clock. Apart
from transactions that hold the work item lock, only the SLA monitor's claim
changes a clock, and it skips locked rows instead of waiting for them.

Changes of an existing assignment check the caller's permission after taking the
work item lock, so the assignee they checked against cannot change before commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from assignment_engine.api.v1 import common_pb2, events_pb2
from assignment_engine.assigner import holds
from assignment_engine.assigner.config import AssignerSettings
from assignment_engine.assigner.reassignment import (
    Reassignment,
    ReassignResult,
    reassign,
)
from assignment_engine.assigner.scoring import Breakdown, Candidate, score
from assignment_engine.core import logs, subjects
from assignment_engine.core.calendars import from_rows
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import FailedPrecondition, NotFound
from assignment_engine.core.outbox import add_event, event_row
from assignment_engine.core.permissions import Action, Principal
from assignment_engine.core.sla_clock import compute_deadlines
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.assigner", "store.sql")
T = TypeVar("T")

# Ranking rounds before an item whose candidates keep filling up is queued; the
# queue drain then retries it when capacity frees.
MAX_DECISION_ROUNDS = 4
ENGINE_ACTOR = "engine"
# rank_and_lock keeps the locks it took on rows it then skipped: a load row
# whose profile another transaction held, or rows that failed the re-check
# under the lock. A decision that must wait for a held candidate first rolls
# back to this savepoint, which releases them. While it waits it then holds
# only its own work item, which no profile change or other decision waits for.
# The savepoint costs a round trip, so a transaction takes it only when run
# again after its first decision found every candidate held (_CandidatesHeld).
DECISION_SAVEPOINT = "SAVEPOINT decision"
RELEASE_SKIPPED_LOCKS = "ROLLBACK TO SAVEPOINT decision"
# Up to this many people with room, an offer checks its items against them
# instead of looking up each item's skill holders (takeable_items in store.sql).
TAKEABLE_ROOM_LIMIT = 1000


class _CandidatesHeld(Exception):
    """Every candidate of a decision made without DECISION_SAVEPOINT was held."""


@dataclass(frozen=True)
class NewWorkItem:
    type: str
    external_id: str
    title: str
    required_skills: list[str]
    target_unit_id: str | None
    priority: int
    received_at: datetime


@dataclass
class Decision:
    """The outcome of trying to assign one item."""

    assignment_id: uuid.UUID | None
    winner: Breakdown | None
    candidates: list[Breakdown] = field(default_factory=list)
    winner_unit_id: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    """A work item and its assignment, as rows of work_items and get_assignment."""

    work_item: Mapping[str, Any]
    created: bool
    assignment: Mapping[str, Any] | None
    deadline: datetime | None


@dataclass(frozen=True)
class OfferResult:
    work_item_id: uuid.UUID
    outcome: str  # "assigned", "still_queued" or "not_queued"
    assignment_id: uuid.UUID | None


def _candidate(row: asyncpg.Record, matched_skills: int) -> Candidate:
    return Candidate(
        staff_id=row["id"],
        unit_id=row["unit_id"],
        availability=row["availability"],
        wip_limit=row["wip_limit"],
        active_count=row["active_count"],
        last_assigned_at=row["last_assigned_at"],
        matched_skills=matched_skills,
    )


def _locked_candidate(row: asyncpg.Record) -> Candidate:
    """Build the candidate of a rank_and_lock row from the values read under its lock."""
    return Candidate(
        staff_id=row["id"],
        unit_id=row["locked_unit_id"],
        availability=row["locked_availability"],
        wip_limit=row["locked_wip_limit"],
        active_count=row["locked_active_count"],
        last_assigned_at=row["locked_last_assigned_at"],
        matched_skills=row["matched_skills"],
    )


class AssignerStore:
    def __init__(self, pool: asyncpg.Pool, settings: AssignerSettings) -> None:
        self.pool = pool
        self.settings = settings

    # Intake -----------------------------------------------------------------

    async def submit(self, item: NewWorkItem) -> SubmitResult:
        def work(
            careful: bool,
        ) -> Callable[[asyncpg.Connection], Awaitable[SubmitResult]]:
            return lambda conn: self._submit(conn, item, careful)

        return await self._deciding_transaction(
            work, action="submit work item", external_id=item.external_id
        )

    async def _deciding_transaction(
        self,
        work: Callable[[bool], Callable[[asyncpg.Connection], Awaitable[T]]],
        *,
        action: str,
        **ids: str,
    ) -> T:
        """Run a transaction that makes a decision, again with its savepoint if needed.

        `work(careful)` returns the transaction's work. The first run decides
        without DECISION_SAVEPOINT. When every candidate was held, it raises
        _CandidatesHeld, its rollback releases every lock it took, and the
        transaction runs again with `careful` set, deciding inside the savepoint.
        """
        try:
            return await run_in_transaction(
                self.pool, work(False), action=action, **ids
            )
        except _CandidatesHeld:
            logger.debug(
                "every candidate was held; deciding again with a savepoint",
                extra=logs.fields(event="decision_rerun", action=action, **ids),
            )
            return await run_in_transaction(self.pool, work(True), action=action, **ids)

    async def _submit(
        self, conn: asyncpg.Connection, item: NewWorkItem, careful: bool
    ) -> SubmitResult:
        context = await conn.fetchrow(
            queries.intake_context, item.type, item.priority, item.target_unit_id
        )
        if not context["unit_exists"]:
            raise NotFound(f"unit {item.target_unit_id!r} not found (target_unit_id)")
        if context["resolution_target"] is None:
            raise FailedPrecondition(
                f"no SLA policy covers type {item.type!r} at priority {item.priority}; "
                "create one, or a '*' fallback"
            )
        calendar = (
            from_rows(
                context["calendar_timezone"],
                context["calendar_hours"],
                context["calendar_holidays"],
            )
            if context["calendar_id"] is not None
            else None
        )
        deadlines = compute_deadlines(
            item.received_at,
            context["resolution_target"],
            context["warning_fraction"],
            calendar,
        )
        work_item_id = uuid.uuid4()
        received = events_pb2.WorkItemReceived(work_item_id=str(work_item_id))
        received.warning_at.FromDatetime(deadlines.warning_at)
        received.deadline.FromDatetime(deadlines.deadline)
        inserted = await conn.fetchval(
            queries.insert_work_item,
            work_item_id,
            item.type,
            item.external_id,
            item.title,
            item.required_skills,
            item.target_unit_id,
            item.priority,
            item.received_at,
            context["resolution_target"],
            context["warning_fraction"],
            deadlines.warning_at,
            deadlines.deadline,
            context["calendar_id"],
            *event_row(subjects.WORK_ITEM_RECEIVED, received),
        )
        if inserted is None:
            existing = await conn.fetchrow(
                queries.find_work_item, item.type, item.external_id
            )
            assert existing is not None
            return await self._existing(conn, existing)

        row = {
            "id": work_item_id,
            "type": item.type,
            "external_id": item.external_id,
            "title": item.title,
            "required_skills": item.required_skills,
            "target_unit_id": item.target_unit_id,
            "priority": item.priority,
            "received_at": item.received_at,
            "state": "queued",
        }
        decision = await self._decide(
            conn, work_item_id, item.required_skills, item.target_unit_id, careful
        )
        if decision.assignment_id is None:
            queued = events_pb2.WorkItemQueued(
                work_item_id=str(work_item_id), priority=item.priority
            )  # type: ignore[arg-type]
            await conn.execute(
                queries.record_queued,
                work_item_id,
                item.priority,
                item.target_unit_id,
                item.required_skills,
                ENGINE_ACTOR,
                "no eligible staff member has room",
                *event_row(subjects.WORK_ITEM_QUEUED, queued),
            )
            return SubmitResult(row, True, None, deadlines.deadline)
        assigned_at = await self._record_assignment(
            conn, work_item_id, decision, "assigned"
        )
        row["state"] = "assigned"
        assert decision.winner is not None
        assignment = {
            **row,
            "id": decision.assignment_id,
            "work_item_id": work_item_id,
            "assignee_id": decision.winner.staff_id,
            "assignee_unit_id": decision.winner_unit_id,
            "status": "assigned",
            "score": decision.winner.total,
            "assigned_at": assigned_at,
            "started_at": None,
            "ended_at": None,
            "deadline": deadlines.deadline,
        }
        return SubmitResult(row, True, assignment, deadlines.deadline)

    async def _existing(
        self, conn: asyncpg.Connection, item: asyncpg.Record
    ) -> SubmitResult:
        assignment_id = await conn.fetchval(
            queries.latest_assignment_of_item, item["id"]
        )
        assignment = (
            await conn.fetchrow(queries.get_assignment, assignment_id)
            if assignment_id
            else None
        )
        deadline = await conn.fetchval(queries.clock_deadline, item["id"])
        return SubmitResult(item, False, assignment, deadline)

    # The decision -------------------------------------------------------------

    async def _decide(
        self,
        conn: asyncpg.Connection,
        work_item_id: uuid.UUID,
        required_skills: list[str],
        target_unit_id: str | None,
        careful: bool,
    ) -> Decision:
        """Pick and lock the best eligible person.

        The decision has no assignee when no one fits. The caller records the
        assignment (`_record_assignment`), which counts it in the locked person's
        load. Unless `careful`, it raises _CandidatesHeld instead of waiting for
        a held candidate.
        """
        settings = self.settings
        weights = settings.weights
        required = len(required_skills)
        if careful:
            await conn.execute(DECISION_SAVEPOINT)
        for round_number in range(1, MAX_DECISION_ROUNDS + 1):
            rows = await conn.fetch(
                queries.rank_and_lock,
                required_skills,
                target_unit_id,
                settings.min_skill_matches,
                weights.skills,
                weights.capacity,
                weights.availability,
                weights.unit,
                settings.candidate_limit,
            )
            if not rows:
                return Decision(None, None)
            locked = next(
                (_locked_candidate(row) for row in rows if row["locked"]), None
            )
            if locked is None:
                # Every candidate is held by a concurrent transaction: wait for
                # the best one, whose row is re-checked once the holder commits.
                if not careful:
                    raise _CandidatesHeld
                best = rows[0]
                await conn.execute(RELEASE_SKIPPED_LOCKS)
                waited = await conn.fetchrow(queries.lock_candidate_wait, best["id"])
                if waited is not None:
                    locked = _candidate(waited, best["matched_skills"])
            if locked is None:
                logger.debug(
                    "candidates filled up during the decision; ranking again",
                    extra=logs.fields(
                        event="decision_rerank",
                        work_item_id=str(work_item_id),
                        attempt=round_number,
                    ),
                )
                continue
            # Score the winner on its locked row, which may have changed since ranking.
            winner = score(locked, required, target_unit_id, weights)
            runners_up = [
                score(
                    _candidate(row, row["matched_skills"]),
                    required,
                    target_unit_id,
                    weights,
                )
                for row in rows
                if row["id"] != winner.staff_id
            ]
            return Decision(uuid.uuid4(), winner, [winner, *runners_up], locked.unit_id)
        logger.warning(
            "no candidate could be locked after %d rounds; queueing",
            MAX_DECISION_ROUNDS,
            extra=logs.fields(event="decision_gave_up", work_item_id=str(work_item_id)),
        )
        return Decision(None, None)

    async def _record_assignment(
        self,
        conn: asyncpg.Connection,
        work_item_id: uuid.UUID,
        decision: Decision,
        kind: str,
    ) -> datetime:
        """Write the decided assignment and its event, and return its assigned_at."""
        assert decision.assignment_id is not None and decision.winner is not None
        event = events_pb2.AssignmentChanged(
            assignment_id=str(decision.assignment_id),
            work_item_id=str(work_item_id),
            assignee_id=decision.winner.staff_id,
            status=common_pb2.ASSIGNMENT_STATUS_ASSIGNED,
        )
        assigned_at: datetime = await conn.fetchval(
            queries.record_assignment,
            decision.assignment_id,
            work_item_id,
            decision.winner.staff_id,
            decision.winner.total,
            kind,
            [b.as_json(rank) for rank, b in enumerate(decision.candidates, start=1)],
            ENGINE_ACTOR,
            *event_row(subjects.ASSIGNMENT_ASSIGNED, event),
        )
        logger.info(
            "assigned work item to %s",
            decision.winner.staff_id,
            extra=logs.fields(
                event="work_item_assigned",
                work_item_id=str(work_item_id),
                assignment_id=str(decision.assignment_id),
                staff_id=decision.winner.staff_id,
                kind=kind,
                score=round(decision.winner.total, 3),
            ),
        )
        return assigned_at

    # The queue ----------------------------------------------------------------

    async def offer_queued(self, work_item_id: uuid.UUID) -> OfferResult:
        def work(
            careful: bool,
        ) -> Callable[[asyncpg.Connection], Awaitable[OfferResult]]:
            return lambda conn: self._offer(conn, work_item_id, careful)

        return await self._deciding_transaction(
            work, action="offer queued item", work_item_id=str(work_item_id)
        )

    async def _offer(
        self, conn: asyncpg.Connection, work_item_id: uuid.UUID, careful: bool
    ) -> OfferResult:
        item = await conn.fetchrow(queries.lock_queued_item, work_item_id)
        if item is None:
            return OfferResult(work_item_id, "not_queued", None)
        decision = await self._decide(
            conn,
            work_item_id,
            list(item["required_skills"]),
            item["target_unit_id"],
            careful,
        )
        if decision.assignment_id is None:
            return OfferResult(work_item_id, "still_queued", None)
        await self._record_assignment(
            conn, work_item_id, decision, "assigned_from_queue"
        )
        return OfferResult(work_item_id, "assigned", decision.assignment_id)

    async def offer_many(self, work_item_ids: list[uuid.UUID]) -> list[OfferResult]:
        """Offer queued items in the given order, each as `offer_queued` does.

        Items that are no longer queued, or that no eligible person has room for,
        are answered from one read without a transaction each.
        """
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                queries.takeable_items,
                work_item_ids,
                self.settings.min_skill_matches,
                TAKEABLE_ROOM_LIMIT,
            )
        states = {row["id"]: row for row in rows}
        results = []
        for work_item_id in work_item_ids:
            state = states[work_item_id]
            if not state["queued"]:
                results.append(OfferResult(work_item_id, "not_queued", None))
            elif not state["takeable"]:
                results.append(OfferResult(work_item_id, "still_queued", None))
            else:
                results.append(await self.offer_queued(work_item_id))
        return results

    async def anyone_has_room(self) -> bool:
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval(queries.anyone_has_room))

    # Lifecycle ------------------------------------------------------------------

    async def start(
        self, assignment_id: uuid.UUID, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_for_work(conn, principal, assignment_id)
            started = await conn.fetchrow(queries.start_assignment, assignment_id)
            if started is None:
                status = await conn.fetchval(queries.assignment_status, assignment_id)
                raise FailedPrecondition(
                    f"assignment {assignment_id} is {status}, expected assigned"
                )
            event = events_pb2.AssignmentChanged(
                assignment_id=str(assignment_id),
                work_item_id=str(started["work_item_id"]),
                assignee_id=started["assignee_id"],
                status=common_pb2.ASSIGNMENT_STATUS_IN_PROGRESS,
            )
            await add_event(conn, subjects.ASSIGNMENT_STARTED, event)
            return await conn.fetchrow(queries.get_assignment, assignment_id)

        return await run_in_transaction(
            self.pool, work, action="start assignment", assignment_id=str(assignment_id)
        )

    async def hold(
        self, assignment_id: uuid.UUID, reason: str, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_for_work(conn, principal, assignment_id)
            await holds.hold(conn, assignment_id, reason)
            return await conn.fetchrow(queries.get_assignment, assignment_id)

        return await run_in_transaction(
            self.pool, work, action="hold assignment", assignment_id=str(assignment_id)
        )

    async def resume(
        self, assignment_id: uuid.UUID, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_for_work(conn, principal, assignment_id)
            await holds.resume_assignment(conn, assignment_id)
            return await conn.fetchrow(queries.get_assignment, assignment_id)

        return await run_in_transaction(
            self.pool,
            work,
            action="resume assignment",
            assignment_id=str(assignment_id),
        )

    async def return_to_queue(
        self, assignment_id: uuid.UUID, reason: str, principal: Principal
    ) -> tuple[asyncpg.Record, asyncpg.Record]:
        """End an active assignment and queue its item again behind those waiting."""

        async def work(
            conn: asyncpg.Connection,
        ) -> tuple[asyncpg.Record, asyncpg.Record]:
            assignee = await self._lock_for_work(conn, principal, assignment_id)
            ended = await self._end(
                conn,
                assignment_id,
                assignee,
                "cancelled",
                f"returned to queue: {reason}",
            )
            work_item_id = ended["work_item_id"]
            item = await conn.fetchrow(queries.get_work_item, work_item_id)
            await holds.resume_clock(conn, work_item_id)
            await conn.execute(
                queries.insert_queue_entry,
                work_item_id,
                item["priority"],
                item["target_unit_id"],
                list(item["required_skills"]),
            )
            await conn.execute(queries.set_work_item_state, work_item_id, "queued")
            await conn.execute(
                queries.insert_decision,
                work_item_id,
                None,
                "queued",
                principal.subject,
                f"returned to queue: {reason}",
                [],
            )
            queued = events_pb2.WorkItemQueued(
                work_item_id=str(work_item_id), priority=item["priority"]
            )
            await add_event(conn, subjects.WORK_ITEM_QUEUED, queued)
            return (
                await conn.fetchrow(queries.get_work_item, work_item_id),
                await conn.fetchrow(queries.get_assignment, assignment_id),
            )

        return await run_in_transaction(
            self.pool, work, action="return to queue", assignment_id=str(assignment_id)
        )

    async def complete(
        self, assignment_id: uuid.UUID, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            assignee = await self._lock_for_work(conn, principal, assignment_id)
            if assignee["status"] == "on_hold":
                # Completing from hold counts only the active time: end the
                # pause first, moving the deadline by the working time it covered.
                await holds.resume_clock(conn, assignee["work_item_id"])
            return await self._end(
                conn, assignment_id, assignee, "completed", "", close_item="completed"
            )

        return await run_in_transaction(
            self.pool,
            work,
            action="complete assignment",
            assignment_id=str(assignment_id),
        )

    async def cancel(
        self, work_item_id: uuid.UUID, reason: str, principal: Principal
    ) -> tuple[asyncpg.Record, asyncpg.Record | None]:
        async def work(
            conn: asyncpg.Connection,
        ) -> tuple[asyncpg.Record, asyncpg.Record | None]:
            item = await conn.fetchrow(queries.lock_work_item, work_item_id)
            if item is None:
                raise NotFound(f"work item {work_item_id} not found")
            # Authorize on the active assignee's unit, or the last assignee's for
            # a closed item, so that unit's supervisor gets FAILED_PRECONDITION.
            assignee = await conn.fetchrow(
                queries.latest_assignee_of_item, work_item_id
            )
            principal.require(
                Action.CANCEL_WORK,
                unit_ids=[
                    assignee["assignee_unit_id"] if assignee is not None else None,
                    item["target_unit_id"],
                ],
            )
            if item["state"] in ("completed", "cancelled"):
                raise FailedPrecondition(
                    f"work item {work_item_id} is {item['state']}, expected queued or assigned"
                )
            assignment = None
            active = await conn.fetchrow(
                queries.active_assignment_of_item, work_item_id
            )
            if active is not None:
                assert assignee is not None
                await self._end(conn, active["id"], assignee, "cancelled", reason)
                assignment = await conn.fetchrow(queries.get_assignment, active["id"])
            await conn.execute(queries.delete_queue_entry, work_item_id)
            await conn.execute(queries.set_work_item_state, work_item_id, "cancelled")
            await holds.resume_clock(conn, work_item_id)
            await conn.execute(queries.stop_clock, work_item_id)
            logger.info(
                "cancelled work item",
                extra=logs.fields(
                    event="work_item_cancelled", work_item_id=str(work_item_id)
                ),
            )
            return await conn.fetchrow(queries.get_work_item, work_item_id), assignment

        return await run_in_transaction(
            self.pool, work, action="cancel work item", work_item_id=str(work_item_id)
        )

    async def reassign(
        self, change: Reassignment, principal: Principal
    ) -> ReassignResult:
        async def work(conn: asyncpg.Connection) -> ReassignResult:
            return await reassign(conn, principal, change, self.settings.weights)

        return await run_in_transaction(
            self.pool,
            work,
            action="reassign assignment",
            assignment_id=str(change.assignment_id),
        )

    async def _lock_for_work(
        self, conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
    ) -> asyncpg.Record:
        """Lock the assignment's work item, then check `principal` may work on it.

        Raises NotFound for an unknown assignment, PermissionDenied unless the
        principal may start or complete it. Returns its work_item_id, status,
        assignee_id and assignee_unit_id, read under the lock: a reassignment
        takes the same lock, so the assignee stays the assignee until commit.
        """
        if await conn.fetchval(queries.lock_item_of_assignment, assignment_id) is None:
            raise NotFound(f"assignment {assignment_id} not found")
        assignee: asyncpg.Record = await conn.fetchrow(
            queries.assignee_of, assignment_id
        )
        principal.require(
            Action.WORK_ON_ASSIGNMENT,
            owner_id=assignee["assignee_id"],
            unit_ids=[assignee["assignee_unit_id"]],
        )
        return assignee

    async def _end(
        self,
        conn: asyncpg.Connection,
        assignment_id: uuid.UUID,
        assignee: asyncpg.Record,
        status: str,
        reason: str,
        *,
        close_item: str | None = None,
    ) -> asyncpg.Record:
        """End an active assignment, release its load and publish capacity.freed.

        `assignee` holds the assignment's work_item_id, assignee_id and
        assignee_unit_id, read under the work item lock. With `close_item`, the
        work item is closed in that state and its SLA clock stopped. Returns the
        assignment as get_assignment does.
        """
        work_item_id = str(assignee["work_item_id"])
        staff_id = assignee["assignee_id"]
        completed = status == "completed"
        changed = events_pb2.AssignmentChanged(
            assignment_id=str(assignment_id),
            work_item_id=work_item_id,
            assignee_id=staff_id,
            status=(
                common_pb2.ASSIGNMENT_STATUS_COMPLETED
                if completed
                else common_pb2.ASSIGNMENT_STATUS_CANCELLED
            ),
        )
        freed = events_pb2.CapacityFreed(
            staff_id=staff_id,
            unit_id=assignee["assignee_unit_id"] or "",
            reason=f"assignment_{status}",
        )
        changed_subject = (
            subjects.ASSIGNMENT_COMPLETED
            if completed
            else subjects.ASSIGNMENT_CANCELLED
        )
        ended: asyncpg.Record | None = await conn.fetchrow(
            queries.end_assignment,
            assignment_id,
            status,
            reason,
            close_item,
            *event_row(changed_subject, changed),
            *event_row(subjects.CAPACITY_FREED, freed),
        )
        if ended is None:
            current = await conn.fetchval(queries.assignment_status, assignment_id)
            raise FailedPrecondition(
                f"assignment {assignment_id} is {current}, expected assigned, in_progress or on_hold"
            )
        logger.info(
            "assignment %s",
            status,
            extra=logs.fields(
                event=f"assignment_{status}",
                assignment_id=str(assignment_id),
                work_item_id=work_item_id,
                staff_id=staff_id,
            ),
        )
        return ended

    # Reads ------------------------------------------------------------------------

    async def get_work_item(
        self, work_item_id: uuid.UUID | None, type_: str = "", external_id: str = ""
    ) -> tuple[asyncpg.Record, asyncpg.Record | None]:
        async with self.pool.acquire() as conn:
            if work_item_id is not None:
                item = await conn.fetchrow(queries.get_work_item, work_item_id)
                label = str(work_item_id)
            else:
                item = await conn.fetchrow(queries.find_work_item, type_, external_id)
                label = f"{type_}/{external_id}"
            if item is None:
                raise NotFound(f"work item {label} not found")
            assignment_id = await conn.fetchval(
                queries.latest_assignment_of_item, item["id"]
            )
            assignment = (
                await conn.fetchrow(queries.get_assignment, assignment_id)
                if assignment_id
                else None
            )
            return item, assignment

    async def get_assignment(self, assignment_id: uuid.UUID) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(queries.get_assignment, assignment_id)
        if row is None:
            raise NotFound(f"assignment {assignment_id} not found")
        return row

    async def list_assignments(
        self,
        assignee_id: str | None,
        unit_id: str | None,
        statuses: list[str] | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                queries.list_assignments,
                assignee_id,
                unit_id,
                statuses,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )

    async def decisions(
        self, work_item_id: uuid.UUID
    ) -> tuple[asyncpg.Record, asyncpg.Record | None, list[asyncpg.Record]]:
        """Return a work item, its current or last assignee (and unit), its decisions."""
        async with self.pool.acquire() as conn:
            item = await conn.fetchrow(queries.get_work_item, work_item_id)
            if item is None:
                raise NotFound(f"work item {work_item_id} not found")
            assignee = await conn.fetchrow(
                queries.latest_assignee_of_item, work_item_id
            )
            return (
                item,
                assignee,
                await conn.fetch(queries.list_decisions, work_item_id),
            )

    async def staff_unit(self, staff_id: str) -> str | None:
        """Return the unit of a staff member, or None for an unknown id."""
        async with self.pool.acquire() as conn:
            unit: str | None = await conn.fetchval(queries.staff_unit, staff_id)
            return unit
