"""ae-bench: the Assignment Engine's benchmarks, on embedded servers on loopback.

Runs the benchmarks named by --only (all by default) one after the other, each
on a stack of its own, and prints their tables at the end. Every figure goes to
a JSON file, written after each benchmark, and the tables of a full run replace
the generated section of docs/benchmarks.md. PostgreSQL and NATS are embedded
unless AE_DATABASE_URL and AE_NATS_URL are set.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger("assignment_engine.devstack.bench")

DEFAULT_DOCS = "docs/benchmarks.md"

QUIET_LOGGERS = (
    "assignment_engine.devstack.servers",
    "assignment_engine.devstack.stack",
    "assignment_engine.devstack.testing",
    "assignment_engine.core.migrate",
    "assignment_engine.core.bootstrap",
)


def _bounded(
    kind: type[int] | type[float], noun: str, low: float, high: float
) -> Callable[[str], Any]:
    """Return an argparse type that accepts numbers of `kind` from `low` to `high`."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r} is invalid; expected {noun} from {low:,g} to {high:,g}"
            )
        return value

    return parse


# Largest size either size list accepts: staff of the scale benchmark, or
# active clocks of the SLA pass benchmark.
MAX_SIZE = 10_000_000
# Smallest SLA pass size: 1% of the clocks are due, so smaller sizes time a
# pass with nothing to claim.
MIN_SLA_SIZE = 100
SIZE_PATTERN = re.compile(r"[0-9][0-9_]*")
MAX_ROUNDS = 100
# The soak reports RSS per minute, so a shorter one has no figure to report.
MIN_SOAK_S = 60.0
MAX_SOAK_S = 86_400.0
MAX_SOAK_RATE = 10_000.0


def _size_list(minimum: int) -> Callable[[str], tuple[int, ...]]:
    """Return an argparse type for comma-separated distinct sizes from `minimum`."""

    def parse(text: str) -> tuple[int, ...]:
        parts = [part.strip() for part in text.split(",")]
        if not all(SIZE_PATTERN.fullmatch(part) for part in parts):
            raise argparse.ArgumentTypeError(
                f"{text!r} is invalid; expected integers separated by commas"
            )
        values = tuple(int(part.replace("_", "")) for part in parts)
        if min(values) < minimum or max(values) > MAX_SIZE:
            raise argparse.ArgumentTypeError(
                f"{text!r} is invalid; expected integers from {minimum:,} to {MAX_SIZE:,}"
            )
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise argparse.ArgumentTypeError(
                f"{text!r} names {repeated[0]} twice; expected distinct sizes"
            )
        return values

    return parse


