"""Settings of the availability service, from AE_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from assignment_engine.core.config import CommonSettings, env_int

DEFAULT_PORT = 50054


@dataclass(frozen=True)
class AvailabilitySettings:
    common: CommonSettings
    port: int

    @classmethod
    def from_env(cls) -> AvailabilitySettings:
        return cls(
            common=CommonSettings.from_env(),
            port=env_int("AE_AVAILABILITY_PORT", DEFAULT_PORT, maximum=65535),
        )
