"""event_row: the outbox columns of an event, with its id and time filled."""

from __future__ import annotations

import time
import uuid

from assignment_engine.api.v1 import events_pb2
from assignment_engine.core import subjects
from assignment_engine.core.outbox import event_row


def test_event_row__fills_id_and_current_time() -> None:
    event = events_pb2.WorkItemReceived(work_item_id=str(uuid.uuid4()))
    before = time.time_ns()
    event_id, name, payload, headers = event_row("work_item.received", event)
    after = time.time_ns()

    assert name == "work_item.received"
    assert event.event_id == str(event_id)
    assert before <= event.occurred_at.ToNanoseconds() <= after
    assert events_pb2.WorkItemReceived.FromString(payload) == event
    assert headers[subjects.EVENT_TYPE_HEADER] == "assignment.v1.WorkItemReceived"


def test_event_row__keeps_a_given_id_and_time() -> None:
    preset_id = uuid.uuid4()
    event = events_pb2.WorkItemReceived(event_id=str(preset_id))
    event.occurred_at.FromSeconds(1_700_000_000)

    event_id, _, _, _ = event_row("work_item.received", event)

    assert event_id == preset_id
    assert event.occurred_at.seconds == 1_700_000_000
    assert event.occurred_at.nanos == 0
