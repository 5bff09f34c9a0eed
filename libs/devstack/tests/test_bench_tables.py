"""Tests of the benchmark's Markdown tables and the docs section rewrite."""

from __future__ import annotations

import math

import pytest

from assignment_engine.devstack.bench.tables import (
    BEGIN_MARKER,
    END_MARKER,
    fmt,
    markdown_table,
    replace_section,
)


def test_fmt_values() -> None:
    assert fmt(1234567) == "1,234,567"
    assert fmt(1234.5678) == "1,234.6"
    assert fmt(0.25) == "0.25"
    assert fmt(12.34) == "12.3"
    assert fmt(None) == "–"
    assert fmt(math.nan) == "–"
    assert fmt(True) == "met"
    assert fmt(False) == "not met"
    assert fmt("a|b") == "a\\|b"


def test_table_aligns_numbers_right() -> None:
    table = markdown_table(["name", "rate"], [["engine", 1200.0], ["reference", 300.5]])
    assert table.splitlines() == [
        "| name | rate |",
        "|---|---:|",
        "| engine | 1,200.0 |",
        "| reference | 300.5 |",
    ]


def test_table_numeric_column_with_missing_cell() -> None:
    table = markdown_table(["n"], [[None], [2]])
    assert table.splitlines()[1] == "|---:|"
    assert table.splitlines()[2] == "| – |"


def test_table_rejects_short_row() -> None:
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        markdown_table(["a", "b"], [[1]])


def test_section_replaced_between_markers() -> None:
    document = (
        f"# Benchmarks\n\nintro\n\n{BEGIN_MARKER}\n\nold\n\n{END_MARKER}\n\nfooter\n"
    )
    updated = replace_section(document, "new tables")
    assert "old" not in updated
    assert "new tables" in updated
    assert updated.startswith("# Benchmarks\n\nintro\n\n")
    assert updated.endswith(f"{END_MARKER}\n\nfooter\n")


def test_section_appended_without_markers() -> None:
    updated = replace_section("# Benchmarks\n\nintro\n", "tables")
    assert (
        updated
        == f"# Benchmarks\n\nintro\n\n{BEGIN_MARKER}\n\ntables\n\n{END_MARKER}\n"
    )


def test_section_rewrite_is_idempotent() -> None:
    once = replace_section("# B\n", "tables")
    assert replace_section(once, "tables") == once


def scale_row(staff: int, reference_rate: float, above: float | None) -> dict:
    latency = {"p50_ms": 10.0, "p99_ms": 20.0}
    return {
        "staff": staff,
        "units": staff // 25,
        "preloaded_active": staff,
        "seeding_s": 1.0,
        "engine": {"assignments_per_s": 60.0, "latency": latency},
        "p99_growth_vs_500": 1.0,
        "reference": {"assignments_per_s": reference_rate},
        "engine_vs_reference": 60.0 / reference_rate if reference_rate else math.nan,
        "engine_vs_reference_above": above,
        "rank_and_lock": {"median_ms": 1.0},
    }


def test_scale_table__idle_reference_shows_lower_bound() -> None:
    from assignment_engine.devstack.bench.report import scale_section

    section = scale_section(
        {
            "clients": 50,
            "sizes": [scale_row(5000, 20.0, None), scale_row(50_000, 0.0, 3600.0)],
            "targets": {},
        }
    )
    rows = [line for line in section.splitlines() if line.startswith("| 5")]
    assert "| 3.00 |" in rows[0]
    assert "| > 3,600.0 |" in rows[1]


def test_scale_section__says_when_no_target_applies() -> None:
    from assignment_engine.devstack.bench.report import scale_section

    section = scale_section(
        {"clients": 50, "sizes": [scale_row(500, 20.0, None)], "targets": {}}
    )

    assert section.endswith("No target applies to the sizes of this run.")
    assert "| target | result |" not in section


def test_kept_benchmarks__keep_the_run_that_measured_them() -> None:
    from assignment_engine.devstack.bench.__main__ import kept_benchmarks

    first = {"started_at": "T1", "command": "ae-bench", "benchmarks": {"sla": {}}}
    second = {
        "started_at": "T2",
        "command": "ae-bench --only drain --keep first.json",
        "benchmarks": {"drain": {}, **kept_benchmarks(first, ["drain"])},
    }

    kept = kept_benchmarks(second, ["throughput"])

    assert kept["sla"]["from_run"] == "T1 (`ae-bench`)"
    assert kept["drain"]["from_run"] == "T2 (`ae-bench --only drain --keep first.json`)"
    assert "throughput" not in kept