def _file(text: str) -> Path:
    """Parse a file path; Path("") would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; expected a file path")
    return Path(text)


def _folder(text: str) -> Path:
    """Parse a folder path; Path("") would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; expected a folder")
    return Path(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from assignment_engine.devstack.bench.options import BENCHMARKS

    parser = argparse.ArgumentParser(prog="ae-bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter runs, scale sizes 500 and 5000, SLA sizes 5,000 and 100,000, "
        "a 60 s soak; the docs are left alone unless --docs names the file",
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run, of {','.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--sizes",
        type=_size_list(1),
        help="staff counts of the scale benchmark (default 500,5000,50000; "
        "with --quick 500,5000)",
    )
    parser.add_argument(
        "--sla-sizes",
        type=_size_list(MIN_SLA_SIZE),
        help="active clocks of the SLA pass benchmark, at least "
        f"{MIN_SLA_SIZE} (default 5000,100000,1000000; with --quick 5000,100000)",
    )
    parser.add_argument(
        "--soak-s",
        type=_bounded(float, "seconds", MIN_SOAK_S, MAX_SOAK_S),
        help="length of the memory soak in seconds (default 600; with --quick 60)",
    )
    parser.add_argument(
        "--soak-rate",
        type=_bounded(float, "submissions per second", 1, MAX_SOAK_RATE),
        help="submissions per second offered during the soak (default 200)",
    )
    parser.add_argument(
        "--rounds",
        type=_bounded(int, "an integer", 1, MAX_ROUNDS),
        help="alternating rounds of the throughput benchmark (default 2; with --quick 1)",
    )
    parser.add_argument(
        "--output",
        type=_file,
        help="JSON file for every figure (default: bench-results/<UTC timestamp>.json)",
    )
    parser.add_argument(
        "--docs",
        type=_file,
        help="Markdown file whose generated section is rewritten (default: "
        "docs/benchmarks.md, and only by a full run of every benchmark or with --keep)",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="leave the Markdown file alone"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="JSON",
        help="results file of an earlier run whose benchmarks not named by --only "
        "are copied into this run's file and tables, marked with their run",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD", "NEW"),
        help="print the headline figures of two results files side by side, with "
        "the ratio NEW ÷ OLD, and run nothing",
    )
    parser.add_argument(
        "--profile",
        type=_folder,
        metavar="DIR",
        help="run a sampling profiler in every service and write its counts under DIR",
    )
    args = parser.parse_args(argv)
    if args.compare is not None:
        args.compared = [
            _read_results(parser, "--compare", path) for path in args.compare
        ]
        return args
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(
            f"--only names unknown benchmarks {unknown}; expected some of {list(BENCHMARKS)}"
        )
    if not chosen:
        parser.error(f"--only names no benchmark; expected some of {list(BENCHMARKS)}")
    args.only = [name for name in BENCHMARKS if name in chosen]
    args.kept_results = None
    if args.keep is not None:
        args.kept_results = _read_kept_results(parser, args.keep, args.only)
    if args.profile is not None:
        try:
            args.profile.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.error(
                f"--profile {str(args.profile)!r} cannot be created ({error.strerror}); "
                "expected a folder that can be written"
            )
    # The page records full runs. A partial run without --keep would replace
    # every table with its own, and a quick run's figures are not comparable,
    # so either rewrites the docs only when --docs names the file.
    args.docs_skipped = None
    if args.docs is None and not args.no_docs:
        if len(args.only) < len(BENCHMARKS) and args.keep is None:
            args.docs_skipped = (
                "a run of some benchmarks rewrites it with --keep FILE "
                "(the others' figures) or --docs FILE"
            )
        elif args.quick:
            args.docs_skipped = "a quick run rewrites it only with --docs FILE"
    if args.docs_skipped:
        args.no_docs = True
    args.docs = args.docs or Path(DEFAULT_DOCS)
    args.output = args.output or Path("bench-results") / (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".json"
    )
    _check_writable(parser, "--output", args.output)
    if not args.no_docs:
        _check_writable(parser, "--docs", args.docs)
    return args


def _check_writable(parser: argparse.ArgumentParser, option: str, path: Path) -> None:
    """Exit naming the problem unless `path` can be written, creating its folder."""
    expected = "expected a file in a folder that can be written"
    if path.is_dir():
        parser.error(f"{option} {str(path)!r} is a folder; {expected}")
    nearest = path.parent
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    if not nearest.is_dir():
        parser.error(
            f"{option} {str(path)!r} cannot be written: {str(nearest)!r} is a file; "
            f"{expected}"
        )
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass
    except OSError as error:
        parser.error(
            f"{option} {str(path)!r} cannot be written ({error.strerror}); {expected}"
        )
    if not existed:
        path.unlink()


def _read_kept_results(
    parser: argparse.ArgumentParser, path: Path, only: Sequence[str]
) -> dict[str, Any]:
    """Return the results file that --keep names, or exit naming what is wrong.

    Each benchmark that this run keeps, one not in `only`, must render.
    """
    results = _read_results(parser, "--keep", path)
    kept = {
        name: data for name, data in results["benchmarks"].items() if name not in only
    }
    # Memory's table has a row for each benchmark, so it is checked with them all.
    checks = [(name, data) for name, data in kept.items() if name != "memory"]
    for name, data in [*checks, ("memory", kept)]:
        try:
            _render_benchmark(name, data)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            parser.error(
                f"--keep {str(path)!r}: benchmark {name!r} is not in the form this "
                f"ae-bench writes ({type(error).__name__}: {error}); "
                f"{RESULTS_EXPECTED}"
            )
    return results


RESULTS_EXPECTED = "expected a results JSON that ae-bench wrote"


def _read_results(
    parser: argparse.ArgumentParser, option: str, path: Path
) -> dict[str, Any]:
    """Return the results file at `path`, or exit naming what is wrong with it."""
    if not path.is_file():
        parser.error(f"{option} {str(path)!r} is not a file; {RESULTS_EXPECTED}")
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        parser.error(
            f"{option} {str(path)!r} cannot be read ({error}); {RESULTS_EXPECTED}"
        )
    if (
        not isinstance(results, dict)
        or not isinstance(results.get("benchmarks"), dict)
        or not isinstance(results.get("started_at"), str)
        or not isinstance(results.get("command"), str)
    ):
        parser.error(
            f"{option} {str(path)!r} has no started_at, command and benchmarks; "
            f"{RESULTS_EXPECTED}"
        )
    return results


def build_options(args: argparse.Namespace) -> Any:
    from assignment_engine.devstack.bench.options import Options

    options = Options.quick_run() if args.quick else Options()
    changes: dict[str, Any] = {}
    if args.sizes:
        changes["sizes"] = args.sizes
    if args.sla_sizes:
        changes["sla_sizes"] = args.sla_sizes
    if args.soak_s is not None:
        changes["soak_s"] = args.soak_s
    if args.soak_rate is not None:
        changes["soak_rate"] = args.soak_rate
    if args.rounds is not None:
        changes["rounds"] = args.rounds
    return dataclasses.replace(options, **changes)


def machine_info() -> dict[str, Any]:
    from assignment_engine.devstack.bench.pgbench import pgbench_binary
    from assignment_engine.devstack.servers import nats_server_binary, postgres_bin_path

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=10, check=False
            )
        except OSError as error:
            return f"unknown ({error})"
        return done.stdout.strip() or done.stderr.strip()

    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "postgres": version([str(postgres_bin_path() / "postgres"), "--version"]),
        "pgbench": version([str(pgbench_binary()), "--version"]),
        "nats": version([str(nats_server_binary()), "--version"]),
        "external_database": bool(os.environ.get("AE_DATABASE_URL")),
        "external_nats": bool(os.environ.get("AE_NATS_URL")),
    }


