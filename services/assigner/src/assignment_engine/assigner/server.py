"""The AssignerService servicer: validate the request, authorize, call the store.

Every method validates the request first, then resolves the caller's principal
and checks the permission matrix (permissions.py) before it changes anything.
Reads check after fetching, because the owner and units come from the rows.
Changes of an existing assignment or work item check inside the store's
transaction, after the work item lock.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from assignment_engine.api.v1 import assigner_pb2, assigner_pb2_grpc, common_pb2
from assignment_engine.assigner import convert
from assignment_engine.assigner.reassignment import Reassignment
from assignment_engine.assigner.store import AssignerStore, NewWorkItem
from assignment_engine.core import logs, paging, permissions, records, validation
from assignment_engine.core.errors import InvalidArgument, PermissionDenied
from assignment_engine.core.permissions import Action, Principal, Scope

logger = logging.getLogger(__name__)

MAX_REQUIRED_SKILLS = 32
MAX_TITLE_LENGTH = 500
MAX_EXTERNAL_ID_LENGTH = 128
MAX_REASON_LENGTH = 500
MAX_OFFER_IDS = 500
MAX_FUTURE_RECEIVED_AT = timedelta(minutes=5)
PRIORITY_NAMES = {value: name for name, value in common_pb2.Priority.items()}
STATUS_NAMES = {value: name for name, value in common_pb2.AssignmentStatus.items()}
VALID_PRIORITIES = [value for value in PRIORITY_NAMES if value != 0]
VALID_STATUSES = [value for value in STATUS_NAMES if value != 0]
LIST_LISTING = "assignments"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

OFFER_OUTCOME = {
    "assigned": assigner_pb2.OFFER_OUTCOME_ASSIGNED,
    "still_queued": assigner_pb2.OFFER_OUTCOME_STILL_QUEUED,
    "not_queued": assigner_pb2.OFFER_OUTCOME_NOT_QUEUED,
}
# The only role that may reassign past the new assignee's WIP limit or while
# they are away.
OVER_LIMIT_ROLE = "admin"


def _require_read(
    principal: Principal, target_unit_id: str | None, assignee: Any | None
) -> None:
    """Raise PermissionDenied unless `principal` may read the work item.

    `assignee` is a row with the current or last assignee (`assignee_id`) and
    their unit (`assignee_unit_id`), or None for an item never assigned, which
    only callers with the `all` scope or the target unit's supervisor may read.
    """
    if assignee is None:
        principal.require(Action.READ_WORK, unit_ids=[target_unit_id])
        return
    principal.require(
        Action.READ_WORK,
        owner_id=assignee["assignee_id"],
        unit_ids=[assignee["assignee_unit_id"], target_unit_id],
    )


def _require_over_limit(principal: Principal) -> None:
    """Raise PermissionDenied unless `principal` may set allow_over_limit."""
    if principal.role == OVER_LIMIT_ROLE:
        return
    logger.info(
        "denied %s %s: allow_over_limit",
        principal.role,
        principal.subject,
        extra=logs.fields(
            event="permission_denied",
            staff_id=principal.subject,
            action=Action.REASSIGN.name,
        ),
    )
    raise PermissionDenied(
        f"{principal.role} {principal.subject} may not set allow_over_limit; only "
        "admins may reassign past the new assignee's WIP limit or availability"
    )


class AssignerServicer(assigner_pb2_grpc.AssignerServiceServicer):
    def __init__(self, store: AssignerStore, on_commit: object) -> None:
        self.store = store
        # Called after a transaction that wrote outbox events has committed.
        self.on_commit = on_commit

    def _committed(self) -> None:
        if callable(self.on_commit):
            self.on_commit()

    async def SubmitWorkItem(
        self,
        request: assigner_pb2.SubmitWorkItemRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.SubmitWorkItemResponse:
        item = NewWorkItem(
            type=validation.require_id("type", request.type),
            external_id=validation.require_text(
                "external_id", request.external_id, max_length=MAX_EXTERNAL_ID_LENGTH
            ),
            title=validation.optional_text(
                "title", request.title, max_length=MAX_TITLE_LENGTH
            ),
            required_skills=validation.require_ids(
                "required_skills",
                list(request.required_skills),
                max_items=MAX_REQUIRED_SKILLS,
            ),
            target_unit_id=validation.optional_id(
                "target_unit_id", request.target_unit_id
            ),
            priority=validation.require_enum(
                "priority", request.priority, VALID_PRIORITIES, PRIORITY_NAMES
            ),
            received_at=validation.optional_timestamp(
                "received_at", request, "received_at", max_future=MAX_FUTURE_RECEIVED_AT
            )
            or datetime.now(UTC),
        )
        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.SUBMIT_WORK)
        result = await self.store.submit(item)
        if result.created:
            self._committed()
        response = assigner_pb2.SubmitWorkItemResponse(
            work_item=records.work_item(result.work_item), created=result.created
        )
        state = result.work_item["state"]
        if state == "assigned" and result.assignment is not None:
            response.outcome = assigner_pb2.SUBMIT_OUTCOME_ASSIGNED
            response.assignment.CopyFrom(convert.assignment(result.assignment))
        elif state == "queued":
            response.outcome = assigner_pb2.SUBMIT_OUTCOME_QUEUED
        else:
            response.outcome = assigner_pb2.SUBMIT_OUTCOME_CLOSED
            if result.assignment is not None:
                response.assignment.CopyFrom(convert.assignment(result.assignment))
        records.set_time(response.sla_deadline, result.deadline)
        return response

    async def GetWorkItem(
        self,
        request: assigner_pb2.GetWorkItemRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.GetWorkItemResponse:
        work_item_id = None
        type_ = external_id = ""
        if request.work_item_id:
            if request.type or request.external_id:
                raise InvalidArgument(
                    "work_item_id",
                    request.work_item_id,
                    "either work_item_id or type and external_id, not both",
                )
            work_item_id = validation.require_uuid("work_item_id", request.work_item_id)
        else:
            if not request.type and not request.external_id:
                raise InvalidArgument(
                    "work_item_id", "", "work_item_id, or type and external_id"
                )
            type_ = validation.require_id("type", request.type)
            external_id = validation.require_text(
                "external_id",
                request.external_id,
                max_length=MAX_EXTERNAL_ID_LENGTH,
            )
        principal = await permissions.resolve(self.store.pool)
        item, assignment = await self.store.get_work_item(
            work_item_id, type_, external_id
        )
        _require_read(principal, item["target_unit_id"], assignment)
        response = assigner_pb2.GetWorkItemResponse(work_item=records.work_item(item))
        if assignment is not None:
            response.assignment.CopyFrom(convert.assignment(assignment))
        return response

    async def GetAssignment(
        self,
        request: assigner_pb2.GetAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.GetAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        principal = await permissions.resolve(self.store.pool)
        row = await self.store.get_assignment(assignment_id)
        _require_read(principal, row["target_unit_id"], row)
        return assigner_pb2.GetAssignmentResponse(assignment=convert.assignment(row))

    async def ListAssignments(
        self,
        request: assigner_pb2.ListAssignmentsRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.ListAssignmentsResponse:
        assignee = validation.optional_id("assignee_id", request.assignee_id)
        unit = validation.optional_id("unit_id", request.unit_id)
        statuses = [
            convert.STATUS_NAMES[
                validation.require_enum(
                    f"statuses[{index}]", status, VALID_STATUSES, STATUS_NAMES
                )
            ]
            for index, status in enumerate(request.statuses)
        ]
        limit = validation.page_size("page_size", request.page_size)
        key = paging.decode_token("page_token", request.page_token, LIST_LISTING, 2)
        after = None
        if key is not None:
            try:
                after = (
                    EPOCH + timedelta(microseconds=int(key[0])),
                    uuid.UUID(str(key[1])),
                )
            except (ValueError, OverflowError):
                raise InvalidArgument(
                    "page_token",
                    request.page_token,
                    "a page token from a previous response",
                ) from None
        principal = await permissions.resolve(self.store.pool)
        assignee, unit = await self._list_filters(principal, assignee, unit)
        rows = await self.store.list_assignments(
            assignee, unit, statuses or None, after, limit + 1
        )
        response = assigner_pb2.ListAssignmentsResponse(
            assignments=[convert.assignment(row) for row in rows[:limit]]
        )
        if len(rows) > limit:
            last = rows[limit - 1]
            micros = (last["assigned_at"] - EPOCH) // timedelta(microseconds=1)
            response.next_page_token = paging.encode_token(
                LIST_LISTING, [micros, str(last["id"])]
            )
        return response

    async def _list_filters(
        self, principal: Principal, assignee: str | None, unit: str | None
    ) -> tuple[str | None, str | None]:
        """Narrow the list filters to what `principal` may read, or raise PermissionDenied.

        A staff member lists only their own assignments, and a supervisor only
        those of their unit's staff. An empty filter means that set, and a filter
        outside it is denied. The `all` scope keeps the filters as given.
        """
        scope = principal.scope(Action.READ_WORK)
        if scope is Scope.OWN:
            assignee = assignee or principal.subject
            principal.require(Action.READ_WORK, owner_id=assignee)
        elif scope is Scope.UNIT:
            unit = unit or principal.unit_id
            principal.require(Action.READ_WORK, unit_ids=[unit])
            if assignee is not None:
                # An unknown assignee has no unit and is denied like an outsider.
                principal.require(
                    Action.READ_WORK,
                    owner_id=assignee,
                    unit_ids=[await self.store.staff_unit(assignee)],
                )
        elif scope is Scope.NONE:
            principal.require(Action.READ_WORK)
        return assignee, unit

    async def StartAssignment(
        self,
        request: assigner_pb2.StartAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.StartAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        principal = await permissions.resolve(self.store.pool)
        row = await self.store.start(assignment_id, principal)
        self._committed()
        return assigner_pb2.StartAssignmentResponse(assignment=convert.assignment(row))

    async def HoldAssignment(
        self,
        request: assigner_pb2.HoldAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.HoldAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        reason = validation.optional_text(
            "reason", request.reason, max_length=MAX_REASON_LENGTH
        )
        principal = await permissions.resolve(self.store.pool)
        row = await self.store.hold(assignment_id, reason, principal)
        self._committed()
        return assigner_pb2.HoldAssignmentResponse(assignment=convert.assignment(row))

    async def ResumeAssignment(
        self,
        request: assigner_pb2.ResumeAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.ResumeAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        principal = await permissions.resolve(self.store.pool)
        row = await self.store.resume(assignment_id, principal)
        self._committed()
        return assigner_pb2.ResumeAssignmentResponse(assignment=convert.assignment(row))

    async def ReturnToQueue(
        self,
        request: assigner_pb2.ReturnToQueueRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.ReturnToQueueResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        reason = validation.optional_text(
            "reason", request.reason, max_length=MAX_REASON_LENGTH
        )
        principal = await permissions.resolve(self.store.pool)
        item, row = await self.store.return_to_queue(assignment_id, reason, principal)
        self._committed()
        return assigner_pb2.ReturnToQueueResponse(
            work_item=records.work_item(item), assignment=convert.assignment(row)
        )

    async def CompleteAssignment(
        self,
        request: assigner_pb2.CompleteAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.CompleteAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        principal = await permissions.resolve(self.store.pool)
        row = await self.store.complete(assignment_id, principal)
        self._committed()
        return assigner_pb2.CompleteAssignmentResponse(
            assignment=convert.assignment(row)
        )

    async def CancelWorkItem(
        self,
        request: assigner_pb2.CancelWorkItemRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.CancelWorkItemResponse:
        work_item_id = validation.require_uuid("work_item_id", request.work_item_id)
        reason = validation.optional_text(
            "reason", request.reason, max_length=MAX_REASON_LENGTH
        )
        principal = await permissions.resolve(self.store.pool)
        item, assignment = await self.store.cancel(work_item_id, reason, principal)
        self._committed()
        response = assigner_pb2.CancelWorkItemResponse(
            work_item=records.work_item(item)
        )
        if assignment is not None:
            response.assignment.CopyFrom(convert.assignment(assignment))
        return response

    async def ExplainAssignment(
        self,
        request: assigner_pb2.ExplainAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.ExplainAssignmentResponse:
        work_item_id = validation.require_uuid("work_item_id", request.work_item_id)
        principal = await permissions.resolve(self.store.pool)
        item, assignee, decisions = await self.store.decisions(work_item_id)
        _require_read(principal, item["target_unit_id"], assignee)
        return assigner_pb2.ExplainAssignmentResponse(
            work_item=records.work_item(item),
            decisions=[convert.decision(row) for row in decisions],
        )

    async def ReassignAssignment(
        self,
        request: assigner_pb2.ReassignAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.ReassignAssignmentResponse:
        assignment_id = validation.require_uuid("assignment_id", request.assignment_id)
        new_assignee_id = validation.require_id(
            "new_assignee_id", request.new_assignee_id
        )
        reason = validation.require_text(
            "reason", request.reason, max_length=MAX_REASON_LENGTH
        )
        if not reason.strip():
            raise InvalidArgument("reason", reason, "a reason other than whitespace")
        change = Reassignment(
            assignment_id=assignment_id,
            new_assignee_id=new_assignee_id,
            reason=reason,
            allow_over_limit=request.allow_over_limit,
        )
        principal = await permissions.resolve(self.store.pool)
        if change.allow_over_limit:
            _require_over_limit(principal)
        result = await self.store.reassign(change, principal)
        self._committed()
        return assigner_pb2.ReassignAssignmentResponse(
            assignment=convert.assignment(result.assignment),
            previous_assignee_id=result.previous_assignee_id,
        )

    async def OfferQueuedItems(
        self,
        request: assigner_pb2.OfferQueuedItemsRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.OfferQueuedItemsResponse:
        if len(request.work_item_ids) > MAX_OFFER_IDS:
            raise InvalidArgument(
                "work_item_ids",
                f"{len(request.work_item_ids)} ids",
                f"at most {MAX_OFFER_IDS} ids",
            )
        ids = [
            validation.require_uuid(f"work_item_ids[{index}]", value)
            for index, value in enumerate(request.work_item_ids)
        ]
        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.OFFER_QUEUED)
        response = assigner_pb2.OfferQueuedItemsResponse()
        assigned_any = False
        for result in await self.store.offer_many(ids):
            work_item_id = result.work_item_id
            assigned_any = assigned_any or result.outcome == "assigned"
            response.results.append(
                assigner_pb2.OfferResult(
                    work_item_id=str(work_item_id),
                    outcome=OFFER_OUTCOME[result.outcome],
                    assignment_id=str(result.assignment_id)
                    if result.assignment_id
                    else "",
                )
            )
        if assigned_any:
            self._committed()
        response.capacity_remaining = await self.store.anyone_has_room()
        return response
