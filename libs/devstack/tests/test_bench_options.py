"""ae-bench's command line: invalid values, and when a run rewrites the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assignment_engine.devstack.bench.__main__ import parse_args


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "'0' is invalid; expected a positive integer"),
        (["--rounds", "x"], "'x' is invalid; expected a positive integer"),
        (["--soak-s", "-1"], "'-1' is invalid; expected a positive number"),
        (["--soak-s", "nan"], "'nan' is invalid; expected a positive number"),
        (["--soak-rate", "0"], "'0' is invalid; expected a positive number"),
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
            "'0' is invalid; expected integers from 1 to 10,000,000",
        ),
        (["--profile", ""], "'' is invalid; expected a folder"),
    ],
)
def test_parse_args__rejects_invalid_value(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        parse_args(argv)

    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_parse_args__partial_run_leaves_docs_alone() -> None:
    args = parse_args(["--only", "drain"])

    assert args.no_docs
    assert args.partial_without_docs
    assert args.docs == Path("docs/benchmarks.md")


EARLIER_RESULTS = '{"started_at": "2026-12-04T10:00:00+00:00", "command": "ae-bench", "benchmarks": {}}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot be read"),
        ("[1, 2]", "has no started_at, command and benchmarks"),
        ("{}", "has no started_at, command and benchmarks"),
        ('{"started_at": "x", "command": "y", "benchmarks": []}', "has no started_at"),
    ],
)
def test_parse_args__rejects_invalid_keep_file(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_parse_args__partial_run_with_keep_rewrites_docs(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.json"
    earlier.write_text(EARLIER_RESULTS)

    assert not parse_args(["--only", "drain", "--keep", str(earlier)]).no_docs
    assert not parse_args(["--only", "drain", "--docs", str(tmp_path / "x.md")]).no_docs


def test_parse_args__full_run_rewrites_docs() -> None:
    args = parse_args([])

    assert not args.no_docs
    assert not args.partial_without_docs
