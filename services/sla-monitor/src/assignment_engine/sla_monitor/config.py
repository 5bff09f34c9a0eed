"""Settings of the SLA monitor, from AE_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from assignment_engine.core.config import CommonSettings, env_float, env_int

DEFAULT_PORT = 50053
DEFAULT_TICK_INTERVAL_S = 0.25
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class SlaMonitorSettings:
    common: CommonSettings
    port: int
    # Maximum wait between two detection passes, in seconds. A pass runs sooner
    # when a warning or deadline falls due before then.
    tick_interval_s: float = DEFAULT_TICK_INTERVAL_S
    # Clocks claimed per transaction, for warnings and for breaches each.
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def from_env(cls) -> SlaMonitorSettings:
        return cls(
            common=CommonSettings.from_env(),
            port=env_int("AE_SLA_MONITOR_PORT", DEFAULT_PORT, maximum=65535),
            tick_interval_s=env_float(
                "AE_SLA_TICK_INTERVAL_S",
                DEFAULT_TICK_INTERVAL_S,
                minimum=0.01,
                maximum=60.0,
            ),
            batch_size=env_int(
                "AE_SLA_BATCH_SIZE", DEFAULT_BATCH_SIZE, minimum=1, maximum=10_000
            ),
        )
