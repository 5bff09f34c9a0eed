"""The engine as a benchmark workload: submits and completions over gRPC.

Submissions carry a `service` token (the intake system) and completions the
`root` admin's token, as every RPC needs a bearer token. The oldest active
assignments and the active count for the completer are read from the database.
"""

from __future__ import annotations

import itertools

import asyncpg
import grpc

from assignment_engine.api.v1 import assigner_pb2, assigner_pb2_grpc
from assignment_engine.devstack.bench.driver import Outcome
from assignment_engine.devstack.bench.org import WORK_ITEM_TYPE, ItemFactory
from assignment_engine.devstack.stack import Stack

INTAKE_SERVICE = "bench-intake"
ROOT_ADMIN = "root"
CALL_TIMEOUT_S = 30.0
TOKEN_TTL_S = 6 * 3600
CHANNELS = 4
MAX_ERRORS_KEPT = 20

ACTIVE_COUNT = "SELECT coalesce(sum(active_count), 0) FROM staff_load"
OLDEST_ACTIVE = """
SELECT id FROM assignments WHERE status = 'assigned' ORDER BY assigned_at LIMIT $1
"""
ELIGIBLE_CAPACITY = """
SELECT coalesce(sum(wip_limit), 0) FROM staff
WHERE availability IN ('available', 'busy') AND wip_limit > 0
"""


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class EngineWorkload:
    """Submits items to the assigner and completes assignments through it."""

    name = "engine"

    def __init__(
        self, stack: Stack, pool: asyncpg.Pool, factory: ItemFactory, capacity: int
    ) -> None:
        self.pool = pool
        self.factory = factory
        self.capacity = capacity
        self._channels = [
            grpc.aio.insecure_channel(stack.address("assigner"))
            for _ in range(CHANNELS)
        ]
        self._stubs = itertools.cycle(
            assigner_pb2_grpc.AssignerServiceStub(channel) for channel in self._channels
        )
        self._intake = bearer(stack.token(INTAKE_SERVICE, "service", ttl_s=TOKEN_TTL_S))
        self._admin = bearer(stack.token(ROOT_ADMIN, "admin", ttl_s=TOKEN_TTL_S))
        self._errors: list[str] = []

    @classmethod
    async def create(
        cls, stack: Stack, pool: asyncpg.Pool, factory: ItemFactory
    ) -> EngineWorkload:
        capacity = int(await pool.fetchval(ELIGIBLE_CAPACITY))
        return cls(stack, pool, factory, capacity)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()

    async def submit(self) -> Outcome:
        external_id, skills, unit, priority = self.factory.next()
        request = assigner_pb2.SubmitWorkItemRequest(
            type=WORK_ITEM_TYPE,
            external_id=external_id,
            required_skills=skills,
            target_unit_id=unit,
            priority=priority,  # type: ignore[arg-type]
        )
        try:
            reply = await next(self._stubs).SubmitWorkItem(
                request, metadata=self._intake, timeout=CALL_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as error:
            self._record(error)
            return "error"
        if reply.outcome == assigner_pb2.SUBMIT_OUTCOME_ASSIGNED:
            return "assigned"
        if reply.outcome == assigner_pb2.SUBMIT_OUTCOME_QUEUED:
            return "queued"
        return "error"

    async def complete_reply(
        self, assignment_id: object
    ) -> assigner_pb2.CompleteAssignmentResponse | None:
        """Complete an assignment and return the reply, or None when it failed."""
        try:
            return await next(self._stubs).CompleteAssignment(
                assigner_pb2.CompleteAssignmentRequest(
                    assignment_id=str(assignment_id)
                ),
                metadata=self._admin,
                timeout=CALL_TIMEOUT_S,
            )
        except grpc.aio.AioRpcError as error:
            # A completer may race another completer, and the assignment is then
            # no longer active.
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                self._record(error)
            return None

    async def complete(self, assignment_id: object) -> bool:
        return await self.complete_reply(assignment_id) is not None

    async def snapshot(self, limit: int) -> tuple[int, list[object]]:
        async with self.pool.acquire() as conn:
            active = int(await conn.fetchval(ACTIVE_COUNT))
            rows = await conn.fetch(OLDEST_ACTIVE, limit)
        return active, [row["id"] for row in rows]

    async def queued(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM queue_entries"))

    def completer_workers(self, clients: int) -> int:
        # Completions go through the same assigner as the submissions and wait
        # as long. With one completer per client they only matched the
        # submissions, and over 20 s rounds utilisation crept to 0.93 at 50
        # clients. Twice as many outpace the submissions whenever utilisation
        # is over the target, and they idle below it.
        return max(2, 2 * clients)

    def errors(self) -> list[str]:
        return list(self._errors)

    def _record(self, error: grpc.aio.AioRpcError) -> None:
        if len(self._errors) < MAX_ERRORS_KEPT:
            self._errors.append(f"{error.code().name}: {error.details()}")
