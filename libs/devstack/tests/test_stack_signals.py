"""SIGTERM and Ctrl-C stop what a program started, even when a second signal arrives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assignment_engine.devstack.stack import Stack

# Prints the NATS server's pid, waits for SIGTERM or SIGINT, then prints
# "stopping" and takes a second before it stops the server, so that a test can
# signal again while the program cleans up. Exits with the signal's exit code.
PROGRAM = """
import asyncio, sys
from pathlib import Path
from assignment_engine.devstack.servers import EmbeddedNats
from assignment_engine.devstack.stack import StopSignal, cancel_on_signals

stop = StopSignal()

async def main() -> None:
    global stop
    stop = cancel_on_signals()
    server = EmbeddedNats(Path(sys.argv[1]))
    server.start()
    try:
        print(server.pid, flush=True)
        await asyncio.sleep(60)
    finally:
        print("stopping", flush=True)
        await asyncio.sleep(1)
        server.stop()

try:
    asyncio.run(main())
except (asyncio.CancelledError, KeyboardInterrupt):
    sys.exit(stop.exit_code)
"""


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until_gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not is_alive(pid)


def kill_if_alive(pid: int | None) -> None:
    if pid is not None and is_alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("signals", "exit_code"),
    [
        pytest.param([signal.SIGTERM], 143, id="SIGTERM"),
        pytest.param([signal.SIGINT], 130, id="SIGINT"),
        pytest.param([signal.SIGTERM, signal.SIGTERM], 143, id="two SIGTERMs"),
        pytest.param([signal.SIGINT, signal.SIGINT], 130, id="two SIGINTs"),
        pytest.param([signal.SIGTERM, signal.SIGINT], 143, id="SIGTERM then SIGINT"),
    ],
)
def test_signals__stop_started_servers(
    tmp_path: Path, signals: list[signal.Signals], exit_code: int
) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "nats")],
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid = None
    try:
        assert program.stdout is not None
        server_pid = int(program.stdout.readline())
        assert is_alive(server_pid)

        program.send_signal(signals[0])
        assert program.stdout.readline() == "stopping\n"
        for repeated in signals[1:]:
            program.send_signal(repeated)

        assert program.wait(timeout=20) == exit_code
        assert wait_until_gone(server_pid)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
        kill_if_alive(server_pid)


async def test_stack_stop__cancelled_drop_still_stops_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AE_DATABASE_URL", raising=False)
    monkeypatch.delenv("AE_NATS_URL", raising=False)
    stack = Stack.create()
    stack._start_servers()
    assert stack._postgres is not None and stack._nats is not None
    pids = [stack._postgres.pid, stack._nats.pid]
    assert all(pid is not None and is_alive(pid) for pid in pids)
    stack._database = "ae_run_never_created"

    try:
        stopping = asyncio.create_task(stack.stop())
        # Let stop() reach its first await, the connection that drops the database.
        await asyncio.sleep(0)
        stopping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stopping

        assert all(wait_until_gone(pid) for pid in pids if pid is not None)
        assert not stack.work_dir.exists()
    finally:
        for pid in pids:
            kill_if_alive(pid)
