"""A sampling profiler that `ae-bench --profile` starts in each service process.

The benchmark puts this directory on the services' PYTHONPATH, so Python imports
this module at start-up. When AE_BENCH_PROFILE_DIR is set and the process runs an
`assignment_engine.*` module, a profiling timer (ITIMER_PROF, process CPU time)
raises SIGPROF every millisecond of CPU time. The handler counts, per function,
the samples in which it was running (self) or on the stack (cumulative). Python runs the handler in the main thread at the next bytecode,
so time spent in C code (the event loop, asyncpg's protocol, gRPC) is charged
to the Python frame that runs when it returns, and CPU time of other threads
is charged to whatever the main thread runs. The counts are written as JSON to
<dir>/<service>.json every 2,000 samples and at exit.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import signal
import sys
from types import FrameType

INTERVAL_S = 0.001
WRITE_EVERY = 2000
TOP = 80


def _key(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    marker = "site-packages/"
    if marker in path:
        path = path.split(marker, 1)[1]
    elif "/src/" in path:
        path = path.rsplit("/src/", 1)[1]
    return f"{code.co_name} ({path}:{code.co_firstlineno})"


def _start() -> None:
    directory = os.environ.get("AE_BENCH_PROFILE_DIR")
    argv = getattr(sys, "orig_argv", [])
    if not directory or "-m" not in argv:
        return
    module = argv[argv.index("-m") + 1] if argv.index("-m") + 1 < len(argv) else ""
    if not module.startswith("assignment_engine."):
        return
    output = os.path.join(directory, module.rsplit(".", 1)[-1] + ".json")
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    totals = {"samples": 0}

    def write() -> None:
        report = {
            "samples": totals["samples"],
            "interval_s": INTERVAL_S,
            "self": own.most_common(TOP),
            "cumulative": cumulative.most_common(TOP),
        }
        with open(output + ".tmp", "w") as file:
            json.dump(report, file, indent=1)
        os.replace(output + ".tmp", output)

    def sample(signum: int, frame: FrameType | None) -> None:
        if frame is None:
            return
        totals["samples"] += 1
        own[_key(frame)] += 1
        seen = set()
        current: FrameType | None = frame
        while current is not None:
            key = _key(current)
            if key not in seen:
                seen.add(key)
                cumulative[key] += 1
            current = current.f_back
        if totals["samples"] % WRITE_EVERY == 0:
            write()

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL_S, INTERVAL_S)
    atexit.register(write)


_start()
