import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_CRITICAL: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_MODERATE: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]

class AssignmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSIGNMENT_STATUS_UNSPECIFIED: _ClassVar[AssignmentStatus]
    ASSIGNMENT_STATUS_ASSIGNED: _ClassVar[AssignmentStatus]
    ASSIGNMENT_STATUS_IN_PROGRESS: _ClassVar[AssignmentStatus]
    ASSIGNMENT_STATUS_ON_HOLD: _ClassVar[AssignmentStatus]
    ASSIGNMENT_STATUS_COMPLETED: _ClassVar[AssignmentStatus]
    ASSIGNMENT_STATUS_CANCELLED: _ClassVar[AssignmentStatus]

class WorkItemState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_ITEM_STATE_UNSPECIFIED: _ClassVar[WorkItemState]
    WORK_ITEM_STATE_QUEUED: _ClassVar[WorkItemState]
    WORK_ITEM_STATE_ASSIGNED: _ClassVar[WorkItemState]
    WORK_ITEM_STATE_COMPLETED: _ClassVar[WorkItemState]
    WORK_ITEM_STATE_CANCELLED: _ClassVar[WorkItemState]

class AvailabilityStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AVAILABILITY_STATUS_UNSPECIFIED: _ClassVar[AvailabilityStatus]
    AVAILABILITY_STATUS_AVAILABLE: _ClassVar[AvailabilityStatus]
    AVAILABILITY_STATUS_BUSY: _ClassVar[AvailabilityStatus]
    AVAILABILITY_STATUS_UNAVAILABLE: _ClassVar[AvailabilityStatus]
    AVAILABILITY_STATUS_ON_LEAVE: _ClassVar[AvailabilityStatus]

class AvailabilitySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AVAILABILITY_SOURCE_UNSPECIFIED: _ClassVar[AvailabilitySource]
    AVAILABILITY_SOURCE_MANUAL: _ClassVar[AvailabilitySource]
    AVAILABILITY_SOURCE_SUPERVISOR_OVERRIDE: _ClassVar[AvailabilitySource]
    AVAILABILITY_SOURCE_HR_SYSTEM: _ClassVar[AvailabilitySource]
    AVAILABILITY_SOURCE_ADMIN: _ClassVar[AvailabilitySource]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_STAFF: _ClassVar[Role]
    ROLE_SUPERVISOR: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_CRITICAL: Priority
PRIORITY_HIGH: Priority
PRIORITY_MODERATE: Priority
PRIORITY_LOW: Priority
ASSIGNMENT_STATUS_UNSPECIFIED: AssignmentStatus
ASSIGNMENT_STATUS_ASSIGNED: AssignmentStatus
ASSIGNMENT_STATUS_IN_PROGRESS: AssignmentStatus
ASSIGNMENT_STATUS_ON_HOLD: AssignmentStatus
ASSIGNMENT_STATUS_COMPLETED: AssignmentStatus
ASSIGNMENT_STATUS_CANCELLED: AssignmentStatus
WORK_ITEM_STATE_UNSPECIFIED: WorkItemState
WORK_ITEM_STATE_QUEUED: WorkItemState
WORK_ITEM_STATE_ASSIGNED: WorkItemState
WORK_ITEM_STATE_COMPLETED: WorkItemState
WORK_ITEM_STATE_CANCELLED: WorkItemState
AVAILABILITY_STATUS_UNSPECIFIED: AvailabilityStatus
AVAILABILITY_STATUS_AVAILABLE: AvailabilityStatus
AVAILABILITY_STATUS_BUSY: AvailabilityStatus
AVAILABILITY_STATUS_UNAVAILABLE: AvailabilityStatus
AVAILABILITY_STATUS_ON_LEAVE: AvailabilityStatus
AVAILABILITY_SOURCE_UNSPECIFIED: AvailabilitySource
AVAILABILITY_SOURCE_MANUAL: AvailabilitySource
AVAILABILITY_SOURCE_SUPERVISOR_OVERRIDE: AvailabilitySource
AVAILABILITY_SOURCE_HR_SYSTEM: AvailabilitySource
AVAILABILITY_SOURCE_ADMIN: AvailabilitySource
ROLE_UNSPECIFIED: Role
ROLE_STAFF: Role
ROLE_SUPERVISOR: Role
ROLE_ADMIN: Role

class Unit(_message.Message):
    __slots__ = ("id", "name", "supervisor_id", "timezone", "default_calendar_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    supervisor_id: str
    timezone: str
    default_calendar_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., supervisor_id: _Optional[str] = ..., timezone: _Optional[str] = ..., default_calendar_id: _Optional[str] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ("name", "level")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    level: int
    def __init__(self, name: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class Staff(_message.Message):
    __slots__ = ("id", "unit_id", "display_name", "role", "skills", "wip_limit", "availability", "unavailable_until", "availability_reason", "availability_source", "hr_employee_id", "escalates_to_id", "active_assignments")
    ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    WIP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_REASON_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    HR_EMPLOYEE_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATES_TO_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    unit_id: str
    display_name: str
    role: Role
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    wip_limit: int
    availability: AvailabilityStatus
    unavailable_until: _timestamp_pb2.Timestamp
    availability_reason: str
    availability_source: AvailabilitySource
    hr_employee_id: str
    escalates_to_id: str
    active_assignments: int
    def __init__(self, id: _Optional[str] = ..., unit_id: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., wip_limit: _Optional[int] = ..., availability: _Optional[_Union[AvailabilityStatus, str]] = ..., unavailable_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., availability_reason: _Optional[str] = ..., availability_source: _Optional[_Union[AvailabilitySource, str]] = ..., hr_employee_id: _Optional[str] = ..., escalates_to_id: _Optional[str] = ..., active_assignments: _Optional[int] = ...) -> None: ...

class WorkItem(_message.Message):
    __slots__ = ("id", "type", "external_id", "title", "required_skills", "target_unit_id", "priority", "received_at", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    TARGET_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    external_id: str
    title: str
    required_skills: _containers.RepeatedScalarFieldContainer[str]
    target_unit_id: str
    priority: Priority
    received_at: _timestamp_pb2.Timestamp
    state: WorkItemState
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., external_id: _Optional[str] = ..., title: _Optional[str] = ..., required_skills: _Optional[_Iterable[str]] = ..., target_unit_id: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[WorkItemState, str]] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("id", "work_item", "assignee_id", "status", "score", "assigned_at", "started_at", "ended_at", "sla_deadline")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    SLA_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    work_item: WorkItem
    assignee_id: str
    status: AssignmentStatus
    score: float
    assigned_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    sla_deadline: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., work_item: _Optional[_Union[WorkItem, _Mapping]] = ..., assignee_id: _Optional[str] = ..., status: _Optional[_Union[AssignmentStatus, str]] = ..., score: _Optional[float] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sla_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScoreBreakdown(_message.Message):
    __slots__ = ("staff_id", "skills", "capacity", "availability", "unit", "total", "matched_skills", "active_assignments", "wip_limit", "rank")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MATCHED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    WIP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    skills: float
    capacity: float
    availability: float
    unit: float
    total: float
    matched_skills: int
    active_assignments: int
    wip_limit: int
    rank: int
    def __init__(self, staff_id: _Optional[str] = ..., skills: _Optional[float] = ..., capacity: _Optional[float] = ..., availability: _Optional[float] = ..., unit: _Optional[float] = ..., total: _Optional[float] = ..., matched_skills: _Optional[int] = ..., active_assignments: _Optional[int] = ..., wip_limit: _Optional[int] = ..., rank: _Optional[int] = ...) -> None: ...
