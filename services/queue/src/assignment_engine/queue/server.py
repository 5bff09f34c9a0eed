"""The QueueService servicer: validate, authorize, read the queue, convert.

Every role may read the queue. Only admins and services may drain it on demand.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from assignment_engine.api.v1 import queue_pb2, queue_pb2_grpc
from assignment_engine.core import paging, permissions, records, validation
from assignment_engine.core.errors import InvalidArgument, NotFound
from assignment_engine.core.permissions import Action
from assignment_engine.queue.drain import Drainer
from assignment_engine.queue.store import QueueKey, QueueStore

LISTING = "queue"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _entry(row: Any) -> queue_pb2.QueueEntry:
    entry = queue_pb2.QueueEntry(
        work_item=records.work_item(row), position=row["position"]
    )
    records.set_time(entry.enqueued_at, row["enqueued_at"])
    return entry


def _decode_key(token: str) -> QueueKey | None:
    key = paging.decode_token("page_token", token, LISTING, 3)
    if key is None:
        return None
    try:
        priority = int(key[0])
        if not 1 <= priority <= 4:
            raise ValueError(f"priority {priority} out of range")
        return QueueKey(
            priority,
            EPOCH + timedelta(microseconds=int(key[1])),
            uuid.UUID(str(key[2])),
        )
    except (ValueError, OverflowError):
        raise InvalidArgument(
            "page_token", token, "a page token from a previous response"
        ) from None


class QueueServicer(queue_pb2_grpc.QueueServiceServicer):
    def __init__(self, store: QueueStore, drainer: Drainer) -> None:
        self.store = store
        self.drainer = drainer

    async def ListQueue(
        self, request: queue_pb2.ListQueueRequest, context: grpc.aio.ServicerContext
    ) -> queue_pb2.ListQueueResponse:
        unit = validation.optional_id("unit_id", request.unit_id)
        limit = validation.page_size("page_size", request.page_size)
        after = _decode_key(request.page_token)

        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.READ_DIRECTORY)

        rows = await self.store.page(unit, after, limit + 1)
        response = queue_pb2.ListQueueResponse(
            entries=[_entry(row) for row in rows[:limit]],
            total=await self.store.count(unit),
        )
        if len(rows) > limit:
            last = rows[limit - 1]
            micros = (last["enqueued_at"] - EPOCH) // timedelta(microseconds=1)
            response.next_page_token = paging.encode_token(
                LISTING, [last["queue_priority"], micros, str(last["id"])]
            )
        return response

    async def GetQueuePosition(
        self,
        request: queue_pb2.GetQueuePositionRequest,
        context: grpc.aio.ServicerContext,
    ) -> queue_pb2.GetQueuePositionResponse:
        work_item_id = validation.require_uuid("work_item_id", request.work_item_id)

        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.READ_DIRECTORY)

        row = await self.store.position(work_item_id)
        if row is None:
            raise NotFound(f"work item {work_item_id} is not queued")
        return queue_pb2.GetQueuePositionResponse(
            entry=_entry(row), total=await self.store.count(None)
        )

    async def DrainQueue(
        self, request: queue_pb2.DrainQueueRequest, context: grpc.aio.ServicerContext
    ) -> queue_pb2.DrainQueueResponse:
        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.DRAIN_QUEUE)

        result = await self.drainer.drain()
        return queue_pb2.DrainQueueResponse(
            offered=result.offered, assigned=result.assigned
        )
