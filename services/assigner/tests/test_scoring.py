"""The score, eligibility rules and tie-break, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assignment_engine.assigner.scoring import (
    Candidate,
    Weights,
    is_eligible,
    rank,
    score,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEIGHTS = Weights()


def person(
    staff_id: str = "p1",
    *,
    unit: str = "u1",
    availability: str = "available",
    wip_limit: int = 4,
    active: int = 0,
    matched: int = 1,
    last: datetime | None = None,
) -> Candidate:
    return Candidate(staff_id, unit, availability, wip_limit, active, last, matched)


def test_score__full_marks_for_idle_available_skilled_member_of_unit() -> None:
    breakdown = score(person(matched=2), 2, "u1", WEIGHTS)

    assert breakdown.skills == 40.0
    assert breakdown.capacity == 30.0
    assert breakdown.availability == 20.0
    assert breakdown.unit == 10.0
    assert breakdown.total == 100.0


def test_score__skills_are_the_share_of_required_skills_matched() -> None:
    breakdown = score(person(matched=1), 4, None, WEIGHTS)

    assert breakdown.skills == 10.0


def test_score__no_required_skills_gives_everyone_full_skill_points() -> None:
    breakdown = score(person(matched=0), 0, None, WEIGHTS)

    assert breakdown.skills == 40.0


def test_score__capacity_falls_with_active_assignments() -> None:
    breakdown = score(person(wip_limit=4, active=3), 1, None, WEIGHTS)

    assert breakdown.capacity == pytest.approx(7.5)


def test_score__busy_gets_no_availability_points() -> None:
    breakdown = score(person(availability="busy"), 1, None, WEIGHTS)

    assert breakdown.availability == 0.0


def test_score__other_unit_gets_no_unit_points() -> None:
    breakdown = score(person(unit="u2"), 1, "u1", WEIGHTS)

    assert breakdown.unit == 0.0


def test_score__weights_are_configurable() -> None:
    weights = Weights(skills=1.0, capacity=2.0, availability=3.0, unit=4.0)

    breakdown = score(person(matched=1), 1, "u1", weights)

    assert breakdown.total == 10.0


@pytest.mark.parametrize(
    ("candidate", "required", "minimum", "expected"),
    [
        (person(), 1, 1, True),
        (person(availability="busy"), 1, 1, True),
        (person(availability="unavailable"), 1, 1, False),
        (person(availability="on_leave"), 1, 1, False),
        (person(wip_limit=0), 1, 1, False),
        (person(wip_limit=3, active=3), 1, 1, False),
        (person(wip_limit=3, active=4), 1, 1, False),
        (person(wip_limit=3, active=2), 1, 1, True),
        (person(matched=0), 2, 1, False),
        (person(matched=1), 3, 2, False),
        (person(matched=2), 3, 2, True),
        (person(matched=0), 0, 1, True),
        (person(matched=1), 1, 5, True),
    ],
    ids=[
        "available",
        "busy",
        "unavailable",
        "on_leave",
        "wip_limit_zero",
        "at_limit",
        "over_limit",
        "one_below_limit",
        "no_skill_matched",
        "below_minimum_match",
        "at_minimum_match",
        "no_skills_required",
        "minimum_capped_at_required",
    ],
)
def test_eligibility__rules(
    candidate: Candidate, required: int, minimum: int, expected: bool
) -> None:
    assert is_eligible(candidate, required, minimum) is expected


def test_rank__excludes_ineligible_people() -> None:
    people = [
        person("a", wip_limit=0),
        person("b", availability="on_leave"),
        person("c"),
    ]

    ranked = rank(people, 1, None, WEIGHTS)

    assert [c.staff_id for c, _ in ranked] == ["c"]


def test_rank__higher_score_wins() -> None:
    people = [person("a", unit="u2"), person("b", unit="u1")]

    ranked = rank(people, 1, "u1", WEIGHTS)

    assert ranked[0][0].staff_id == "b"


def test_rank__equal_score_prefers_fewer_active_assignments() -> None:
    # Same score: 1/2 of capacity used in both, but different absolute loads.
    people = [person("a", wip_limit=4, active=2), person("b", wip_limit=2, active=1)]

    ranked = rank(people, 1, None, WEIGHTS)

    assert ranked[0][0].staff_id == "b"


def test_rank__equal_score_and_load_prefers_longest_since_last_assigned() -> None:
    people = [
        person("a", last=NOW),
        person("b", last=NOW - timedelta(hours=1)),
        person("c", last=None),
    ]

    ranked = rank(people, 1, None, WEIGHTS)

    assert [c.staff_id for c, _ in ranked] == ["c", "b", "a"]


def test_rank__full_tie_breaks_by_staff_id() -> None:
    people = [person("b"), person("a"), person("c")]

    ranked = rank(people, 1, None, WEIGHTS)

    assert [c.staff_id for c, _ in ranked] == ["a", "b", "c"]


def test_rank__same_input_gives_same_order_every_time() -> None:
    people = [
        person(f"p{i:02d}", active=i % 3, last=NOW - timedelta(minutes=i % 5))
        for i in range(30)
    ]

    orders = {
        tuple(
            c.staff_id
            for c, _ in rank(
                list(reversed(people)) if i % 2 else people, 1, None, WEIGHTS
            )
        )
        for i in range(10)
    }

    assert len(orders) == 1
