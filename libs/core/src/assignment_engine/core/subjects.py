"""Every NATS protocol string of the engine: subjects, stream, consumers, headers.

Subjects are `<prefix>.<name>`; the prefix comes from AE_SUBJECT_PREFIX so test runs
and environments sharing one NATS server never see each other's events.
"""

from __future__ import annotations

CAPACITY_FREED = "capacity.freed"
WORK_ITEM_RECEIVED = "work_item.received"
WORK_ITEM_QUEUED = "work_item.queued"
ASSIGNMENT_ASSIGNED = "assignment.assigned"
ASSIGNMENT_STARTED = "assignment.started"
ASSIGNMENT_COMPLETED = "assignment.completed"
ASSIGNMENT_CANCELLED = "assignment.cancelled"
ASSIGNMENT_REASSIGNED = "assignment.reassigned"
ASSIGNMENT_HELD = "assignment.held"
ASSIGNMENT_RESUMED = "assignment.resumed"
SLA_WARNING = "sla.warning"
SLA_BREACHED = "sla.breached"
AVAILABILITY_CHANGED = "staff.availability_changed"

# Durable consumer through which the queue service learns that capacity freed.
QUEUE_DRAIN_CONSUMER = "queue-drain"
# Durable consumer through which the SLA monitor learns of new deadlines.
SLA_INTAKE_CONSUMER = "sla-intake"

# JetStream drops a message whose id it saw within the duplicate window.
MSG_ID_HEADER = "Nats-Msg-Id"
EVENT_TYPE_HEADER = "Ae-Event-Type"
STREAM_DUPLICATE_WINDOW_S = 120.0


def subject(prefix: str, name: str) -> str:
    return f"{prefix}.{name}"


def stream_name(prefix: str) -> str:
    """Name of the stream that holds every subject under `prefix`."""
    return f"{prefix.upper().replace('-', '_')}_EVENTS"


def consumer_name(prefix: str, consumer: str) -> str:
    return f"{prefix}-{consumer}"
