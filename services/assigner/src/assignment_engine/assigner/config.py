"""Settings of the assigner, from AE_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from assignment_engine.assigner.scoring import (
    DEFAULT_AVAILABILITY_WEIGHT,
    DEFAULT_CAPACITY_WEIGHT,
    DEFAULT_MIN_SKILL_MATCHES,
    DEFAULT_SKILLS_WEIGHT,
    DEFAULT_UNIT_WEIGHT,
    Weights,
)
from assignment_engine.core.config import CommonSettings, env_float, env_int

DEFAULT_PORT = 50051
# Candidates fetched per decision: the winner plus runners-up for the audit, and
# spares to try when a concurrent decision holds the best ones.
DEFAULT_CANDIDATE_LIMIT = 5


@dataclass(frozen=True)
class AssignerSettings:
    common: CommonSettings
    port: int
    weights: Weights
    min_skill_matches: int
    candidate_limit: int

    @classmethod
    def from_env(cls) -> AssignerSettings:
        return cls(
            common=CommonSettings.from_env(),
            port=env_int("AE_ASSIGNER_PORT", DEFAULT_PORT, maximum=65535),
            weights=Weights(
                skills=env_float(
                    "AE_WEIGHT_SKILLS", DEFAULT_SKILLS_WEIGHT, maximum=1000
                ),
                capacity=env_float(
                    "AE_WEIGHT_CAPACITY", DEFAULT_CAPACITY_WEIGHT, maximum=1000
                ),
                availability=env_float(
                    "AE_WEIGHT_AVAILABILITY", DEFAULT_AVAILABILITY_WEIGHT, maximum=1000
                ),
                unit=env_float("AE_WEIGHT_UNIT", DEFAULT_UNIT_WEIGHT, maximum=1000),
            ),
            min_skill_matches=env_int(
                "AE_MIN_SKILL_MATCHES", DEFAULT_MIN_SKILL_MATCHES, maximum=32
            ),
            candidate_limit=env_int(
                "AE_CANDIDATE_LIMIT", DEFAULT_CANDIDATE_LIMIT, minimum=1, maximum=100
            ),
        )
