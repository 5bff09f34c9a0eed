"""The AssignerService servicer: validate the request, call the store, convert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc

from assignment_engine.api.v1 import assigner_pb2, assigner_pb2_grpc, common_pb2
from assignment_engine.assigner import convert
from assignment_engine.assigner.store import AssignerStore, NewWorkItem
from assignment_engine.core import paging, records, validation
from assignment_engine.core.errors import InvalidArgument

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
        if request.work_item_id:
            if request.type or request.external_id:
                raise InvalidArgument(
                    "work_item_id",
                    request.work_item_id,
                    "either work_item_id or type and external_id, not both",
                )
            item, assignment = await self.store.get_work_item(
                validation.require_uuid("work_item_id", request.work_item_id)
            )
        else:
            if not request.type and not request.external_id:
                raise InvalidArgument(
                    "work_item_id", "", "work_item_id, or type and external_id"
                )
            item, assignment = await self.store.get_work_item(
                None,
                validation.require_id("type", request.type),
                validation.require_text(
                    "external_id",
                    request.external_id,
                    max_length=MAX_EXTERNAL_ID_LENGTH,
                ),
            )
        response = assigner_pb2.GetWorkItemResponse(work_item=records.work_item(item))
        if assignment is not None:
            response.assignment.CopyFrom(convert.assignment(assignment))
        return response

    async def GetAssignment(
        self,
        request: assigner_pb2.GetAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.GetAssignmentResponse:
        row = await self.store.get_assignment(
            validation.require_uuid("assignment_id", request.assignment_id)
        )
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

    async def StartAssignment(
        self,
        request: assigner_pb2.StartAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.StartAssignmentResponse:
        row = await self.store.start(
            validation.require_uuid("assignment_id", request.assignment_id)
        )
        self._committed()
        return assigner_pb2.StartAssignmentResponse(assignment=convert.assignment(row))

    async def CompleteAssignment(
        self,
        request: assigner_pb2.CompleteAssignmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> assigner_pb2.CompleteAssignmentResponse:
        row = await self.store.complete(
            validation.require_uuid("assignment_id", request.assignment_id)
        )
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
        item, assignment = await self.store.cancel(work_item_id, reason)
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
        item, decisions = await self.store.decisions(
            validation.require_uuid("work_item_id", request.work_item_id)
        )
        return assigner_pb2.ExplainAssignmentResponse(
            work_item=records.work_item(item),
            decisions=[convert.decision(row) for row in decisions],
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
        response = assigner_pb2.OfferQueuedItemsResponse()
        assigned_any = False
        for work_item_id in ids:
            result = await self.store.offer_queued(work_item_id)
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
