"""SLA deadlines: when a clock warns and when it breaches.

Clocks run around the clock (24x7) from the moment a work item is received, so
time waiting in the queue counts. The warning time is the received time plus the
warning fraction of the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Deadlines:
    warning_at: datetime
    deadline: datetime


def compute_deadlines(
    received_at: datetime, target: timedelta, warning_fraction: float
) -> Deadlines:
    """Return the warning time and deadline of a clock started at `received_at`."""
    if target <= timedelta(0):
        raise ValueError(f"resolution target {target} must be positive")
    if not 0.0 < warning_fraction < 1.0:
        raise ValueError(f"warning fraction {warning_fraction} must be between 0 and 1")
    return Deadlines(
        warning_at=received_at + target * warning_fraction,
        deadline=received_at + target,
    )
