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

class LeaveState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAVE_STATE_UNSPECIFIED: _ClassVar[LeaveState]
    LEAVE_STATE_SCHEDULED: _ClassVar[LeaveState]
    LEAVE_STATE_ACTIVE: _ClassVar[LeaveState]
    LEAVE_STATE_ENDED: _ClassVar[LeaveState]
    LEAVE_STATE_CANCELLED: _ClassVar[LeaveState]

class HrEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HR_EVENT_TYPE_UNSPECIFIED: _ClassVar[HrEventType]
    HR_EVENT_TYPE_LEAVE_APPROVED: _ClassVar[HrEventType]
    HR_EVENT_TYPE_LEAVE_CANCELLED: _ClassVar[HrEventType]
    HR_EVENT_TYPE_EMPLOYEE_RETURNED: _ClassVar[HrEventType]

class HrEventOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HR_EVENT_OUTCOME_UNSPECIFIED: _ClassVar[HrEventOutcome]
    HR_EVENT_OUTCOME_ACCEPTED: _ClassVar[HrEventOutcome]
    HR_EVENT_OUTCOME_STALE: _ClassVar[HrEventOutcome]
    HR_EVENT_OUTCOME_REJECTED: _ClassVar[HrEventOutcome]
LEAVE_STATE_UNSPECIFIED: LeaveState
LEAVE_STATE_SCHEDULED: LeaveState
LEAVE_STATE_ACTIVE: LeaveState
LEAVE_STATE_ENDED: LeaveState
LEAVE_STATE_CANCELLED: LeaveState
HR_EVENT_TYPE_UNSPECIFIED: HrEventType
HR_EVENT_TYPE_LEAVE_APPROVED: HrEventType
HR_EVENT_TYPE_LEAVE_CANCELLED: HrEventType
HR_EVENT_TYPE_EMPLOYEE_RETURNED: HrEventType
HR_EVENT_OUTCOME_UNSPECIFIED: HrEventOutcome
HR_EVENT_OUTCOME_ACCEPTED: HrEventOutcome
HR_EVENT_OUTCOME_STALE: HrEventOutcome
HR_EVENT_OUTCOME_REJECTED: HrEventOutcome

