import datetime

from assignment_engine.api.v1 import common_pb2 as _common_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SlaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLA_STATE_UNSPECIFIED: _ClassVar[SlaState]
    SLA_STATE_ON_TRACK: _ClassVar[SlaState]
    SLA_STATE_WARNING: _ClassVar[SlaState]
    SLA_STATE_BREACHED: _ClassVar[SlaState]
    SLA_STATE_MET: _ClassVar[SlaState]
    SLA_STATE_MISSED: _ClassVar[SlaState]

class EscalationReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_REASON_UNSPECIFIED: _ClassVar[EscalationReason]
    ESCALATION_REASON_SLA_BREACH: _ClassVar[EscalationReason]
    ESCALATION_REASON_SLA_WARNING: _ClassVar[EscalationReason]
    ESCALATION_REASON_RE_ESCALATION: _ClassVar[EscalationReason]
    ESCALATION_REASON_MANUAL: _ClassVar[EscalationReason]

class EscalationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_STATE_UNSPECIFIED: _ClassVar[EscalationState]
    ESCALATION_STATE_OPEN: _ClassVar[EscalationState]
    ESCALATION_STATE_ACKNOWLEDGED: _ClassVar[EscalationState]
    ESCALATION_STATE_RESOLVED: _ClassVar[EscalationState]
SLA_STATE_UNSPECIFIED: SlaState
SLA_STATE_ON_TRACK: SlaState
SLA_STATE_WARNING: SlaState
SLA_STATE_BREACHED: SlaState
SLA_STATE_MET: SlaState
SLA_STATE_MISSED: SlaState
ESCALATION_REASON_UNSPECIFIED: EscalationReason
ESCALATION_REASON_SLA_BREACH: EscalationReason
ESCALATION_REASON_SLA_WARNING: EscalationReason
ESCALATION_REASON_RE_ESCALATION: EscalationReason
ESCALATION_REASON_MANUAL: EscalationReason
ESCALATION_STATE_UNSPECIFIED: EscalationState
ESCALATION_STATE_OPEN: EscalationState
ESCALATION_STATE_ACKNOWLEDGED: EscalationState
ESCALATION_STATE_RESOLVED: EscalationState

class SlaStatus(_message.Message):
    __slots__ = ("work_item_id", "state", "received_at", "warning_at", "deadline", "remaining", "warned_at", "breached_at", "stopped_at", "resolution_target")
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    WARNING_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    WARNED_AT_FIELD_NUMBER: _ClassVar[int]
    BREACHED_AT_FIELD_NUMBER: _ClassVar[int]
    STOPPED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_TARGET_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    state: SlaState
    received_at: _timestamp_pb2.Timestamp
    warning_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    remaining: _duration_pb2.Duration
    warned_at: _timestamp_pb2.Timestamp
    breached_at: _timestamp_pb2.Timestamp
    stopped_at: _timestamp_pb2.Timestamp
    resolution_target: _duration_pb2.Duration
    def __init__(self, work_item_id: _Optional[str] = ..., state: _Optional[_Union[SlaState, str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., warning_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., breached_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stopped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution_target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetSlaStatusRequest(_message.Message):
    __slots__ = ("work_item_id",)
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    def __init__(self, work_item_id: _Optional[str] = ...) -> None: ...

class GetSlaStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: SlaStatus
    def __init__(self, status: _Optional[_Union[SlaStatus, _Mapping]] = ...) -> None: ...

class SlaPolicy(_message.Message):
    __slots__ = ("work_item_type", "priority", "resolution_target", "warning_fraction", "re_escalation_interval")
    WORK_ITEM_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_TARGET_FIELD_NUMBER: _ClassVar[int]
    WARNING_FRACTION_FIELD_NUMBER: _ClassVar[int]
    RE_ESCALATION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    work_item_type: str
    priority: _common_pb2.Priority
    resolution_target: _duration_pb2.Duration
    warning_fraction: float
    re_escalation_interval: _duration_pb2.Duration
    def __init__(self, work_item_type: _Optional[str] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., resolution_target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warning_fraction: _Optional[float] = ..., re_escalation_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SetSlaPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: SlaPolicy
    def __init__(self, policy: _Optional[_Union[SlaPolicy, _Mapping]] = ...) -> None: ...

class SetSlaPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: SlaPolicy
    def __init__(self, policy: _Optional[_Union[SlaPolicy, _Mapping]] = ...) -> None: ...

class ListSlaPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSlaPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[SlaPolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[SlaPolicy, _Mapping]]] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("id", "work_item_id", "assignment_id", "escalated_from_id", "escalated_to_id", "reason", "level", "state", "escalated_at", "acknowledged_at", "resolved_at", "notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FROM_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_TO_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    work_item_id: str
    assignment_id: str
    escalated_from_id: str
    escalated_to_id: str
    reason: EscalationReason
    level: int
    state: EscalationState
    escalated_at: _timestamp_pb2.Timestamp
    acknowledged_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    notes: str
    def __init__(self, id: _Optional[str] = ..., work_item_id: _Optional[str] = ..., assignment_id: _Optional[str] = ..., escalated_from_id: _Optional[str] = ..., escalated_to_id: _Optional[str] = ..., reason: _Optional[_Union[EscalationReason, str]] = ..., level: _Optional[int] = ..., state: _Optional[_Union[EscalationState, str]] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notes: _Optional[str] = ...) -> None: ...

class ListEscalationsRequest(_message.Message):
    __slots__ = ("recipient_id", "states", "work_item_id", "page_size", "page_token")
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    recipient_id: str
    states: _containers.RepeatedScalarFieldContainer[EscalationState]
    work_item_id: str
    page_size: int
    page_token: str
    def __init__(self, recipient_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[EscalationState, str]]] = ..., work_item_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEscalationsResponse(_message.Message):
    __slots__ = ("escalations", "next_page_token")
    ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    escalations: _containers.RepeatedCompositeFieldContainer[Escalation]
    next_page_token: str
    def __init__(self, escalations: _Optional[_Iterable[_Union[Escalation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AcknowledgeEscalationRequest(_message.Message):
    __slots__ = ("escalation_id", "note")
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    escalation_id: str
    note: str
    def __init__(self, escalation_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class AcknowledgeEscalationResponse(_message.Message):
    __slots__ = ("escalation",)
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...

class ResolveEscalationRequest(_message.Message):
    __slots__ = ("escalation_id", "note")
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    escalation_id: str
    note: str
    def __init__(self, escalation_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ResolveEscalationResponse(_message.Message):
    __slots__ = ("escalation",)
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...
