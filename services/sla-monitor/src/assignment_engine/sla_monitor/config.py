"""Settings of the SLA monitor, from AE_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from assignment_engine.core.config import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_str,
)
from assignment_engine.sla_monitor.zones import ZONE_EXPECTED, is_iana_zone

DEFAULT_PORT = 50053
DEFAULT_TICK_INTERVAL_S = 0.25
DEFAULT_BATCH_SIZE = 500
DEFAULT_ORG_TIMEZONE = "Asia/Riyadh"
DEFAULT_MAX_ESCALATION_LEVEL = 3
MAX_ESCALATION_LEVEL_LIMIT = 20
DEFAULT_RETENTION_DAYS = 90
DEFAULT_RETENTION_BATCH = 1000
DEFAULT_RETENTION_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class SlaMonitorSettings:
    common: CommonSettings
    port: int
    # Maximum wait between two detection passes, in seconds. A pass runs sooner
    # when a warning, deadline or re-escalation falls due before then.
    tick_interval_s: float = DEFAULT_TICK_INTERVAL_S
    # Clocks claimed per transaction, for warnings and for breaches each, and
    # escalations claimed per transaction for re-escalation.
    batch_size: int = DEFAULT_BATCH_SIZE
    # IANA zone in which capacity snapshot days begin and end.
    org_timezone: str = DEFAULT_ORG_TIMEZONE
    # Highest level an unacknowledged escalation climbs to; 1 disables climbing.
    max_escalation_level: int = DEFAULT_MAX_ESCALATION_LEVEL
    # Completed and cancelled assignments that ended more than this many days
    # ago are purged.
    retention_days: int = DEFAULT_RETENTION_DAYS
    # Assignments deleted per purge transaction.
    retention_batch: int = DEFAULT_RETENTION_BATCH
    # Seconds between two retention runs.
    retention_interval_s: float = DEFAULT_RETENTION_INTERVAL_S

    def __post_init__(self) -> None:
        if not is_iana_zone(self.org_timezone):
            raise ConfigError(
                f"AE_ORG_TIMEZONE={self.org_timezone!r} is invalid; expected "
                f"{ZONE_EXPECTED}"
            )

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
            org_timezone=env_str("AE_ORG_TIMEZONE", DEFAULT_ORG_TIMEZONE),
            max_escalation_level=env_int(
                "AE_SLA_MAX_ESCALATION_LEVEL",
                DEFAULT_MAX_ESCALATION_LEVEL,
                minimum=1,
                maximum=MAX_ESCALATION_LEVEL_LIMIT,
            ),
            retention_days=env_int(
                "AE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1, maximum=36_500
            ),
            retention_batch=env_int(
                "AE_RETENTION_BATCH",
                DEFAULT_RETENTION_BATCH,
                minimum=1,
                maximum=100_000,
            ),
            retention_interval_s=env_float(
                "AE_RETENTION_INTERVAL_S",
                DEFAULT_RETENTION_INTERVAL_S,
                minimum=1.0,
                maximum=7 * 24 * 3600.0,
            ),
        )
