"""Tests of the parsing of pgbench's summary and per-transaction log."""

from __future__ import annotations

import pytest

from assignment_engine.devstack.bench.pgbench import (
    connection_args,
    parse_summary,
    parse_transaction_log,
)

# Summary in the format pgbench 18.6 prints with --time, --client=10 and --jobs=2.
SUMMARY = """\
pgbench (18.6)
transaction type: /tmp/ae-pgbench-x/assign.sql
scaling factor: 1
query mode: prepared
number of clients: 10
number of threads: 2
maximum number of tries: 1
duration: 4 s
number of transactions actually processed: 43869
number of failed transactions: 0 (0.000%)
latency average = 0.911 ms
initial connection time = 14.262 ms
tps = 10976.145810 (without initial connection time)
"""


def test_summary_figures() -> None:
    tps, latency, processed, failed = parse_summary(SUMMARY)
    assert tps == pytest.approx(10976.14581)
    assert latency == pytest.approx(0.911)
    assert processed == 43869
    assert failed == 0


def test_summary_without_tps_line() -> None:
    with pytest.raises(ValueError, match="no tps or latency line"):
        parse_summary("pgbench (18.6)\nconnection to server failed\n")


def test_transaction_log_latencies() -> None:
    log = "0 1 812 0 1764850000 123456\n3 2 1500 0 1764850000 223456\n"
    assert parse_transaction_log(log) == [0.000812, 0.0015]


def test_transaction_log_adds_schedule_lag() -> None:
    # With --rate a seventh field holds the schedule lag in microseconds.
    log = "0 1 800 0 1764850000 123456 200\n"
    assert parse_transaction_log(log) == [0.001]


def test_transaction_log_skips_failed_and_skipped() -> None:
    log = "0 1 failed 0 1764850000 123456\n0 2 skipped 0 1764850000 1\n\n"
    assert parse_transaction_log(log) == []


def test_connection_args_from_url() -> None:
    args, env = connection_args("postgresql://bench:s%40cret@127.0.0.1:6543/ae_run_1")
    assert args == ["-h", "127.0.0.1", "-p", "6543", "-U", "bench", "ae_run_1"]
    assert env["PGPASSWORD"] == "s@cret"


def test_connection_args_defaults() -> None:
    args, _ = connection_args("postgresql://127.0.0.1/ae")
    assert args == ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "ae"]
