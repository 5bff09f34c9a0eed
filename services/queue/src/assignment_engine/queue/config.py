"""Settings of the queue service, from AE_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from assignment_engine.core.config import (
    DEFAULT_GRPC_CLIENT_TIMEOUT_S,
    CommonSettings,
    env_float,
    env_int,
    env_str,
)

DEFAULT_PORT = 50052
DEFAULT_ASSIGNER_ADDRESS = "127.0.0.1:50051"
# Wait after a capacity.freed event before draining. There is no wait by
# default: a drain starts at once, and the events that arrive while it runs
# lead to one more drain after it, so a burst of completions makes few drains.
DEFAULT_DEBOUNCE_S = 0.0
# Fallback sweep for anything an event missed (a lost event, a crash between
# acknowledging an event and draining).
DEFAULT_SWEEP_INTERVAL_S = 5.0
DEFAULT_OFFER_BATCH = 50


@dataclass(frozen=True)
class QueueSettings:
    common: CommonSettings
    port: int
    assigner_address: str
    debounce_s: float
    sweep_interval_s: float
    offer_batch: int
    assigner_timeout_s: float

    @classmethod
    def from_env(cls) -> QueueSettings:
        return cls(
            common=CommonSettings.from_env(),
            port=env_int("AE_QUEUE_PORT", DEFAULT_PORT, maximum=65535),
            assigner_address=env_str("AE_ASSIGNER_ADDRESS", DEFAULT_ASSIGNER_ADDRESS),
            debounce_s=env_float("AE_QUEUE_DEBOUNCE_S", DEFAULT_DEBOUNCE_S, maximum=60),
            sweep_interval_s=env_float(
                "AE_QUEUE_SWEEP_INTERVAL_S",
                DEFAULT_SWEEP_INTERVAL_S,
                minimum=0.05,
                maximum=3600,
            ),
            offer_batch=env_int(
                "AE_QUEUE_OFFER_BATCH", DEFAULT_OFFER_BATCH, minimum=1, maximum=500
            ),
            assigner_timeout_s=env_float(
                "AE_ASSIGNER_TIMEOUT_S",
                DEFAULT_GRPC_CLIENT_TIMEOUT_S,
                minimum=0.1,
                maximum=300,
            ),
        )
