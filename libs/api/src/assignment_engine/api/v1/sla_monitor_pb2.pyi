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
    SLA_STATE_PAUSED: _ClassVar[SlaState]

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
SLA_STATE_PAUSED: SlaState
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
    __slots__ = ("work_item_id", "state", "received_at", "warning_at", "deadline", "remaining", "warned_at", "breached_at", "stopped_at", "resolution_target", "paused_since", "paused_total", "calendar_id", "elapsed")
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
    PAUSED_SINCE_FIELD_NUMBER: _ClassVar[int]
    PAUSED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
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
    paused_since: _timestamp_pb2.Timestamp
    paused_total: _duration_pb2.Duration
    calendar_id: str
    elapsed: _duration_pb2.Duration
    def __init__(self, work_item_id: _Optional[str] = ..., state: _Optional[_Union[SlaState, str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., warning_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., breached_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stopped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution_target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., paused_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., paused_total: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., calendar_id: _Optional[str] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("work_item_type", "priority", "resolution_target", "warning_fraction", "re_escalation_interval", "calendar_id")
    WORK_ITEM_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_TARGET_FIELD_NUMBER: _ClassVar[int]
    WARNING_FRACTION_FIELD_NUMBER: _ClassVar[int]
    RE_ESCALATION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_type: str
    priority: _common_pb2.Priority
    resolution_target: _duration_pb2.Duration
    warning_fraction: float
    re_escalation_interval: _duration_pb2.Duration
    calendar_id: str
    def __init__(self, work_item_type: _Optional[str] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., resolution_target: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warning_fraction: _Optional[float] = ..., re_escalation_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., calendar_id: _Optional[str] = ...) -> None: ...

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

class WorkingHours(_message.Message):
    __slots__ = ("weekday", "start", "end")
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    weekday: int
    start: str
    end: str
    def __init__(self, weekday: _Optional[int] = ..., start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class HolidayRange(_message.Message):
    __slots__ = ("first", "last", "name")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    first: str
    last: str
    name: str
    def __init__(self, first: _Optional[str] = ..., last: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class BusinessCalendar(_message.Message):
    __slots__ = ("id", "timezone", "hours", "holidays")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timezone: str
    hours: _containers.RepeatedCompositeFieldContainer[WorkingHours]
    holidays: _containers.RepeatedCompositeFieldContainer[HolidayRange]
    def __init__(self, id: _Optional[str] = ..., timezone: _Optional[str] = ..., hours: _Optional[_Iterable[_Union[WorkingHours, _Mapping]]] = ..., holidays: _Optional[_Iterable[_Union[HolidayRange, _Mapping]]] = ...) -> None: ...

class SetCalendarRequest(_message.Message):
    __slots__ = ("calendar",)
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    calendar: BusinessCalendar
    def __init__(self, calendar: _Optional[_Union[BusinessCalendar, _Mapping]] = ...) -> None: ...

class SetCalendarResponse(_message.Message):
    __slots__ = ("calendar",)
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    calendar: BusinessCalendar
    def __init__(self, calendar: _Optional[_Union[BusinessCalendar, _Mapping]] = ...) -> None: ...

class ListCalendarsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCalendarsResponse(_message.Message):
    __slots__ = ("calendars",)
    CALENDARS_FIELD_NUMBER: _ClassVar[int]
    calendars: _containers.RepeatedCompositeFieldContainer[BusinessCalendar]
    def __init__(self, calendars: _Optional[_Iterable[_Union[BusinessCalendar, _Mapping]]] = ...) -> None: ...

class UnitCapacity(_message.Message):
    __slots__ = ("unit_id", "staff", "available_staff", "wip_capacity", "active_assignments", "utilisation", "queue_length")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_STAFF_FIELD_NUMBER: _ClassVar[int]
    WIP_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    staff: int
    available_staff: int
    wip_capacity: int
    active_assignments: int
    utilisation: float
    queue_length: int
    def __init__(self, unit_id: _Optional[str] = ..., staff: _Optional[int] = ..., available_staff: _Optional[int] = ..., wip_capacity: _Optional[int] = ..., active_assignments: _Optional[int] = ..., utilisation: _Optional[float] = ..., queue_length: _Optional[int] = ...) -> None: ...

class CapacitySnapshot(_message.Message):
    __slots__ = ("day", "capacity", "warnings", "breaches", "recorded_at")
    DAY_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    BREACHES_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    day: str
    capacity: UnitCapacity
    warnings: int
    breaches: int
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, day: _Optional[str] = ..., capacity: _Optional[_Union[UnitCapacity, _Mapping]] = ..., warnings: _Optional[int] = ..., breaches: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCapacityRequest(_message.Message):
    __slots__ = ("unit_id", "from_day", "to_day")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DAY_FIELD_NUMBER: _ClassVar[int]
    TO_DAY_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    from_day: str
    to_day: str
    def __init__(self, unit_id: _Optional[str] = ..., from_day: _Optional[str] = ..., to_day: _Optional[str] = ...) -> None: ...

class GetCapacityResponse(_message.Message):
    __slots__ = ("now", "snapshots", "timezone")
    NOW_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    now: _containers.RepeatedCompositeFieldContainer[UnitCapacity]
    snapshots: _containers.RepeatedCompositeFieldContainer[CapacitySnapshot]
    timezone: str
    def __init__(self, now: _Optional[_Iterable[_Union[UnitCapacity, _Mapping]]] = ..., snapshots: _Optional[_Iterable[_Union[CapacitySnapshot, _Mapping]]] = ..., timezone: _Optional[str] = ...) -> None: ...
