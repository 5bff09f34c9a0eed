"""Wiring of the availability process: runtime, stores, leave timer, servicer and server."""

from __future__ import annotations

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc
from assignment_engine.availability.config import AvailabilitySettings
from assignment_engine.availability.hr_events import HrEventStore
from assignment_engine.availability.leave_store import LeaveStore
from assignment_engine.availability.leave_timer import LeaveTimer
from assignment_engine.availability.server import AvailabilityServicer
from assignment_engine.availability.store import AvailabilityStore
from assignment_engine.core.grpc_server import ServiceBinding
from assignment_engine.core.runtime import ServiceRuntime

SERVICE_NAME = "availability"


async def start(
    settings: AvailabilitySettings, *, relay: bool = True
) -> ServiceRuntime:
    """Open the service's resources, start the leave timer and serve on
    `settings.port` (0 picks a port).

    With `relay=False` no outbox relay runs in this process, so events stay in
    the outbox table until a relay of another process publishes them.
    """
    runtime = ServiceRuntime(SERVICE_NAME, settings.common)
    await runtime.open(relay=relay)
    timer = LeaveTimer(runtime.pool, runtime.wake_relay)
    runtime.spawn("leave-timer", timer.run)
    servicer = AvailabilityServicer(
        AvailabilityStore(runtime.pool),
        LeaveStore(runtime.pool),
        HrEventStore(runtime.pool),
        runtime.wake_relay,
        timer.wake,
    )
    binding = ServiceBinding(
        availability_pb2.DESCRIPTOR.services_by_name["AvailabilityService"].full_name,
        availability_pb2_grpc.add_AvailabilityServiceServicer_to_server,
        servicer,
    )
    try:
        await runtime.serve([binding], settings.port)
    except BaseException:
        await runtime.close()
        raise
    return runtime
