"""Wiring of the SLA monitor process: runtime, background loops, servicer and server."""

from __future__ import annotations

from assignment_engine.api.v1 import sla_monitor_pb2, sla_monitor_pb2_grpc
from assignment_engine.core.grpc_server import ServiceBinding
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.sla_monitor.config import SlaMonitorSettings
from assignment_engine.sla_monitor.monitor import SlaMonitor
from assignment_engine.sla_monitor.retention import RetentionPurger
from assignment_engine.sla_monitor.server import SlaMonitorServicer
from assignment_engine.sla_monitor.snapshots import CapacitySnapshotter
from assignment_engine.sla_monitor.store import SlaMonitorStore

SERVICE_NAME = "sla-monitor"


async def start(settings: SlaMonitorSettings) -> ServiceRuntime:
    """Open the monitor's resources, start the detection, snapshot and retention
    loops and serve on `settings.port` (0 picks a port)."""
    runtime = ServiceRuntime(SERVICE_NAME, settings.common)
    await runtime.open()
    monitor = SlaMonitor(runtime.pool, settings, runtime.wake_relay)
    runtime.spawn("sla-detection", monitor.run)
    snapshotter = CapacitySnapshotter(runtime.pool, settings.org_timezone)
    runtime.spawn("capacity-snapshots", snapshotter.run)
    purger = RetentionPurger(
        runtime.pool,
        retention_days=settings.retention_days,
        batch_size=settings.retention_batch,
        interval_s=settings.retention_interval_s,
    )
    runtime.spawn("assignment-retention", purger.run)
    servicer = SlaMonitorServicer(SlaMonitorStore(runtime.pool), settings.org_timezone)
    binding = ServiceBinding(
        sla_monitor_pb2.DESCRIPTOR.services_by_name["SlaMonitorService"].full_name,
        sla_monitor_pb2_grpc.add_SlaMonitorServiceServicer_to_server,
        servicer,
    )
    await runtime.serve([binding], settings.port)
    return runtime
