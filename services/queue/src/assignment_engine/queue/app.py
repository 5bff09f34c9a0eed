"""Wiring of the queue process: runtime, assigner client, drain loops, server."""

from __future__ import annotations

from assignment_engine.api.v1 import assigner_pb2_grpc, queue_pb2, queue_pb2_grpc
from assignment_engine.core import jetstream, subjects
from assignment_engine.core.grpc_server import ServiceBinding
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.queue.config import QueueSettings
from assignment_engine.queue.drain import Drainer
from assignment_engine.queue.server import QueueServicer
from assignment_engine.queue.store import QueueStore

SERVICE_NAME = "queue"


async def start(settings: QueueSettings) -> ServiceRuntime:
    """Open the queue's resources, start the drain loops and serve."""
    runtime = ServiceRuntime(SERVICE_NAME, settings.common)
    # The queue service writes no events, so it runs no outbox relay.
    await runtime.open(relay=False)
    channel = runtime.open_client(settings.assigner_address)
    store = QueueStore(runtime.pool)
    drainer = Drainer(
        store,
        assigner_pb2_grpc.AssignerServiceStub(channel),
        debounce_s=settings.debounce_s,
        sweep_interval_s=settings.sweep_interval_s,
        offer_batch=settings.offer_batch,
        assigner_timeout_s=settings.assigner_timeout_s,
    )
    runtime.spawn("drain", drainer.run_requested)
    runtime.spawn("sweep", drainer.run_sweep)

    async def consume_capacity_freed() -> None:
        await jetstream.consume(
            runtime.js,
            settings.common.subject_prefix,
            subjects.QUEUE_DRAIN_CONSUMER,
            [subjects.CAPACITY_FREED],
            drainer.on_capacity_freed,
        )

    runtime.spawn("capacity-freed-consumer", consume_capacity_freed)
    binding = ServiceBinding(
        queue_pb2.DESCRIPTOR.services_by_name["QueueService"].full_name,
        queue_pb2_grpc.add_QueueServiceServicer_to_server,
        QueueServicer(store, drainer),
    )
    await runtime.serve([binding], settings.port)
    return runtime
