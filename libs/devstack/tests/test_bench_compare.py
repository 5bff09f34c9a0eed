"""ae-bench --compare: the headline figures of two results files side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assignment_engine.devstack.bench.__main__ import main
from assignment_engine.devstack.bench.compare import compare


def results(
    started_at: str, engine_per_s: float, drain_p99_ms: float | None
) -> dict[str, Any]:
    benchmarks: dict[str, Any] = {
        "throughput": {
            "closed_loop": [
                {
                    "clients": 1,
                    "engine": {
                        "assignments_per_s": engine_per_s,
                        "latency": {"p99_ms": 12.0},
                    },
                    "engine_vs_reference": 0.5,
                }
            ]
        }
    }
    if drain_p99_ms is not None:
        benchmarks["drain"] = {
            "single": {"assigned_minus_ended": {"p99_ms": drain_p99_ms}},
            "bursts": {"all_assigned": {"max_ms": 400.0}},
        }
    return {"started_at": started_at, "command": "ae-bench", "benchmarks": benchmarks}


def table_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] != "figure":
            rows[cells[0]] = cells[1:]
    return rows


def test_compare__ratio_new_over_old() -> None:
    text = compare(results("T1", 200.0, 30.0), results("T2", 300.0, 15.0))

    rows = table_rows(text)
    assert text.startswith("OLD: run of T1 (`ae-bench`)\nNEW: run of T2")
    assert rows["throughput: engine /s at 1 client"] == [
        "200.0",
        "300.0",
        "1.50",
        "higher",
    ]
    assert rows["throughput: engine p99 ms at 1 client"] == [
        "12.0",
        "12.0",
        "1.00",
        "lower",
    ]
    assert rows["drain: one at a time p99 ms"] == ["30.0", "15.0", "0.50", "lower"]


def test_compare__figure_missing_from_one_run() -> None:
    rows = table_rows(compare(results("T1", 200.0, None), results("T2", 300.0, 15.0)))

    assert rows["drain: one at a time p99 ms"] == ["–", "15.0", "–", "lower"]


def test_compare__runs_without_figures() -> None:
    empty = {"started_at": "T1", "command": "ae-bench", "benchmarks": {}}

    assert compare(empty, empty).endswith("Neither run has a headline figure.")


def test_main_compare__prints_table_and_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps(results("T1", 200.0, 30.0)))
    new.write_text(json.dumps(results("T2", 100.0, 30.0)))

    status = main(["--compare", str(old), str(new)])

    rows = table_rows(capsys.readouterr().out)
    assert status == 0
    assert rows["throughput: engine /s at 1 client"] == [
        "200.0",
        "100.0",
        "0.50",
        "higher",
    ]


def test_main_compare__rejects_invalid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    old.write_text("[1]")

    with pytest.raises(SystemExit) as raised:
        main(["--compare", str(old), str(tmp_path / "missing.json")])

    assert raised.value.code == 2
    assert "--compare" in capsys.readouterr().err
