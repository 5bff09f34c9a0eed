"""ae-bench's command line: invalid values, and when a run rewrites the docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assignment_engine.devstack.bench.__main__ import (
    _memory_view,
    kept_benchmarks,
    parse_args,
)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "'0' is invalid; expected an integer from 1 to 100"),
        (["--rounds", "101"], "'101' is invalid; expected an integer from 1 to 100"),
        (["--rounds", "x"], "'x' is invalid; expected an integer from 1 to 100"),
        (["--soak-s", "-1"], "'-1' is invalid; expected seconds from 60 to 86,400"),
        (["--soak-s", "1"], "'1' is invalid; expected seconds from 60 to 86,400"),
        (["--soak-s", "nan"], "'nan' is invalid; expected seconds from 60"),
        (
            ["--soak-rate", "0.1"],
            "'0.1' is invalid; expected submissions per second from 1 to 10,000",
        ),
        (["--only", ","], "--only names no benchmark"),
        (["--only", "nonsense"], "--only names unknown benchmarks ['nonsense']"),
        (["--keep", "/nonexistent/results.json"], "is not a file"),
        (
            ["--sizes", "500,x"],
            "'500,x' is invalid; expected integers separated by commas",
        ),
        (["--sizes", "500,-5"], "'500,-5' is invalid; expected integers separated"),
        (["--sizes", ","], "',' is invalid; expected integers separated by commas"),
        (
            ["--sizes", "500,,5000"],
            "'500,,5000' is invalid; expected integers separated",
        ),
        (["--sizes", "+500"], "'+500' is invalid; expected integers separated"),
        (["--sizes", "\u0665\u0660\u0660"], "is invalid; expected integers separated"),
        (["--sizes", "0"], "'0' is invalid; expected integers from 1 to 10,000,000"),
        (["--sizes", "99999999999"], "expected integers from 1 to 10,000,000"),
        (["--sizes", "500,500"], "'500,500' names 500 twice; expected distinct sizes"),
        (
            ["--sla-sizes", "0"],
            "'0' is invalid; expected integers from 100 to 10,000,000",
        ),
        (["--sla-sizes", "99,5000"], "expected integers from 100 to 10,000,000"),
        (["--profile", ""], "'' is invalid; expected a folder"),
        (["--output", ""], "'' is invalid; expected a file path"),
        (["--docs", " "], "' ' is invalid; expected a file path"),
    ],
)
def test_parse_args__rejects_invalid_value(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        parse_args(argv)

    assert raised.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in `tmp_path`, where the default output and docs paths point."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_parse_args__partial_run_leaves_docs_alone(in_tmp_path: Path) -> None:
    args = parse_args(["--only", "drain"])

    assert args.no_docs
    assert "--keep FILE" in args.docs_skipped
    assert args.docs == Path("docs/benchmarks.md")


def test_parse_args__quick_run_leaves_docs_alone(in_tmp_path: Path) -> None:
    args = parse_args(["--quick"])

    assert args.no_docs
    assert "a quick run rewrites it only with --docs FILE" in args.docs_skipped
    assert not parse_args(["--quick", "--docs", "page.md"]).no_docs


def test_parse_args__only_order_is_run_order(in_tmp_path: Path) -> None:
    args = parse_args(["--only", "memory,drain,sla,scale,throughput"])

    assert args.only == ["throughput", "scale", "sla", "drain", "memory"]


@pytest.mark.parametrize("option", ["--output", "--docs"])
def test_parse_args__rejects_unwritable_file(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases = [
        (str(tmp_path), "is a folder"),
        (str(blocker / "x.json"), f"cannot be written: {str(blocker)!r} is a file"),
    ]

    for path, message in cases:
        with pytest.raises(SystemExit) as raised:
            parse_args([option, path])

        assert raised.value.code == 2
        error = capsys.readouterr().err
        assert f"{option} {path!r} {message}" in error
        assert "expected a file in a folder that can be written" in error
    assert blocker.read_text() == ""


def test_parse_args__writable_check_leaves_no_file(tmp_path: Path) -> None:
    output = tmp_path / "new" / "results.json"

    args = parse_args(["--output", str(output), "--no-docs"])

    assert args.output == output
    assert not output.exists()
    assert output.parent.is_dir()


EARLIER_RESULTS = '{"started_at": "2026-12-04T10:00:00+00:00", "command": "ae-bench", "benchmarks": {}}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot be read"),
        ("[1, 2]", "has no started_at, command and benchmarks"),
        ("{}", "has no started_at, command and benchmarks"),
        ('{"started_at": "x", "command": "y", "benchmarks": []}', "has no started_at"),
        (
            '{"started_at": "x", "command": "y", "benchmarks": {"throughput": 5}}',
            "benchmark 'throughput' is not in the form this ae-bench writes",
        ),
        (
            '{"started_at": "x", "command": "y", '
            '"benchmarks": {"throughput": {"foo": 1}}}',
            "benchmark 'throughput' is not in the form this ae-bench writes",
        ),
        (
            '{"started_at": "x", "command": "y", "benchmarks": {"nonsense": {}}}',
            "benchmark 'nonsense' is not in the form",
        ),
        (
            '{"started_at": "x", "command": "y", "benchmarks": {"memory": 5}}',
            "benchmark 'memory' is not in the form",
        ),
    ],
)
def test_parse_args__rejects_invalid_keep_file(
    in_tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = in_tmp_path
    earlier = tmp_path / "earlier.json"
    earlier.write_text(content)

    with pytest.raises(SystemExit) as raised:
        parse_args(["--only", "drain", "--keep", str(earlier)])

    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_parse_args__rejects_profile_folder_it_cannot_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(SystemExit) as raised:
        parse_args(["--profile", str(blocker / "profiles")])

    assert raised.value.code == 2
    assert "cannot be created" in capsys.readouterr().err


def test_parse_args__partial_run_with_keep_rewrites_docs(in_tmp_path: Path) -> None:
    tmp_path = in_tmp_path
    earlier = tmp_path / "earlier.json"
    earlier.write_text(EARLIER_RESULTS)

    assert not parse_args(["--only", "drain", "--keep", str(earlier)]).no_docs
    assert not parse_args(["--only", "drain", "--docs", str(tmp_path / "x.md")]).no_docs


def test_parse_args__full_run_rewrites_docs(in_tmp_path: Path) -> None:
    args = parse_args([])

    assert not args.no_docs
    assert args.docs_skipped is None
    assert args.output.parent == Path("bench-results")


DRAIN_RESULTS = {
    "queue_length": 10_000,
    "single": {
        "samples": 2,
        "assigned_minus_ended": {
            "p50_ms": 8.0,
            "p95_ms": 9.0,
            "p99_ms": 9.5,
            "max_ms": 10.0,
        },
        "reply_to_visible": {"p99_ms": 12.0},
    },
    "bursts": {
        "size": 100,
        "runs": [{"completed": 100, "reassigned": 100, "all_assigned_s": 0.4}],
    },
    "targets": {"one at a time p99 < 50 ms": True},
    "peak_rss_mib": {"assigner": 82.5},
}


def test_kept_drain__accepted_and_marked_in_memory(in_tmp_path: Path) -> None:
    earlier = in_tmp_path / "earlier.json"
    earlier.write_text(
        json.dumps(
            {
                "started_at": "2026-12-04T10:00:00+00:00",
                "command": "ae-bench --only drain",
                "benchmarks": {"drain": DRAIN_RESULTS},
            }
        )
    )

    args = parse_args(["--only", "throughput", "--keep", str(earlier)])
    kept = kept_benchmarks(args.kept_results, args.only)
    memory = _memory_view(kept)

    assert list(kept) == ["drain"]
    assert list(memory["peaks"]) == ["drain (run of 2026-12-04T10:00:00+00:00)"]
