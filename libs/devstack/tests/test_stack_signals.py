"""SIGTERM stops what a program started, as Ctrl-C does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = """
import asyncio, sys
from pathlib import Path
from assignment_engine.devstack.servers import EmbeddedNats
from assignment_engine.devstack.stack import cancel_on_sigterm

async def main() -> None:
    cancel_on_sigterm()
    server = EmbeddedNats(Path(sys.argv[1]))
    server.start()
    try:
        print(server.pid, flush=True)
        await asyncio.sleep(60)
    finally:
        server.stop()

try:
    asyncio.run(main())
except asyncio.CancelledError:
    sys.exit(143)
"""


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm__stops_the_servers_a_program_started(tmp_path: Path) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "nats")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert program.stdout is not None
        server_pid = int(program.stdout.readline())
        assert is_alive(server_pid)

        program.send_signal(signal.SIGTERM)

        assert program.wait(timeout=20) == 143
        deadline = time.monotonic() + 5
        while is_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_alive(server_pid)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
