"""Tests of the benchmark's pure helpers: organisations, reference scoring, RSS."""

from __future__ import annotations

import pytest

from assignment_engine.devstack.bench.activity import statement_start
from assignment_engine.devstack.bench.drain import Rotation
from assignment_engine.devstack.bench.memory import rss_timeline
from assignment_engine.devstack.bench.org import (
    ELIGIBLE,
    OrgSpec,
    build_staff,
    eligible_capacity,
)
from assignment_engine.devstack.bench.reference import score_staff


def staff_row(staff_id: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": staff_id,
        "unit_id": "u1",
        "skills": ["a"],
        "wip_limit": 4,
        "availability": "available",
        "version": 0,
        "count": 0,
    }
    row.update(fields)
    return row


def test_reference_score_weights() -> None:
    rows = [staff_row("s1", skills=["a", "b"], count=1, unit_id="u2")]
    [scored] = score_staff(rows, ["a", "c"], "u2")
    # skills 1/2 x 40, capacity (1 - 1/4) x 30, available 20, unit 10.
    assert scored.score == pytest.approx(20 + 22.5 + 20 + 10)


def test_reference_disqualifies_unavailable_and_full() -> None:
    rows = [
        staff_row("away", availability="unavailable"),
        staff_row("full", count=4),
        staff_row("ok", availability="busy"),
    ]
    assert [s.staff_id for s in score_staff(rows, ["a"], None)] == ["ok"]


def test_reference_sorts_best_first_stably() -> None:
    rows = [staff_row("s1"), staff_row("s2", skills=["b"]), staff_row("s3")]
    assert [s.staff_id for s in score_staff(rows, ["a"], None)] == ["s1", "s3", "s2"]


def test_reference_full_marks_without_required_skills() -> None:
    [scored] = score_staff([staff_row("s1", skills=[])], [], None)
    assert scored.score == pytest.approx(40 + 30 + 20)


def test_build_staff_is_deterministic() -> None:
    spec = OrgSpec(staff=50, units=5, utilisation=0.5)
    assert build_staff(spec) == build_staff(spec)


def test_build_staff_shape() -> None:
    rows = build_staff(OrgSpec(staff=200, units=20))
    assert len({row.id for row in rows}) == 200
    assert len({row.unit_id for row in rows}) == 20
    assert all(len(set(row.skills)) == 5 for row in rows)
    assert all(3 <= row.wip_limit <= 8 for row in rows)
    assert all(row.active == 0 for row in rows)


def test_preload_total_is_exact_and_within_limits() -> None:
    spec = OrgSpec(staff=300, units=10, wip_min=5, wip_max=9, preload_total=1234)
    rows = build_staff(spec)
    assert sum(row.active for row in rows) == 1234
    assert all(row.active <= row.wip_limit for row in rows)
    assert all(row.active == 0 for row in rows if row.availability not in ELIGIBLE)


def test_preload_total_over_capacity_rejected() -> None:
    spec = OrgSpec(staff=10, units=1, wip_min=1, wip_max=1)
    capacity = eligible_capacity(build_staff(spec))
    over = OrgSpec(staff=10, units=1, wip_min=1, wip_max=1, preload_total=capacity + 1)
    with pytest.raises(ValueError, match="exceed the WIP capacity"):
        build_staff(over)


def test_rotation_hands_out_distinct_people() -> None:
    rows = [
        {"id": 1, "assignee_id": "a"},
        {"id": 2, "assignee_id": "a"},
        {"id": 3, "assignee_id": "b"},
    ]
    rotation = Rotation(rows)  # type: ignore[arg-type]
    assert rotation.take(2) == [(1, "a"), (3, "b")]
    assert rotation.take(2) == [(2, "a")]
    assert rotation.take(1) == []


def test_rss_timeline_minutes_and_slope() -> None:
    samples = [(10.0 + t, 100.0 + t / 60) for t in range(0, 181, 30)]
    timeline = rss_timeline(samples, start_s=10.0, duration_s=180.0)
    assert timeline["start_mib"] == 100.0
    assert timeline["end_mib"] == 103.0
    assert timeline["per_minute_mib"] == [101.0, 102.0, 103.0]
    assert timeline["slope_mib_per_min"] == pytest.approx(1.0)


def test_rss_timeline_flags_growth() -> None:
    samples = [(float(t), 100.0 + 2 * t / 60) for t in range(0, 241, 30)]
    assert rss_timeline(samples, 0.0, 240.0)["growth_flagged"] is True
    flat = [(float(t), 100.0) for t in range(0, 241, 30)]
    assert rss_timeline(flat, 0.0, 240.0)["growth_flagged"] is False


def test_rss_timeline_without_samples() -> None:
    assert rss_timeline([], 0.0, 60.0)["start_mib"] is None


def test_statement_start_drops_comments() -> None:
    query = "-- name: x\n-- Lock a row.\nSELECT 1\nFROM t"
    assert statement_start(query) == "SELECT 1 FROM t"
    assert statement_start("SELECT 123456", length=8) == "SELECT 1"
