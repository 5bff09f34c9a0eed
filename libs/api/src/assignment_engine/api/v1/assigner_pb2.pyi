import datetime

from assignment_engine.api.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBMIT_OUTCOME_UNSPECIFIED: _ClassVar[SubmitOutcome]
    SUBMIT_OUTCOME_ASSIGNED: _ClassVar[SubmitOutcome]
    SUBMIT_OUTCOME_QUEUED: _ClassVar[SubmitOutcome]
    SUBMIT_OUTCOME_CLOSED: _ClassVar[SubmitOutcome]

class DecisionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_KIND_UNSPECIFIED: _ClassVar[DecisionKind]
    DECISION_KIND_ASSIGNED: _ClassVar[DecisionKind]
    DECISION_KIND_QUEUED: _ClassVar[DecisionKind]
    DECISION_KIND_ASSIGNED_FROM_QUEUE: _ClassVar[DecisionKind]
    DECISION_KIND_REASSIGNED: _ClassVar[DecisionKind]

class OfferOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OFFER_OUTCOME_UNSPECIFIED: _ClassVar[OfferOutcome]
    OFFER_OUTCOME_ASSIGNED: _ClassVar[OfferOutcome]
    OFFER_OUTCOME_STILL_QUEUED: _ClassVar[OfferOutcome]
    OFFER_OUTCOME_NOT_QUEUED: _ClassVar[OfferOutcome]
SUBMIT_OUTCOME_UNSPECIFIED: SubmitOutcome
SUBMIT_OUTCOME_ASSIGNED: SubmitOutcome
SUBMIT_OUTCOME_QUEUED: SubmitOutcome
SUBMIT_OUTCOME_CLOSED: SubmitOutcome
DECISION_KIND_UNSPECIFIED: DecisionKind
DECISION_KIND_ASSIGNED: DecisionKind
DECISION_KIND_QUEUED: DecisionKind
DECISION_KIND_ASSIGNED_FROM_QUEUE: DecisionKind
DECISION_KIND_REASSIGNED: DecisionKind
OFFER_OUTCOME_UNSPECIFIED: OfferOutcome
OFFER_OUTCOME_ASSIGNED: OfferOutcome
OFFER_OUTCOME_STILL_QUEUED: OfferOutcome
OFFER_OUTCOME_NOT_QUEUED: OfferOutcome

class SubmitWorkItemRequest(_message.Message):
    __slots__ = ("type", "external_id", "title", "required_skills", "target_unit_id", "priority", "received_at")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    TARGET_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    type: str
    external_id: str
    title: str
    required_skills: _containers.RepeatedScalarFieldContainer[str]
    target_unit_id: str
    priority: _common_pb2.Priority
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, type: _Optional[str] = ..., external_id: _Optional[str] = ..., title: _Optional[str] = ..., required_skills: _Optional[_Iterable[str]] = ..., target_unit_id: _Optional[str] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitWorkItemResponse(_message.Message):
    __slots__ = ("work_item", "outcome", "assignment", "created", "sla_deadline")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SLA_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    outcome: SubmitOutcome
    assignment: _common_pb2.Assignment
    created: bool
    sla_deadline: _timestamp_pb2.Timestamp
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., outcome: _Optional[_Union[SubmitOutcome, str]] = ..., assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ..., created: _Optional[bool] = ..., sla_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetWorkItemRequest(_message.Message):
    __slots__ = ("work_item_id", "type", "external_id")
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    type: str
    external_id: str
    def __init__(self, work_item_id: _Optional[str] = ..., type: _Optional[str] = ..., external_id: _Optional[str] = ...) -> None: ...

class GetWorkItemResponse(_message.Message):
    __slots__ = ("work_item", "assignment")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    assignment: _common_pb2.Assignment
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class GetAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id",)
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    def __init__(self, assignment_id: _Optional[str] = ...) -> None: ...

class GetAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class ListAssignmentsRequest(_message.Message):
    __slots__ = ("assignee_id", "unit_id", "statuses", "page_size", "page_token")
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assignee_id: str
    unit_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_common_pb2.AssignmentStatus]
    page_size: int
    page_token: str
    def __init__(self, assignee_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_common_pb2.AssignmentStatus, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssignmentsResponse(_message.Message):
    __slots__ = ("assignments", "next_page_token")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Assignment]
    next_page_token: str
    def __init__(self, assignments: _Optional[_Iterable[_Union[_common_pb2.Assignment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StartAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id",)
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    def __init__(self, assignment_id: _Optional[str] = ...) -> None: ...

class StartAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class CompleteAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id",)
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    def __init__(self, assignment_id: _Optional[str] = ...) -> None: ...

class CompleteAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class HoldAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id", "reason")
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    reason: str
    def __init__(self, assignment_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class HoldAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class ResumeAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id",)
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    def __init__(self, assignment_id: _Optional[str] = ...) -> None: ...

class ResumeAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class ReturnToQueueRequest(_message.Message):
    __slots__ = ("assignment_id", "reason")
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    reason: str
    def __init__(self, assignment_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReturnToQueueResponse(_message.Message):
    __slots__ = ("work_item", "assignment")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    assignment: _common_pb2.Assignment
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class CancelWorkItemRequest(_message.Message):
    __slots__ = ("work_item_id", "reason")
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    reason: str
    def __init__(self, work_item_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelWorkItemResponse(_message.Message):
    __slots__ = ("work_item", "assignment")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    assignment: _common_pb2.Assignment
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ...) -> None: ...

class ExplainAssignmentRequest(_message.Message):
    __slots__ = ("work_item_id",)
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    def __init__(self, work_item_id: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("kind", "decided_at", "assignment_id", "candidates", "actor", "reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: DecisionKind
    decided_at: _timestamp_pb2.Timestamp
    assignment_id: str
    candidates: _containers.RepeatedCompositeFieldContainer[_common_pb2.ScoreBreakdown]
    actor: str
    reason: str
    def __init__(self, kind: _Optional[_Union[DecisionKind, str]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignment_id: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[_common_pb2.ScoreBreakdown, _Mapping]]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ExplainAssignmentResponse(_message.Message):
    __slots__ = ("work_item", "decisions")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ...) -> None: ...

class ReassignAssignmentRequest(_message.Message):
    __slots__ = ("assignment_id", "new_assignee_id", "reason", "allow_over_limit")
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ALLOW_OVER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    assignment_id: str
    new_assignee_id: str
    reason: str
    allow_over_limit: bool
    def __init__(self, assignment_id: _Optional[str] = ..., new_assignee_id: _Optional[str] = ..., reason: _Optional[str] = ..., allow_over_limit: _Optional[bool] = ...) -> None: ...

class ReassignAssignmentResponse(_message.Message):
    __slots__ = ("assignment", "previous_assignee_id")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    assignment: _common_pb2.Assignment
    previous_assignee_id: str
    def __init__(self, assignment: _Optional[_Union[_common_pb2.Assignment, _Mapping]] = ..., previous_assignee_id: _Optional[str] = ...) -> None: ...

class OfferQueuedItemsRequest(_message.Message):
    __slots__ = ("work_item_ids",)
    WORK_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    work_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, work_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OfferResult(_message.Message):
    __slots__ = ("work_item_id", "outcome", "assignment_id")
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    outcome: OfferOutcome
    assignment_id: str
    def __init__(self, work_item_id: _Optional[str] = ..., outcome: _Optional[_Union[OfferOutcome, str]] = ..., assignment_id: _Optional[str] = ...) -> None: ...

class OfferQueuedItemsResponse(_message.Message):
    __slots__ = ("results", "capacity_remaining")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_REMAINING_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[OfferResult]
    capacity_remaining: bool
    def __init__(self, results: _Optional[_Iterable[_Union[OfferResult, _Mapping]]] = ..., capacity_remaining: _Optional[bool] = ...) -> None: ...