def _clean(value: Any) -> Any:
    """Replace NaN and infinities by None, so the file is strict JSON."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


# The benchmarks with a section of their own, in the order of the page.
SECTIONS = ("throughput", "scale", "sla", "drain")


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Run of {results['started_at']} with `{results['command']}` on {machine['cores']} "
        f"cores ({machine['cpu_model']}), {machine['memory_gib']} GiB, Python "
        f"{machine['python']}, {machine['postgres']}, {machine['nats']}; "
        f"{'quick' if results['options']['quick'] else 'full'} run, "
        f"{results.get('elapsed_s', 0):,.0f} s in all.",
    ]
    for name in SECTIONS:
        data = results["benchmarks"].get(name)
        if data is not None:
            lines.append(_render_benchmark(name, data))
    lines.append(_render_benchmark("memory", results["benchmarks"]))
    return "\n\n".join(lines)


def _render_benchmark(name: str, data: Any) -> str:
    """Return the tables of one benchmark's results.

    For "memory", `data` is every benchmark's results, since its table has a row
    for each of them.
    """
    from assignment_engine.devstack.bench import report

    if name == "memory":
        return report.memory_section(_memory_view(data))
    sections: dict[str, Callable[[dict[str, Any]], str]] = {
        "throughput": report.throughput_section,
        "scale": report.scale_section,
        "sla": report.sla_section,
        "drain": report.drain_section,
    }
    if name not in sections:
        raise ValueError(f"unknown benchmark {name!r}")
    if "error" in data:
        return f"### {name}\n\nFailed: `{data['error']}`"
    section = sections[name](data)
    load = data.get("load_average", {})
    before = load.get("before", [None])[0]
    after = load.get("after", [None])[0]
    origin = f" in the run of {data['from_run']}" if "from_run" in data else ""
    return (
        f"{section}\n\n({name} took {data.get('elapsed_s', 0):,.0f} s{origin}; "
        f"1-minute load average {before} before and {after} after.)"
    )


def _memory_view(benchmarks: dict[str, Any]) -> dict[str, Any]:
    """Collect the peak RSS rows of every benchmark, each marked with its run if kept."""

    def label(name: str, text: str) -> str:
        from_run = benchmarks[name].get("from_run")
        return f"{text} (run of {from_run.split()[0]})" if from_run else text

    peaks: dict[str, dict[str, float]] = {}
    if "peak_rss_mib" in benchmarks.get("throughput", {}):
        peaks[label("throughput", "throughput")] = benchmarks["throughput"][
            "peak_rss_mib"
        ]
    for row in benchmarks.get("scale", {}).get("sizes", []):
        peaks[label("scale", f"scale {row['staff']:,} staff")] = row["peak_rss_mib"]
    detection = benchmarks.get("sla", {}).get("detection")
    if detection:
        peaks[label("sla", "sla detection")] = detection["peak_rss_mib"]
    if "peak_rss_mib" in benchmarks.get("drain", {}):
        peaks[label("drain", "drain")] = benchmarks["drain"]["peak_rss_mib"]
    memory = benchmarks.get("memory", {})
    return {"peaks": peaks, "soak": memory if "rss" in memory else None}


def kept_benchmarks(earlier: dict[str, Any], only: Sequence[str]) -> dict[str, Any]:
    """Return the benchmarks of an earlier results file that this run skips.

    Each is marked with the run that measured it. A benchmark that the earlier
    run had itself kept from a run before it keeps that first run's mark.
    """
    kept = {}
    for name, data in earlier.get("benchmarks", {}).items():
        if name not in only:
            data.setdefault(
                "from_run", f"{earlier['started_at']} (`{earlier['command']}`)"
            )
            kept[name] = data
    return kept


async def run_all(
    args: argparse.Namespace, options: Any, output: Path
) -> dict[str, Any]:
    """Run the chosen benchmarks, writing `output` after each one.

    When a signal stops the run, `output` is written once more with the
    benchmark it stopped in as `interrupted_in`, and CancelledError propagates.
    """
    from assignment_engine.devstack.bench import drain, memory, scale, sla, throughput

    runners: dict[str, Callable[[Any], Awaitable[dict[str, Any]]]] = {
        "throughput": throughput.run,
        "scale": scale.run,
        "sla": sla.run,
        "drain": drain.run,
        "memory": memory.soak,
    }
    began = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["ae-bench", *sys.argv[1:]]),
        "machine": machine_info(),
        "options": dataclasses.asdict(options),
        "benchmarks": {},
    }
    if args.kept_results is not None:
        results["benchmarks"].update(kept_benchmarks(args.kept_results, args.only))
    for name in (n for n in runners if n in args.only):
        logger.info("benchmark %s: starting", name)
        load_before = os.getloadavg()
        started = time.perf_counter()
        try:
            results["benchmarks"][name] = await runners[name](options)
        except asyncio.CancelledError:
            results["interrupted_in"] = name
            results["elapsed_s"] = round(time.perf_counter() - began, 1)
            write_json(output, results)
            raise
        except Exception as error:
            logger.error(
                "benchmark %s failed: %s\n%s", name, error, traceback.format_exc()
            )
            results["benchmarks"][name] = {"error": f"{type(error).__name__}: {error}"}
        logger.info(
            "benchmark %s: finished in %.0f s", name, time.perf_counter() - started
        )
        # 1, 5 and 15 minute load averages: other work on the machine shows here.
        results["benchmarks"][name]["load_average"] = {
            "before": [round(value, 2) for value in load_before],
            "after": [round(value, 2) for value in os.getloadavg()],
        }
        results["elapsed_s"] = round(time.perf_counter() - began, 1)
        await asyncio.to_thread(write_json, output, results)
    return results


def measured_benchmarks(path: Path) -> list[str]:
    """Return the benchmarks that the run writing `path` measured, not kept ones."""
    try:
        benchmarks = json.loads(path.read_text())["benchmarks"]
    except (OSError, ValueError, KeyError):
        return []
    return [name for name, data in benchmarks.items() if "from_run" not in data]


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(_clean(results), indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    # gRPC reads its verbosity at import; its fork notices would fill the output.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    args = parse_args(argv)
    if args.compare is not None:
        from assignment_engine.devstack.bench.compare import compare

        print(compare(*args.compared))
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    import uvloop

    from assignment_engine.devstack.bench import session
    from assignment_engine.devstack.stack import StopSignal, cancel_on_signals

    options = build_options(args)
    if args.profile is not None:
        session.profile_root = args.profile.resolve()
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    # The signal that stopped the run, once one has.
    stop_signal = StopSignal(signal.SIGINT)

    async def run() -> dict[str, Any]:
        nonlocal stop_signal
        stop_signal = cancel_on_signals()
        return await run_all(args, options, output)

    try:
        results = uvloop.run(run())
    except (asyncio.CancelledError, KeyboardInterrupt):
        finished = measured_benchmarks(output)
        print(
            "ae-bench stopped; its servers and services were stopped. "
            + (
                f"The figures of {', '.join(finished)} are in {output}."
                if finished
                else "No benchmark finished."
            ),
            file=sys.stderr,
        )
        return stop_signal.exit_code
    text = render(_clean(results))
    print(text)
    if not args.no_docs:
        from assignment_engine.devstack.bench.tables import write_section

        write_section(args.docs, text)
        print(f"\ntables written to {args.docs}")
    elif args.docs_skipped:
        print(f"\n{args.docs} left as it is: {args.docs_skipped}")
    print(f"\nresults: {output}")
    failed = [name for name, data in results["benchmarks"].items() if "error" in data]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
