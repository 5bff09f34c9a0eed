"""The assignment score and eligibility rules, and the deterministic tie-break.

The ranking statement in `store.sql` computes the same score in SQL with the same
operations in the same order, so both give bit-identical doubles; this module is
the reference and produces the breakdown recorded in every decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ELIGIBLE_AVAILABILITY = ("available", "busy")

DEFAULT_SKILLS_WEIGHT = 40.0
DEFAULT_CAPACITY_WEIGHT = 30.0
DEFAULT_AVAILABILITY_WEIGHT = 20.0
DEFAULT_UNIT_WEIGHT = 10.0
# At least this many of the required skills (capped at the number required).
DEFAULT_MIN_SKILL_MATCHES = 1


@dataclass(frozen=True)
class Weights:
    skills: float = DEFAULT_SKILLS_WEIGHT
    capacity: float = DEFAULT_CAPACITY_WEIGHT
    availability: float = DEFAULT_AVAILABILITY_WEIGHT
    unit: float = DEFAULT_UNIT_WEIGHT


@dataclass(frozen=True)
class Candidate:
    """What the score depends on, for one person and one work item."""

    staff_id: str
    unit_id: str
    availability: str
    wip_limit: int
    active_count: int
    last_assigned_at: datetime | None
    matched_skills: int


@dataclass(frozen=True)
class Breakdown:
    staff_id: str
    skills: float
    capacity: float
    availability: float
    unit: float
    total: float
    matched_skills: int
    active_count: int
    wip_limit: int

    def as_json(self, rank: int) -> dict[str, object]:
        return {
            "staff_id": self.staff_id,
            "skills": self.skills,
            "capacity": self.capacity,
            "availability": self.availability,
            "unit": self.unit,
            "total": self.total,
            "matched_skills": self.matched_skills,
            "active_assignments": self.active_count,
            "wip_limit": self.wip_limit,
            "rank": rank,
        }


def required_matches(required_skills: int, min_skill_matches: int) -> int:
    return min(min_skill_matches, required_skills)


def is_eligible(
    candidate: Candidate, required_skills: int, min_skill_matches: int
) -> bool:
    """Eligible: available or busy, room under a positive WIP limit, enough skills."""
    return (
        candidate.availability in ELIGIBLE_AVAILABILITY
        and candidate.wip_limit > 0
        and candidate.active_count < candidate.wip_limit
        and candidate.matched_skills
        >= required_matches(required_skills, min_skill_matches)
    )


def score(
    candidate: Candidate,
    required_skills: int,
    target_unit_id: str | None,
    weights: Weights,
) -> Breakdown:
    """Score a candidate for an item.

    An item with no required skills gives full skill points. A candidate without
    room (at or over their WIP limit, or with a limit of 0) gets no capacity
    points, which is how a reassignment past the limit scores them.
    """
    skill_share = (
        1.0 if required_skills == 0 else candidate.matched_skills / required_skills
    )
    skills = skill_share * weights.skills
    if candidate.active_count < candidate.wip_limit:
        capacity = (
            1.0 - candidate.active_count / candidate.wip_limit
        ) * weights.capacity
    else:
        capacity = 0.0
    availability = (
        weights.availability if candidate.availability == "available" else 0.0
    )
    unit = (
        weights.unit
        if target_unit_id is not None and candidate.unit_id == target_unit_id
        else 0.0
    )
    return Breakdown(
        staff_id=candidate.staff_id,
        skills=skills,
        capacity=capacity,
        availability=availability,
        unit=unit,
        total=skills + capacity + availability + unit,
        matched_skills=candidate.matched_skills,
        active_count=candidate.active_count,
        wip_limit=candidate.wip_limit,
    )


def rank_key(
    breakdown: Breakdown, last_assigned_at: datetime | None
) -> tuple[object, ...]:
    """Sort key: higher score, fewer active, longest since last assigned, then id."""
    never = last_assigned_at is None
    return (
        -breakdown.total,
        breakdown.active_count,
        not never,
        last_assigned_at.timestamp() if last_assigned_at is not None else 0.0,
        breakdown.staff_id,
    )


def rank(
    candidates: list[Candidate],
    required_skills: int,
    target_unit_id: str | None,
    weights: Weights,
    min_skill_matches: int = DEFAULT_MIN_SKILL_MATCHES,
) -> list[tuple[Candidate, Breakdown]]:
    """Return the eligible candidates with their breakdowns, best first."""
    scored = [
        (candidate, score(candidate, required_skills, target_unit_id, weights))
        for candidate in candidates
        if is_eligible(candidate, required_skills, min_skill_matches)
    ]
    scored.sort(key=lambda pair: rank_key(pair[1], pair[0].last_assigned_at))
    return scored
