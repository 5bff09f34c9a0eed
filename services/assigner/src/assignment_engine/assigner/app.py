"""Wiring of the assigner process: runtime, store, servicer and server."""

from __future__ import annotations

from assignment_engine.api.v1 import assigner_pb2, assigner_pb2_grpc
from assignment_engine.assigner.config import AssignerSettings
from assignment_engine.assigner.server import AssignerServicer
from assignment_engine.assigner.store import AssignerStore
from assignment_engine.core.grpc_server import ServiceBinding
from assignment_engine.core.runtime import ServiceRuntime

SERVICE_NAME = "assigner"


async def start(settings: AssignerSettings) -> ServiceRuntime:
    """Open the assigner's resources and serve on `settings.port` (0 picks a port)."""
    runtime = ServiceRuntime(SERVICE_NAME, settings.common)
    await runtime.open()
    store = AssignerStore(runtime.pool, settings)
    servicer = AssignerServicer(store, runtime.wake_relay)
    binding = ServiceBinding(
        assigner_pb2.DESCRIPTOR.services_by_name["AssignerService"].full_name,
        assigner_pb2_grpc.add_AssignerServiceServicer_to_server,
        servicer,
    )
    await runtime.serve([binding], settings.port)
    return runtime
