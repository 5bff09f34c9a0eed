"""Replays a work-item trace against a running engine through its gRPC API only.

Arrivals keep their spacing divided by the speed-up. Each assignment is started
at once and completed after the item's logged handling time, also compressed. A
poller picks up items that the queue assigned later, and a few staff members go
unavailable and come back while the trace runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc

from assignment_engine.api.v1 import (
    assigner_pb2,
    assigner_pb2_grpc,
    availability_pb2,
    availability_pb2_grpc,
    common_pb2,
)
from assignment_engine.devstack.replay_input import TraceItem

logger = logging.getLogger(__name__)

WORK_ITEM_TYPE = "incident"
# The client system that submits the log's incidents, as a service identity.
INTAKE_SERVICE = "incident-intake"
POLL_INTERVAL_S = 0.5
CALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class AvailabilityChange:
    at_fraction: float
    staff_id: str
    status: int
    reason: str
    # The person sets their own availability.
    role: str = "staff"


@dataclass
class ReplayStats:
    submitted: int = 0
    assigned_at_once: int = 0
    queued: int = 0
    completed: int = 0
    errors: int = 0
    submit_latencies_s: list[float] = field(default_factory=list)
    availability_changes: int = 0


class ReplayClient:
    def __init__(
        self,
        assigner: assigner_pb2_grpc.AssignerServiceStub,
        availability: availability_pb2_grpc.AvailabilityServiceStub,
        *,
        speedup: float,
        token: Callable[[str, str], str],
    ) -> None:
        self.token = token
        self.assigner = assigner
        self.availability = availability
        self.speedup = speedup
        self.stats = ReplayStats()
        self._handling_s: dict[str, float] = {}
        self._started: set[str] = set()
        self._completions: set[asyncio.Task[None]] = set()

    async def run(
        self, trace: Sequence[TraceItem], changes: Sequence[AvailabilityChange]
    ) -> None:
        """Submit every arrival on time, apply the availability changes, then return."""
        duration_s = (trace[-1].arrival_offset_s / self.speedup) if trace else 0.0
        began = time.monotonic()
        poller = asyncio.create_task(self._poll_assigned())
        changer = asyncio.create_task(self._apply_changes(changes, duration_s, began))
        submissions: set[asyncio.Task[None]] = set()
        try:
            for item in trace:
                delay = began + item.arrival_offset_s / self.speedup - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(self._submit(item))
                submissions.add(task)
                task.add_done_callback(submissions.discard)
            await asyncio.gather(*submissions)
            await changer
        finally:
            # Also on cancellation, so no task calls the engine after it stops.
            pending = [poller, changer, *submissions]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop_completing(self) -> None:
        """Cancel the pending completions, so capacity stops freeing."""
        pending = list(self._completions)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _as(self, subject: str, role: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(subject, role)}"),)

    async def _submit(self, item: TraceItem) -> None:
        request = assigner_pb2.SubmitWorkItemRequest(
            type=WORK_ITEM_TYPE,
            external_id=item.external_id,
            title=f"{item.required_skill} incident",
            required_skills=[item.required_skill],
            target_unit_id=item.target_unit_id,
            priority=item.priority,  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        try:
            response = await self.assigner.SubmitWorkItem(
                request,
                timeout=CALL_TIMEOUT_S,
                metadata=self._as(INTAKE_SERVICE, "service"),
            )
        except grpc.aio.AioRpcError as exc:
            self.stats.errors += 1
            logger.warning(
                "submit %s failed: %s %s",
                item.external_id,
                exc.code().name,
                exc.details(),
            )
            return
        self.stats.submit_latencies_s.append(time.perf_counter() - started)
        self.stats.submitted += 1
        self._handling_s[response.work_item.id] = item.handling_s
        if response.outcome == assigner_pb2.SUBMIT_OUTCOME_ASSIGNED:
            self.stats.assigned_at_once += 1
            await self._start(
                response.assignment.id,
                response.work_item.id,
                response.assignment.assignee_id,
            )
        else:
            self.stats.queued += 1

    async def _start(
        self, assignment_id: str, work_item_id: str, assignee_id: str
    ) -> None:
        if assignment_id in self._started:
            return
        self._started.add(assignment_id)
        try:
            # Each assignee starts and completes their own work, with their own token.
            await self.assigner.StartAssignment(
                assigner_pb2.StartAssignmentRequest(assignment_id=assignment_id),
                timeout=CALL_TIMEOUT_S,
                metadata=self._as(assignee_id, "staff"),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                self.stats.errors += 1
                logger.warning("start %s failed: %s", assignment_id, exc.details())
            return
        delay = self._handling_s.get(work_item_id, 0.0) / self.speedup
        task = asyncio.create_task(
            self._complete_later(assignment_id, assignee_id, delay)
        )
        self._completions.add(task)
        task.add_done_callback(self._completions.discard)

    async def _complete_later(
        self, assignment_id: str, assignee_id: str, delay_s: float
    ) -> None:
        await asyncio.sleep(delay_s)
        try:
            await self.assigner.CompleteAssignment(
                assigner_pb2.CompleteAssignmentRequest(assignment_id=assignment_id),
                timeout=CALL_TIMEOUT_S,
                metadata=self._as(assignee_id, "staff"),
            )
            self.stats.completed += 1
        except grpc.aio.AioRpcError as exc:
            self.stats.errors += 1
            logger.warning("complete %s failed: %s", assignment_id, exc.details())

    async def _poll_assigned(self) -> None:
        """Start the assignments the queue made since the last poll."""
        request = assigner_pb2.ListAssignmentsRequest(
            statuses=[common_pb2.ASSIGNMENT_STATUS_ASSIGNED], page_size=1000
        )
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            try:
                page = await self.assigner.ListAssignments(
                    request,
                    timeout=CALL_TIMEOUT_S,
                    metadata=self._as(INTAKE_SERVICE, "service"),
                )
            except grpc.aio.AioRpcError as exc:
                logger.warning("listing assignments failed: %s", exc.details())
                continue
            for assignment in page.assignments:
                await self._start(
                    assignment.id, assignment.work_item.id, assignment.assignee_id
                )

    async def _apply_changes(
        self, changes: Sequence[AvailabilityChange], duration_s: float, began: float
    ) -> None:
        for change in sorted(changes, key=lambda c: c.at_fraction):
            delay = began + change.at_fraction * duration_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.availability.SetAvailability(
                    availability_pb2.SetAvailabilityRequest(
                        staff_id=change.staff_id,
                        status=change.status,  # type: ignore[arg-type]
                        reason=change.reason,
                    ),
                    timeout=CALL_TIMEOUT_S,
                    metadata=self._as(change.staff_id, change.role),
                )
                self.stats.availability_changes += 1
            except grpc.aio.AioRpcError as exc:
                self.stats.errors += 1
                logger.warning(
                    "availability change for %s failed: %s",
                    change.staff_id,
                    exc.details(),
                )
