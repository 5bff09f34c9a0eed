"""All SQL of the assigner: intake, the assignment decision, lifecycle changes.

Lock order, the same in every transaction so none deadlock: the work item row,
then its assignment, then the assignee's staff_load row (and the profile row
FOR SHARE). A decision locks at most one staff_load row that it then updates. A
reassignment (reassignment.py) locks the previous and the new assignee's rows in
staff id order.

Changes of an existing assignment check the caller's permission after taking the
work item lock, so the assignee they checked against cannot change before commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

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
from assignment_engine.core.calendars import load_calendar
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import FailedPrecondition, NotFound
from assignment_engine.core.outbox import add_event
from assignment_engine.core.permissions import Action, Principal
from assignment_engine.core.sla_clock import compute_deadlines
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.assigner", "store.sql")

# Ranking rounds before an item whose candidates keep filling up is queued; the
# queue drain then retries it when capacity frees.
MAX_DECISION_ROUNDS = 4
ENGINE_ACTOR = "engine"


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


@dataclass(frozen=True)
class SubmitResult:
    work_item: asyncpg.Record
    created: bool
    assignment: asyncpg.Record | None
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


class AssignerStore:
    def __init__(self, pool: asyncpg.Pool, settings: AssignerSettings) -> None:
        self.pool = pool
        self.settings = settings

    # Intake -----------------------------------------------------------------

    async def submit(self, item: NewWorkItem) -> SubmitResult:
        async def work(conn: asyncpg.Connection) -> SubmitResult:
            return await self._submit(conn, item)

        return await run_in_transaction(
            self.pool, work, action="submit work item", external_id=item.external_id
        )

    async def _submit(
        self, conn: asyncpg.Connection, item: NewWorkItem
    ) -> SubmitResult:
        if item.target_unit_id is not None and not await conn.fetchval(
            queries.unit_exists, item.target_unit_id
        ):
            raise NotFound(f"unit {item.target_unit_id!r} not found (target_unit_id)")
        policy = await conn.fetchrow(
            queries.find_policy, item.type, item.priority, item.target_unit_id
        )
        if policy is None:
            raise FailedPrecondition(
                f"no SLA policy covers type {item.type!r} at priority {item.priority}; "
                "create one, or a '*' fallback"
            )
        work_item_id = uuid.uuid4()
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
            "queued",
        )
        if inserted is None:
            existing = await conn.fetchrow(
                queries.find_work_item, item.type, item.external_id
            )
            assert existing is not None
            return await self._existing(conn, existing)

        calendar = await load_calendar(conn, policy["calendar_id"])
        deadlines = compute_deadlines(
            item.received_at,
            policy["resolution_target"],
            policy["warning_fraction"],
            calendar,
        )
        await conn.execute(
            queries.insert_clock,
            work_item_id,
            policy["resolution_target"],
            policy["warning_fraction"],
            item.received_at,
            deadlines.warning_at,
            deadlines.deadline,
            policy["calendar_id"],
        )
        received = events_pb2.WorkItemReceived(work_item_id=str(work_item_id))
        received.warning_at.FromDatetime(deadlines.warning_at)
        received.deadline.FromDatetime(deadlines.deadline)
        await add_event(conn, subjects.WORK_ITEM_RECEIVED, received)

        decision = await self._decide(
            conn, work_item_id, item.required_skills, item.target_unit_id
        )
        if decision.assignment_id is not None:
            await self._record_assignment(conn, work_item_id, decision, "assigned")
        else:
            await conn.execute(
                queries.insert_queue_entry,
                work_item_id,
                item.priority,
                item.target_unit_id,
                item.required_skills,
            )
            await conn.execute(
                queries.insert_decision,
                work_item_id,
                None,
                "queued",
                ENGINE_ACTOR,
                "no eligible staff member has room",
                [],
            )
            queued = events_pb2.WorkItemQueued(
                work_item_id=str(work_item_id), priority=item.priority
            )  # type: ignore[arg-type]
            await add_event(conn, subjects.WORK_ITEM_QUEUED, queued)
        row = await conn.fetchrow(queries.get_work_item, work_item_id)
        assignment = (
            await conn.fetchrow(queries.get_assignment, decision.assignment_id)
            if decision.assignment_id
            else None
        )
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
    ) -> Decision:
        """Pick, lock and load the best eligible person; no assignee when nobody fits."""
        settings = self.settings
        weights = settings.weights
        required = len(required_skills)
        for round_number in range(1, MAX_DECISION_ROUNDS + 1):
            rows = await conn.fetch(
                queries.rank_candidates,
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
            matched = {row["id"]: row["matched_skills"] for row in rows}
            ranked = [
                score(
                    _candidate(row, row["matched_skills"]),
                    required,
                    target_unit_id,
                    weights,
                )
                for row in rows
            ]
            locked = None
            for row in rows:
                locked = await conn.fetchrow(queries.lock_candidate_nowait, row["id"])
                if locked is not None:
                    break
            if locked is None:
                # Every candidate is held by a concurrent decision: wait for the
                # best one, whose row is re-checked once the holder commits.
                locked = await conn.fetchrow(queries.lock_candidate_wait, rows[0]["id"])
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
            winner = score(
                _candidate(locked, matched[locked["id"]]),
                required,
                target_unit_id,
                weights,
            )
            runners_up = [b for b in ranked if b.staff_id != winner.staff_id]
            assignment_id = uuid.uuid4()
            await conn.execute(
                queries.insert_assignment,
                assignment_id,
                work_item_id,
                winner.staff_id,
                winner.total,
            )
            await conn.execute(queries.add_load, winner.staff_id)
            return Decision(assignment_id, winner, [winner, *runners_up])
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
    ) -> None:
        assert decision.assignment_id is not None and decision.winner is not None
        await conn.execute(queries.set_work_item_state, work_item_id, "assigned")
        await conn.execute(queries.delete_queue_entry, work_item_id)
        await conn.execute(
            queries.insert_decision,
            work_item_id,
            decision.assignment_id,
            kind,
            ENGINE_ACTOR,
            "",
            [b.as_json(rank) for rank, b in enumerate(decision.candidates, start=1)],
        )
        event = events_pb2.AssignmentChanged(
            assignment_id=str(decision.assignment_id),
            work_item_id=str(work_item_id),
            assignee_id=decision.winner.staff_id,
            status=common_pb2.ASSIGNMENT_STATUS_ASSIGNED,
        )
        await add_event(conn, subjects.ASSIGNMENT_ASSIGNED, event)
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

    # The queue ----------------------------------------------------------------

    async def offer_queued(self, work_item_id: uuid.UUID) -> OfferResult:
        async def work(conn: asyncpg.Connection) -> OfferResult:
            item = await conn.fetchrow(queries.lock_queued_item, work_item_id)
            if item is None:
                return OfferResult(work_item_id, "not_queued", None)
            decision = await self._decide(
                conn,
                work_item_id,
                list(item["required_skills"]),
                item["target_unit_id"],
            )
            if decision.assignment_id is None:
                return OfferResult(work_item_id, "still_queued", None)
            await self._record_assignment(
                conn, work_item_id, decision, "assigned_from_queue"
            )
            return OfferResult(work_item_id, "assigned", decision.assignment_id)

        return await run_in_transaction(
            self.pool, work, action="offer queued item", work_item_id=str(work_item_id)
        )

    async def anyone_has_room(self) -> bool:
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval(queries.anyone_has_room))

    # Lifecycle ------------------------------------------------------------------

    async def start(
        self, assignment_id: uuid.UUID, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_item_of(conn, assignment_id)
            await self._require_work_on(conn, principal, assignment_id)
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
            await self._lock_item_of(conn, assignment_id)
            await self._require_work_on(conn, principal, assignment_id)
            await holds.hold(conn, assignment_id, reason)
            return await conn.fetchrow(queries.get_assignment, assignment_id)

        return await run_in_transaction(
            self.pool, work, action="hold assignment", assignment_id=str(assignment_id)
        )

    async def resume(
        self, assignment_id: uuid.UUID, principal: Principal
    ) -> asyncpg.Record:
        async def work(conn: asyncpg.Connection) -> asyncpg.Record:
            await self._lock_item_of(conn, assignment_id)
            await self._require_work_on(conn, principal, assignment_id)
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
            await self._lock_item_of(conn, assignment_id)
            await self._require_work_on(conn, principal, assignment_id)
            ended = await self._end(
                conn, assignment_id, "cancelled", f"returned to queue: {reason}"
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
            await self._lock_item_of(conn, assignment_id)
            await self._require_work_on(conn, principal, assignment_id)
            ended = await self._end(conn, assignment_id, "completed", "")
            await conn.execute(
                queries.set_work_item_state, ended["work_item_id"], "completed"
            )
            # Completing from hold counts only the active time: end the pause first.
            await holds.resume_clock(conn, ended["work_item_id"])
            await conn.execute(queries.stop_clock, ended["work_item_id"])
            return await conn.fetchrow(queries.get_assignment, assignment_id)

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
                await self._end(conn, active["id"], "cancelled", reason)
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

    async def _lock_item_of(
        self, conn: asyncpg.Connection, assignment_id: uuid.UUID
    ) -> None:
        work_item_id = await conn.fetchval(queries.assignment_work_item, assignment_id)
        if work_item_id is None:
            raise NotFound(f"assignment {assignment_id} not found")
        await conn.fetchrow(queries.lock_work_item, work_item_id)

    async def _require_work_on(
        self, conn: asyncpg.Connection, principal: Principal, assignment_id: uuid.UUID
    ) -> None:
        """Raise PermissionDenied unless `principal` may start or complete the assignment.

        Call it after `_lock_item_of`. A reassignment takes the same lock, so the
        assignee checked here stays the assignee until commit.
        """
        assignee = await conn.fetchrow(queries.assignee_of, assignment_id)
        principal.require(
            Action.WORK_ON_ASSIGNMENT,
            owner_id=assignee["assignee_id"],
            unit_ids=[assignee["assignee_unit_id"]],
        )

    async def _end(
        self,
        conn: asyncpg.Connection,
        assignment_id: uuid.UUID,
        status: str,
        reason: str,
    ) -> asyncpg.Record:
        """End an active assignment, release its load and publish capacity.freed."""
        ended = await conn.fetchrow(
            queries.end_assignment, assignment_id, status, reason
        )
        if ended is None:
            current = await conn.fetchval(queries.assignment_status, assignment_id)
            raise FailedPrecondition(
                f"assignment {assignment_id} is {current}, expected assigned, in_progress or on_hold"
            )
        assignee = ended["assignee_id"]
        await conn.execute(queries.release_load, assignee)
        status_value = (
            common_pb2.ASSIGNMENT_STATUS_COMPLETED
            if status == "completed"
            else common_pb2.ASSIGNMENT_STATUS_CANCELLED
        )
        changed = events_pb2.AssignmentChanged(
            assignment_id=str(assignment_id),
            work_item_id=str(ended["work_item_id"]),
            assignee_id=assignee,
            status=status_value,
        )
        name = (
            subjects.ASSIGNMENT_COMPLETED
            if status == "completed"
            else subjects.ASSIGNMENT_CANCELLED
        )
        await add_event(conn, name, changed)
        freed = events_pb2.CapacityFreed(
            staff_id=assignee,
            unit_id=await conn.fetchval(queries.staff_unit, assignee) or "",
            reason=f"assignment_{status}",
        )
        await add_event(conn, subjects.CAPACITY_FREED, freed)
        logger.info(
            "assignment %s",
            status,
            extra=logs.fields(
                event=f"assignment_{status}",
                assignment_id=str(assignment_id),
                work_item_id=str(ended["work_item_id"]),
                staff_id=assignee,
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
