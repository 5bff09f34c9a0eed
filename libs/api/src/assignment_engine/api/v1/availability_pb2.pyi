import datetime

from assignment_engine.api.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
