"""Resident memory and CPU time of the stack's processes, read with psutil.

`RssSampler` samples the resident set size of each service process every 0.5 s
on a thread of its own, so a busy event loop does not delay the samples.
`CpuMeter` reads the CPU time of each service, of PostgreSQL (the postmaster
and every backend), of NATS and of the benchmark process itself, so a run can
report the CPU milliseconds each component spent per assignment.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

from assignment_engine.devstack.stack import Stack

SAMPLE_INTERVAL_S = 0.5
MIB = 1024 * 1024


def listening_pid(port: int) -> int | None:
    """Return the pid of the process listening on TCP `port`, if it can be seen."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
        ):
            return connection.pid
    return None


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


@dataclass
class RssSampler:
    """Samples each service's RSS until stopped. `peaks_mib()` returns the maxima."""

    stack: Stack
    interval_s: float = SAMPLE_INTERVAL_S
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # time.monotonic() when sampling started; sample times count from it.
    started: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name="rss-sampler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        processes = {
            name: psutil.Process(service.process.pid)
            for name, service in self.stack.services.items()
        }
        while not self._stop.is_set():
            now = time.monotonic() - self.started
            for name, process in processes.items():
                try:
                    rss = process.memory_info().rss / MIB
                except psutil.Error:
                    continue
                self.samples.setdefault(name, []).append((now, rss))
            self._stop.wait(self.interval_s)

    def peaks_mib(self) -> dict[str, float]:
        return {
            name: round(max(rss for _, rss in values), 1)
            for name, values in self.samples.items()
            if values
        }


class CpuMeter:
    """CPU seconds (user + system) of each component since `start()`."""

    def __init__(self, stack: Stack) -> None:
        self.processes: dict[str, psutil.Process] = {
            name: psutil.Process(service.process.pid)
            for name, service in stack.services.items()
        }
        for name, port in (
            ("postgres", _port(stack.database_url, 5432)),
            ("nats", _port(stack.nats_url, 4222)),
        ):
            pid = listening_pid(port)
            if pid is not None:
                self.processes[name] = psutil.Process(pid)
        self.processes["bench client"] = psutil.Process(os.getpid())
        self._start: dict[str, dict[int, float]] = {}
        self._machine_start = 0.0

    def _read(self) -> dict[str, dict[int, float]]:
        """Return the CPU seconds of every process of each component, by pid."""
        totals: dict[str, dict[int, float]] = {}
        for name, process in self.processes.items():
            members = [process]
            if name == "postgres":
                try:
                    members += process.children(recursive=True)
                except psutil.Error:
                    pass
            seconds: dict[int, float] = {}
            for member in members:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                seconds[member.pid] = times.user + times.system
            totals[name] = seconds
        return totals

    def start(self) -> None:
        self._start = self._read()
        self._machine_start = machine_busy_s()

    def stop(self) -> dict[str, float]:
        """Return the CPU seconds of each component since `start()`.

        PostgreSQL backends that exited in between are not counted, so with
        short-lived connections (pgbench) this is a lower bound. The entry
        "other processes" is the machine's busy CPU time less the components',
        which shows how much else ran on the machine meanwhile.
        """
        end = self._read()
        spent = {}
        for name, processes in end.items():
            before = self._start.get(name, {})
            spent[name] = round(
                sum(
                    seconds - before.get(pid, 0.0) for pid, seconds in processes.items()
                ),
                3,
            )
        machine = machine_busy_s() - self._machine_start
        spent["other processes"] = round(max(0.0, machine - sum(spent.values())), 3)
        return spent


def machine_busy_s() -> float:
    """Return the CPU seconds all cores spent outside idle and iowait since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)
