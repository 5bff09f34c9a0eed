"""Load drivers shared by the engine and the reference algorithm.

A workload submits one item per call and completes assignments by id. The closed
loop runs a fixed number of clients back to back. The open loop starts requests
on a fixed schedule and measures each from its scheduled start, so a slow reply
does not hide the requests queued behind it. A completer runs beside either
loop and completes the oldest active assignments whenever utilisation is over
the target, which keeps the organisation near 80% of its WIP capacity.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from typing import Literal, Protocol

from assignment_engine.devstack.bench.stats import summarize_ms

logger = logging.getLogger(__name__)

Outcome = Literal["assigned", "queued", "error"]
TARGET_UTILISATION = 0.80
REFRESH_INTERVAL_S = 0.25
OLDEST_BATCH = 2000
IDLE_SLEEP_S = 0.002
# Requests an open loop keeps in flight at most. A request due beyond this is
# counted as dropped instead of started.
MAX_IN_FLIGHT = 2000
# Submissions of one closed-loop run at most, whatever its length.
MAX_REQUESTS = 2_000_000
DRAIN_TIMEOUT_S = 30.0
# The open loop runs one completer per this many submissions per second.
OPEN_LOOP_RATE_PER_COMPLETER = 5
SETTLE_TIMEOUT_S = 120.0
SETTLE_BATCH = 32
SETTLE_PAUSE_S = 0.05
MAX_ERRORS_KEPT = 5


class Workload(Protocol):
    name: str
    # Sum of the WIP limits of staff who may be assigned work.
    capacity: int

    async def submit(self) -> Outcome: ...

    async def complete(self, assignment_id: object) -> bool: ...

    async def snapshot(self, limit: int) -> tuple[int, list[object]]:
        """Return the active assignments and the ids of the `limit` oldest."""
        ...

    async def queued(self) -> int:
        """Return the number of items waiting in the queue."""
        ...

    def completer_workers(self, clients: int) -> int:
        """Return the concurrent completions that keep up with `clients` clients."""
        ...

    def errors(self) -> list[str]: ...


@dataclass
class LoadResult:
    mode: str
    clients: int
    duration_s: float
    assigned: int = 0
    queued: int = 0
    errors: int = 0
    completed: int = 0
    offered: int = 0
    dropped: int = 0
    # Assignments over the whole run and its length, warm-up included.
    total_assigned: int = 0
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    utilisation: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        samples = self.utilisation
        return {
            "mode": self.mode,
            "clients": self.clients,
            "duration_s": round(self.duration_s, 3),
            "assigned": self.assigned,
            "queued": self.queued,
            "errors": self.errors,
            "completed": self.completed,
            "offered": self.offered,
            "dropped": self.dropped,
            "total_assigned": self.total_assigned,
            "assignments_per_s": self.assigned / self.duration_s
            if self.duration_s
            else 0.0,
            "whole_run_assignments_per_s": self.total_assigned / self.wall_s
            if self.wall_s
            else 0.0,
            "replies_per_s": (self.assigned + self.queued) / self.duration_s
            if self.duration_s
            else 0.0,
            "mean_utilisation": sum(samples) / len(samples) if samples else None,
            "latency": summarize_ms(self.latencies_s),
            "error_samples": self.error_samples,
        }


class Completer:
    """Completes the oldest active assignments while utilisation is over target."""

    def __init__(self, workload: Workload, workers: int) -> None:
        self.workload = workload
        self.workers = workers
        self.estimate = 0
        self.completed = 0
        self.utilisation: list[float] = []
        self._oldest: collections.deque[object] = collections.deque()
        # Ids completed in this and the previous refresh period, because a
        # snapshot taken while their completion was in flight may list them.
        self._done: set[object] = set()
        self._done_before: set[object] = set()
        self._stop = asyncio.Event()

    def assigned(self) -> None:
        self.estimate += 1

    async def run(self) -> None:
        await self._refresh()
        tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        tasks.append(asyncio.create_task(self._refresher()))
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        self._stop.set()

    async def _refresh(self) -> None:
        active, oldest = await self.workload.snapshot(OLDEST_BATCH)
        self.estimate = active
        self.utilisation.append(active / self.workload.capacity)
        recent = self._done | self._done_before
        self._oldest = collections.deque(i for i in oldest if i not in recent)
        self._done_before, self._done = self._done, set()

    async def _refresher(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_INTERVAL_S)
            await self._refresh()

    async def _work(self) -> None:
        limit = TARGET_UTILISATION * self.workload.capacity
        while True:
            if self.estimate <= limit or not self._oldest:
                await asyncio.sleep(IDLE_SLEEP_S)
                continue
            assignment_id = self._oldest.popleft()
            self._done.add(assignment_id)
            self.estimate -= 1
            if await self.workload.complete(assignment_id):
                self.completed += 1


async def settle(workload: Workload) -> dict[str, object]:
    """Complete the oldest assignments until nothing is queued and utilisation is
    at most the target, so a run does not inherit the previous run's backlog.

    Bounded by SETTLE_TIMEOUT_S. Returns the completions made and whether it
    settled.
    """
    began = time.perf_counter()
    completed = 0
    limit = TARGET_UTILISATION * workload.capacity
    while time.perf_counter() - began < SETTLE_TIMEOUT_S:
        active, oldest = await workload.snapshot(SETTLE_BATCH)
        waiting = await workload.queued()
        if active <= limit and waiting == 0:
            return {
                "settled": True,
                "completed": completed,
                "seconds": round(time.perf_counter() - began, 1),
            }
        if not oldest:
            await asyncio.sleep(SETTLE_PAUSE_S)
            continue
        done = await asyncio.gather(*(workload.complete(i) for i in oldest))
        completed += sum(done)
        # Gives the queue service time to assign waiting items to the freed staff.
        await asyncio.sleep(SETTLE_PAUSE_S)
    return {
        "settled": False,
        "completed": completed,
        "seconds": round(time.perf_counter() - began, 1),
    }


async def closed_loop(
    workload: Workload, clients: int, duration_s: float, warmup_s: float
) -> LoadResult:
    """Run `clients` clients back to back for warm-up plus `duration_s` seconds."""
    completer = Completer(workload, workload.completer_workers(clients))
    completer_task = asyncio.create_task(completer.run())
    result = LoadResult("closed", clients, duration_s)
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s

    submitted = 0

    async def client() -> None:
        nonlocal submitted
        while submitted < MAX_REQUESTS:
            begun = time.perf_counter()
            if begun >= stop_at:
                return
            submitted += 1
            outcome = await workload.submit()
            ended = time.perf_counter()
            if outcome == "assigned":
                completer.assigned()
                result.total_assigned += 1
            # A reply counts when it arrives within the measured window, so that
            # requests longer than the warm-up (the reference algorithm at
            # 50,000 staff) count too.
            if ended < measure_from or ended > stop_at:
                continue
            _count(result, outcome, ended - begun)

    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        completer.stop()
        await completer_task
    result.wall_s = time.perf_counter() - started
    _finish(result, workload, completer)
    return result


async def open_loop(
    workload: Workload, rate: float, duration_s: float, warmup_s: float
) -> LoadResult:
    """Start `rate` requests per second for warm-up plus `duration_s` seconds."""
    completer = Completer(
        workload, workload.completer_workers(int(rate // OPEN_LOOP_RATE_PER_COMPLETER))
    )
    completer_task = asyncio.create_task(completer.run())
    result = LoadResult("open", 0, duration_s)
    in_flight: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s

    last_reply = measure_from

    async def request(scheduled: float, measured: bool) -> None:
        nonlocal last_reply
        outcome = await workload.submit()
        ended = time.perf_counter()
        if outcome == "assigned":
            completer.assigned()
            result.total_assigned += 1
        if measured:
            _count(result, outcome, ended - scheduled)
            last_reply = max(last_reply, ended)

    number = 0
    try:
        while True:
            scheduled = started + number / rate
            if scheduled >= stop_at:
                break
            number += 1
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            measured = scheduled >= measure_from
            if measured:
                result.offered += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                if measured:
                    result.dropped += 1
                continue
            task = asyncio.create_task(request(scheduled, measured))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=DRAIN_TIMEOUT_S)
    finally:
        for task in in_flight:
            task.cancel()
        completer.stop()
        await completer_task
    # The achieved rate divides the replies by the time until the last one, so
    # replies that came after the schedule ended count against it.
    result.duration_s = max(duration_s, last_reply - measure_from)
    result.wall_s = time.perf_counter() - started
    _finish(result, workload, completer)
    return result


def _count(result: LoadResult, outcome: Outcome, latency_s: float) -> None:
    if outcome == "assigned":
        result.assigned += 1
        result.latencies_s.append(latency_s)
    elif outcome == "queued":
        result.queued += 1
    else:
        result.errors += 1


def _finish(result: LoadResult, workload: Workload, completer: Completer) -> None:
    result.completed = completer.completed
    result.utilisation = completer.utilisation
    result.error_samples = workload.errors()[:MAX_ERRORS_KEPT]
