"""`ae-demo`: run the whole engine and replay the ServiceNow incident log through it.

The log comes from AE_DEMO_LOG, else ../shared/data/uci-servicenow-incident-log/,
else a verified download from the UCI repository; with none of these a synthetic
trace shaped like the log is replayed, and the first line of output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys
import time
from datetime import date, timedelta

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import (
    assigner_pb2_grpc,
    availability_pb2,
    availability_pb2_grpc,
    common_pb2,
    queue_pb2,
    queue_pb2_grpc,
    sla_monitor_pb2,
    sla_monitor_pb2_grpc,
)
from assignment_engine.core.auth import BearerInterceptor
from assignment_engine.core.bootstrap import DEFAULT_ADMIN_ID as ROOT_ADMIN
from assignment_engine.devstack import invariants
from assignment_engine.devstack.demo_report import UtilisationSampler, build_report
from assignment_engine.devstack.replay_client import (
    WORK_ITEM_TYPE,
    AvailabilityChange,
    ReplayClient,
)
from assignment_engine.devstack.replay_input import (
    DemoInput,
    Organisation,
    load_demo_input,
)
from assignment_engine.devstack.stack import Stack, StopSignal, cancel_on_signals

logger = logging.getLogger(__name__)

DEFAULT_SPEEDUP = 3600.0
DEFAULT_DAYS = 7
DEFAULT_WIP_LIMIT = 5
SETTLE_S = 4.0
# Resolution targets by priority, before compression: P1 4 h, P2 8 h, P3 5 days,
# P4 14 days.
LOG_SLA_TARGETS = {
    1: timedelta(hours=4),
    2: timedelta(hours=8),
    3: timedelta(days=5),
    4: timedelta(days=14),
}
ROLES = {
    "staff": common_pb2.ROLE_STAFF,
    "supervisor": common_pb2.ROLE_SUPERVISOR,
    "admin": common_pb2.ROLE_ADMIN,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day of the window (YYYY-MM-DD); default: the busiest week",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"length of the window in days (default {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--speedup",
        type=float,
        default=DEFAULT_SPEEDUP,
        help=f"time compression: log seconds per real second (default {DEFAULT_SPEEDUP:.0f})",
    )
    parser.add_argument(
        "--wip-limit",
        type=int,
        default=DEFAULT_WIP_LIMIT,
        help=f"WIP limit of every staff member (default {DEFAULT_WIP_LIMIT})",
    )
    parser.add_argument(
        "--log",
        default=os.environ.get("AE_DEMO_LOG"),
        help="incident log (.zip or .csv); default AE_DEMO_LOG",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the run's database, streams and server files",
    )
    args = parser.parse_args(argv)
    if args.days < 1 or args.days > 120:
        parser.error(f"--days {args.days} is out of range; expected 1 to 120")
    if not math.isfinite(args.speedup) or args.speedup <= 0:
        parser.error(f"--speedup {args.speedup} is invalid; expected a positive number")
    if not 0 <= args.wip_limit <= 1000:
        parser.error(
            f"--wip-limit {args.wip_limit} is out of range; expected 0 to 1000"
        )
    if args.log and not os.path.exists(args.log):
        parser.error(
            f"--log {args.log} not found; expected an incident log .zip or .csv"
        )
    return args


def organisation_request(
    organisation: Organisation,
) -> availability_pb2.ImportOrganisationRequest:
    request = availability_pb2.ImportOrganisationRequest()
    for unit in organisation.units:
        request.units.append(
            common_pb2.Unit(
                id=unit.id,
                name=unit.name,
                supervisor_id=unit.supervisor_id,
                timezone="UTC",
            )
        )
    for member in organisation.staff:
        request.staff.append(
            common_pb2.Staff(
                id=member.id,
                unit_id=member.unit_id,
                display_name=member.display_name,
                role=ROLES[member.role],
                skills=[common_pb2.Skill(name=skill) for skill in member.skills],
                wip_limit=member.wip_limit,
            )
        )
    return request


def availability_changes(organisation: Organisation) -> list[AvailabilityChange]:
    """Five staff go unavailable and come back, two go on leave and return."""
    workers = [m for m in organisation.staff if m.role == "staff" and m.wip_limit > 0]
    changes = []
    for index, member in enumerate(workers[:: max(1, len(workers) // 7)][:7]):
        away = (
            common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
            if index < 5
            else common_pb2.AVAILABILITY_STATUS_ON_LEAVE
        )
        leave_at = 0.15 + 0.1 * index
        changes.append(AvailabilityChange(leave_at, member.id, away, "demo: away"))
        changes.append(
            AvailabilityChange(
                leave_at + 0.2,
                member.id,
                common_pb2.AVAILABILITY_STATUS_AVAILABLE,
                "demo: back",
            )
        )
    return changes


async def set_policies(
    stub: sla_monitor_pb2_grpc.SlaMonitorServiceStub, speedup: float
) -> None:
    for priority, target in LOG_SLA_TARGETS.items():
        compressed = Duration()
        compressed.FromTimedelta(max(target / speedup, timedelta(seconds=1)))
        await stub.SetSlaPolicy(
            sla_monitor_pb2.SetSlaPolicyRequest(
                policy=sla_monitor_pb2.SlaPolicy(
                    work_item_type=WORK_ITEM_TYPE,
                    priority=priority,
                    resolution_target=compressed,
                )  # type: ignore[arg-type]
            )
        )


async def replay(stack: Stack, demo: DemoInput, args: argparse.Namespace) -> int:
    # The organisation, the policies and the final drain are an admin's work.
    admin = authorized_channels(stack, ROOT_ADMIN, "admin")
    channels = {
        name: grpc.aio.insecure_channel(stack.address(name)) for name in stack.services
    }
    assigner = assigner_pb2_grpc.AssignerServiceStub(channels["assigner"])
    availability = availability_pb2_grpc.AvailabilityServiceStub(
        channels["availability"]
    )
    admin_availability = availability_pb2_grpc.AvailabilityServiceStub(
        admin["availability"]
    )
    monitor = sla_monitor_pb2_grpc.SlaMonitorServiceStub(admin["sla_monitor"])
    queue = queue_pb2_grpc.QueueServiceStub(admin["queue"])
    conn = await asyncpg.connect(stack.database_url)
    try:
        imported = await admin_availability.ImportOrganisation(
            organisation_request(demo.organisation)
        )
        print(
            f"organisation: {len(demo.organisation.units)} units, {imported.staff_created} staff, WIP limit {args.wip_limit}"
        )
        await set_policies(monitor, args.speedup)
        duration = demo.trace[-1].arrival_offset_s / args.speedup if demo.trace else 0.0
        print(
            f"replaying {len(demo.trace):,} arrivals over {duration:.0f} s (speed-up {args.speedup:.0f}x)"
        )
        roles = {member.id: member.role for member in demo.organisation.staff}
        tokens: dict[tuple[str, str], str] = {}

        def token(subject: str, role: str) -> str:
            # A staff member's token carries the role their record has.
            key = (subject, roles.get(subject, role))
            if key not in tokens:
                tokens[key] = stack.token(*key, ttl_s=6 * 3600)
            return tokens[key]

        client = ReplayClient(assigner, availability, speedup=args.speedup, token=token)
        sampler = UtilisationSampler()

        async def sample_forever() -> None:
            while True:
                await sampler.sample(conn)
                await asyncio.sleep(1.0)

        sampling = asyncio.create_task(sample_forever())
        try:
            await client.run(demo.trace, availability_changes(demo.organisation))
        finally:
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
            await client.stop_completing()
        # Let the queue drain and the monitor catch up before checking the invariants.
        await queue.DrainQueue(queue_pb2.DrainQueueRequest(), timeout=60)
        await asyncio.sleep(SETTLE_S)
        checks = await invariants.check_all(conn)
        log_made_sla = {item.external_id: item.made_sla for item in demo.trace}
        print(
            await build_report(
                conn,
                client.stats,
                sampler,
                log_made_sla,
                checks,
                synthetic=demo.synthetic,
            )
        )
        if demo.log_made_sla_rate is not None:
            source = "the synthetic trace's" if demo.synthetic else "the log's"
            print(
                f"{source} made_sla over the whole window: {demo.log_made_sla_rate:.1%}"
            )
        return 0 if all(check.holds for check in checks) else 1
    finally:
        await conn.close()
        for channel in [*channels.values(), *admin.values()]:
            await channel.close()


def authorized_channels(
    stack: Stack, subject: str, role: str
) -> dict[str, grpc.aio.Channel]:
    token = stack.token(subject, role, ttl_s=6 * 3600)
    return {
        name: grpc.aio.insecure_channel(
            stack.address(name), interceptors=[BearerInterceptor(lambda: token)]
        )
        for name in stack.services
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    began = time.monotonic()
    # The source line printed below already explains why no log was found or downloaded.
    logging.getLogger("assignment_engine.devstack.log_source").setLevel(logging.ERROR)
    demo = load_demo_input(
        args.log, start=args.start, days=args.days, wip_limit=args.wip_limit
    )
    print(demo.source_description, flush=True)
    if not demo.trace:
        sys.exit(
            f"no incidents in the {args.days} {'day' if args.days == 1 else 'days'} "
            f"from {args.start}; choose --start within the log"
        )

    # The signal that stopped the demo, once one has.
    stop_signal = StopSignal(signal.SIGINT)

    async def run() -> int:
        nonlocal stop_signal
        stop_signal = cancel_on_signals()
        stack = Stack.create(keep_data=args.keep_data)
        try:
            await stack.start()
            print(
                f"engine: {len(stack.services)} services on {stack.describe_servers()}",
                flush=True,
            )
            return await replay(stack, demo, args)
        finally:
            await stack.stop()
            if args.keep_data:
                print(
                    f"kept the run's data: database {stack.database_url}, files in {stack.work_dir}"
                )

    try:
        status = asyncio.run(run())
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("demo stopped; its servers and services were stopped", file=sys.stderr)
        sys.exit(stop_signal.exit_code)
    print(
        f"demo finished in {time.monotonic() - began:.0f} s: {'all invariants hold' if status == 0 else 'INVARIANTS FAILED'}"
    )
    sys.exit(status)
