import datetime

from assignment_engine.api.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueueEntry(_message.Message):
    __slots__ = ("work_item", "position", "enqueued_at")
    WORK_ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    work_item: _common_pb2.WorkItem
    position: int
    enqueued_at: _timestamp_pb2.Timestamp
    def __init__(self, work_item: _Optional[_Union[_common_pb2.WorkItem, _Mapping]] = ..., position: _Optional[int] = ..., enqueued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListQueueRequest(_message.Message):
    __slots__ = ("unit_id", "page_size", "page_token")
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    page_size: int
    page_token: str
    def __init__(self, unit_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQueueResponse(_message.Message):
    __slots__ = ("entries", "next_page_token", "total")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[QueueEntry]
    next_page_token: str
    total: int
    def __init__(self, entries: _Optional[_Iterable[_Union[QueueEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class GetQueuePositionRequest(_message.Message):
    __slots__ = ("work_item_id",)
    WORK_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    work_item_id: str
    def __init__(self, work_item_id: _Optional[str] = ...) -> None: ...

class GetQueuePositionResponse(_message.Message):
    __slots__ = ("entry", "total")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    entry: QueueEntry
    total: int
    def __init__(self, entry: _Optional[_Union[QueueEntry, _Mapping]] = ..., total: _Optional[int] = ...) -> None: ...

class DrainQueueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DrainQueueResponse(_message.Message):
    __slots__ = ("offered", "assigned")
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    offered: int
    assigned: int
    def __init__(self, offered: _Optional[int] = ..., assigned: _Optional[int] = ...) -> None: ...