class UpsertUnitRequest(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: _common_pb2.Unit
    def __init__(self, unit: _Optional[_Union[_common_pb2.Unit, _Mapping]] = ...) -> None: ...

class UpsertUnitResponse(_message.Message):
    __slots__ = ("unit", "created")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    unit: _common_pb2.Unit
    created: bool
    def __init__(self, unit: _Optional[_Union[_common_pb2.Unit, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListUnitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListUnitsResponse(_message.Message):
    __slots__ = ("units",)
    UNITS_FIELD_NUMBER: _ClassVar[int]
    units: _containers.RepeatedCompositeFieldContainer[_common_pb2.Unit]
    def __init__(self, units: _Optional[_Iterable[_Union[_common_pb2.Unit, _Mapping]]] = ...) -> None: ...

class UpsertStaffRequest(_message.Message):
    __slots__ = ("staff",)
    STAFF_FIELD_NUMBER: _ClassVar[int]
    staff: _common_pb2.Staff
    def __init__(self, staff: _Optional[_Union[_common_pb2.Staff, _Mapping]] = ...) -> None: ...

class UpsertStaffResponse(_message.Message):
    __slots__ = ("staff", "created")
    STAFF_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    staff: _common_pb2.Staff
    created: bool
    def __init__(self, staff: _Optional[_Union[_common_pb2.Staff, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ImportOrganisationRequest(_message.Message):
    __slots__ = ("units", "staff")
    UNITS_FIELD_NUMBER: _ClassVar[int]
    STAFF_FIELD_NUMBER: _ClassVar[int]
    units: _containers.RepeatedCompositeFieldContainer[_common_pb2.Unit]
    staff: _containers.RepeatedCompositeFieldContainer[_common_pb2.Staff]
    def __init__(self, units: _Optional[_Iterable[_Union[_common_pb2.Unit, _Mapping]]] = ..., staff: _Optional[_Iterable[_Union[_common_pb2.Staff, _Mapping]]] = ...) -> None: ...

class ImportOrganisationResponse(_message.Message):
    __slots__ = ("units_created", "units_updated", "staff_created", "staff_updated")
    UNITS_CREATED_FIELD_NUMBER: _ClassVar[int]
    UNITS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    STAFF_CREATED_FIELD_NUMBER: _ClassVar[int]
    STAFF_UPDATED_FIELD_NUMBER: _ClassVar[int]
    units_created: int
    units_updated: int
    staff_created: int
    staff_updated: int
    def __init__(self, units_created: _Optional[int] = ..., units_updated: _Optional[int] = ..., staff_created: _Optional[int] = ..., staff_updated: _Optional[int] = ...) -> None: ...

class GetStaffRequest(_message.Message):
    __slots__ = ("staff_id",)
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    def __init__(self, staff_id: _Optional[str] = ...) -> None: ...

class GetStaffResponse(_message.Message):
    __slots__ = ("staff",)
    STAFF_FIELD_NUMBER: _ClassVar[int]
    staff: _common_pb2.Staff
    def __init__(self, staff: _Optional[_Union[_common_pb2.Staff, _Mapping]] = ...) -> None: ...

class ListStaffRequest(_message.Message):
    __slots__ = ("unit_id", "page_size", "page_token")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    page_size: int
    page_token: str
    def __init__(self, unit_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStaffResponse(_message.Message):
    __slots__ = ("staff", "next_page_token")
    STAFF_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    staff: _containers.RepeatedCompositeFieldContainer[_common_pb2.Staff]
    next_page_token: str
    def __init__(self, staff: _Optional[_Iterable[_Union[_common_pb2.Staff, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetAvailabilityRequest(_message.Message):
    __slots__ = ("staff_id", "status", "until", "reason")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    status: _common_pb2.AvailabilityStatus
    until: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, staff_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.AvailabilityStatus, str]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetAvailabilityResponse(_message.Message):
    __slots__ = ("staff",)
    STAFF_FIELD_NUMBER: _ClassVar[int]
    staff: _common_pb2.Staff
    def __init__(self, staff: _Optional[_Union[_common_pb2.Staff, _Mapping]] = ...) -> None: ...

class Leave(_message.Message):
    __slots__ = ("id", "staff_id", "starts_at", "ends_at", "reason", "state", "source", "hr_leave_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    HR_LEAVE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    staff_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    reason: str
    state: LeaveState
    source: _common_pb2.AvailabilitySource
    hr_leave_id: str
    def __init__(self, id: _Optional[str] = ..., staff_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., state: _Optional[_Union[LeaveState, str]] = ..., source: _Optional[_Union[_common_pb2.AvailabilitySource, str]] = ..., hr_leave_id: _Optional[str] = ...) -> None: ...

class ScheduleLeaveRequest(_message.Message):
    __slots__ = ("staff_id", "starts_at", "ends_at", "reason")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, staff_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ScheduleLeaveResponse(_message.Message):
    __slots__ = ("leave",)
    LEAVE_FIELD_NUMBER: _ClassVar[int]
    leave: Leave
    def __init__(self, leave: _Optional[_Union[Leave, _Mapping]] = ...) -> None: ...

class CancelLeaveRequest(_message.Message):
    __slots__ = ("leave_id",)
    LEAVE_ID_FIELD_NUMBER: _ClassVar[int]
    leave_id: str
    def __init__(self, leave_id: _Optional[str] = ...) -> None: ...

class CancelLeaveResponse(_message.Message):
    __slots__ = ("leave",)
    LEAVE_FIELD_NUMBER: _ClassVar[int]
    leave: Leave
    def __init__(self, leave: _Optional[_Union[Leave, _Mapping]] = ...) -> None: ...

class ListLeaveRequest(_message.Message):
    __slots__ = ("staff_id",)
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    def __init__(self, staff_id: _Optional[str] = ...) -> None: ...

class ListLeaveResponse(_message.Message):
    __slots__ = ("leave",)
    LEAVE_FIELD_NUMBER: _ClassVar[int]
    leave: _containers.RepeatedCompositeFieldContainer[Leave]
    def __init__(self, leave: _Optional[_Iterable[_Union[Leave, _Mapping]]] = ...) -> None: ...

class RecordHrEventRequest(_message.Message):
    __slots__ = ("delivery_id", "type", "employee_id", "leave_id", "starts_at", "ends_at", "reason", "event_time", "version")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EMPLOYEE_ID_FIELD_NUMBER: _ClassVar[int]
    LEAVE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    type: HrEventType
    employee_id: str
    leave_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    reason: str
    event_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, delivery_id: _Optional[str] = ..., type: _Optional[_Union[HrEventType, str]] = ..., employee_id: _Optional[str] = ..., leave_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class RecordHrEventResponse(_message.Message):
    __slots__ = ("outcome", "reason", "repeated", "leave")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REPEATED_FIELD_NUMBER: _ClassVar[int]
    LEAVE_FIELD_NUMBER: _ClassVar[int]
    outcome: HrEventOutcome
    reason: str
    repeated: bool
    leave: Leave
    def __init__(self, outcome: _Optional[_Union[HrEventOutcome, str]] = ..., reason: _Optional[str] = ..., repeated: _Optional[bool] = ..., leave: _Optional[_Union[Leave, _Mapping]] = ...) -> None: ...
