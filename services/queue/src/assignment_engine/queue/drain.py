"""The drain: offer waiting items to the assigner in queue order.

A drain walks the queue from the front in pages and offers each page to the
assigner, which assigns what it can and leaves the rest queued, so an item nobody
can take never blocks the items behind it. The walk stops at the end of the
queue or as soon as the assigner reports that no eligible person has room.
Drains are requested by capacity.freed events (after a short debounce) and by a
periodic sweep; requests that arrive during a drain lead to one more drain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import asyncpg
import grpc
from nats.aio.msg import Msg
from opentelemetry import context
from opentelemetry.context import Context

from assignment_engine.api.v1 import assigner_pb2, assigner_pb2_grpc
from assignment_engine.core import logs, telemetry
from assignment_engine.core.db import CONNECTION_ERRORS
from assignment_engine.core.errors import Unavailable
from assignment_engine.queue.store import QueueStore

logger = logging.getLogger(__name__)
tracer = telemetry.tracer(__name__)


@dataclass(frozen=True)
class DrainResult:
    offered: int
    assigned: int


class Drainer:
    def __init__(
        self,
        store: QueueStore,
        assigner: assigner_pb2_grpc.AssignerServiceStub,
        *,
        debounce_s: float,
        sweep_interval_s: float,
        offer_batch: int,
        assigner_timeout_s: float,
    ) -> None:
        self.store = store
        self.assigner = assigner
        self.debounce_s = debounce_s
        self.sweep_interval_s = sweep_interval_s
        self.offer_batch = offer_batch
        self.assigner_timeout_s = assigner_timeout_s
        self._requested = asyncio.Event()
        self._request_context: Context | None = None
        self._lock = asyncio.Lock()

    def request(self) -> None:
        """Ask for a drain soon; many requests before it starts make one drain.

        The drain's span becomes a child of the first request's trace (the
        capacity.freed event's, when an event asked), so one trace shows a
        completion through to the next queued item's assignment.
        """
        if not self._requested.is_set():
            self._request_context = context.get_current()
        self._requested.set()

    async def on_capacity_freed(self, message: Msg) -> None:
        self.request()

    async def run_requested(self) -> None:
        """Drain whenever requested, after the debounce."""
        while True:
            await self._requested.wait()
            if self.debounce_s > 0:
                await asyncio.sleep(self.debounce_s)
            self._requested.clear()
            parent, self._request_context = self._request_context, None
            try:
                with tracer.start_as_current_span("drain queue", context=parent):
                    await self.drain()
            except Unavailable as exc:
                logger.warning(
                    "drain stopped: %s; the sweep retries",
                    exc,
                    extra=logs.fields(event="drain_failed"),
                )

    async def run_sweep(self) -> None:
        """Request a drain periodically while items wait and someone has room."""
        while True:
            await asyncio.sleep(self.sweep_interval_s)
            try:
                worthwhile = await self.store.drain_worthwhile()
            except (asyncpg.PostgresError, *CONNECTION_ERRORS) as exc:
                logger.warning(
                    "queue sweep cannot read the queue: %s",
                    exc,
                    extra=logs.fields(event="sweep_failed"),
                )
                continue
            if worthwhile:
                self.request()

    async def drain(self) -> DrainResult:
        """Offer the whole queue, front first, until nobody eligible has room."""
        async with self._lock:
            started = time.perf_counter()
            offered = assigned = 0
            after = None
            while True:
                keys = await self.store.next_ids(after, self.offer_batch)
                if not keys:
                    break
                request = assigner_pb2.OfferQueuedItemsRequest(
                    work_item_ids=[str(key.work_item_id) for key in keys]
                )
                try:
                    response = await self.assigner.OfferQueuedItems(
                        request, timeout=self.assigner_timeout_s
                    )
                except grpc.aio.AioRpcError as exc:
                    raise Unavailable(
                        f"offering queued items to the assigner failed: {exc.code().name} {exc.details()}"
                    ) from exc
                offered += len(keys)
                assigned += sum(
                    1
                    for r in response.results
                    if r.outcome == assigner_pb2.OFFER_OUTCOME_ASSIGNED
                )
                if not response.capacity_remaining:
                    break
                after = keys[-1]
            if assigned:
                logger.info(
                    "drain assigned %d of %d offered items in %.1f ms",
                    assigned,
                    offered,
                    (time.perf_counter() - started) * 1000,
                    extra=logs.fields(
                        event="queue_drained", offered=offered, assigned=assigned
                    ),
                )
            return DrainResult(offered, assigned)
