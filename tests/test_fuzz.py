"""Generated and mutated requests against every RPC and the HR webhook.

The four services and the gateway run in a background event loop for the whole
module, so Hypothesis can drive them from ordinary synchronous tests. Whatever
the input, no RPC may answer INTERNAL or UNKNOWN and the webhook may never answer
5xx; afterwards the database invariants still hold and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import aiohttp
import asyncpg
import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assignment_engine.api.v1 import (
    assigner_pb2,
    availability_pb2,
    queue_pb2,
    sla_monitor_pb2,
)
from assignment_engine.availability.hr_gateway.config import (
    HrGatewaySettings,
    parse_secrets,
)
from assignment_engine.availability.hr_gateway.server import (
    EVENTS_PATH,
    open_availability_channel,
    start_gateway,
)
from assignment_engine.devstack import invariants, seeding
from assignment_engine.devstack.testing import (
    ServerProvider,
    clone_database,
    database_name,
    delete_streams,
    drop_database,
    new_subject_prefix,
    token_for,
)

from .conftest import Engine, common_settings

# The services run on a thread of their own while Hypothesis draws examples, and
# OpenTelemetry's RandomIdGenerator takes each span id from the global `random`
# state, which Hypothesis reports as the strategy's own use of `random`.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)

T = TypeVar("T")
SECRET = "whsec_" + base64.b64encode(b"fuzz-webhook-secret-0123456789").decode()
SERVICES = [
    ("assigner", assigner_pb2.DESCRIPTOR.services_by_name["AssignerService"]),
    ("queue", queue_pb2.DESCRIPTOR.services_by_name["QueueService"]),
    ("sla_monitor", sla_monitor_pb2.DESCRIPTOR.services_by_name["SlaMonitorService"]),
    (
        "availability",
        availability_pb2.DESCRIPTOR.services_by_name["AvailabilityService"],
    ),
]
SERVICE_ONLY = {"OfferQueuedItems", "RecordHrEvent"}
FORBIDDEN_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
EXAMPLES_PER_RPC = 60


class BackgroundEngine:
    """The services under test, on an event loop of their own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.known_ids: list[str] = []

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def seed(db: asyncpg.Connection, engine: Engine) -> list[str]:
    """A small organisation and a few items, so generated ids can hit real rows."""
    await seeding.add_unit(db, "u1")
    await seeding.add_staff(db, "s1", "u1", skills=["network"], wip_limit=2)
    await seeding.add_staff(
        db, "s2", "u1", skills=["network"], wip_limit=1, role="supervisor"
    )
    await db.execute("UPDATE staff SET hr_employee_id = 'E1' WHERE id = 's1'")
    ids = []
    for index in range(3):
        response = await engine.assigner.SubmitWorkItem(
            assigner_pb2.SubmitWorkItemRequest(
                type="incident",
                external_id=f"seed{index}",
                required_skills=["network"],
                priority=2,
            )
        )
        ids.append(response.work_item.id)
        if response.assignment.id:
            ids.append(response.assignment.id)
    return ids


@pytest.fixture(scope="module")
def fuzz_engine(
    servers: ServerProvider, template_database: str
) -> Iterator[tuple[BackgroundEngine, Engine, str, str]]:
    background = BackgroundEngine()
    admin_url = servers.admin_database_url
    database_url = background.run(clone_database(admin_url, template_database))
    prefix = new_subject_prefix()

    async def start() -> tuple[Engine, str, Any, Any]:
        from .conftest import full_engine_start

        engine = await full_engine_start(
            common_settings(database_url, servers.nats_url, prefix)
        )
        gateway_settings = HrGatewaySettings(
            common=engine.common,
            port=0,
            secrets=parse_secrets(SECRET),
            max_body_bytes=4096,
            availability_address=f"127.0.0.1:{engine.runtimes['availability'].port}",
            call_timeout_s=5.0,
        )
        channel = open_availability_channel(gateway_settings)
        runner = await start_gateway(
            gateway_settings, channel, host="127.0.0.1", port=0
        )
        host, port = runner.addresses[0][:2]
        return engine, f"http://{host}:{port}", runner, channel

    engine, gateway_url, runner, channel = background.run(start())
    db = background.run(asyncpg.connect(database_url))
    background.known_ids = background.run(seed(db, engine))
    yield background, engine, gateway_url, database_url
    background.run(check_database(db))

    async def stop() -> None:
        await db.close()
        await runner.cleanup()
        await channel.close()
        await engine.close()

    background.run(stop())
    background.run(drop_database(admin_url, database_name(database_url)))
    background.run(delete_streams(servers.nats_url, prefix))
    background.stop()


async def check_database(db: asyncpg.Connection) -> None:
    results = {result.description: result for result in await invariants.check_all(db)}
    for description in (
        "no item has two active assignments",
        "every load counter equals the real count",
        "the ranking's copy of staff and load is current",
        "no item is both queued and assigned",
    ):
        assert results[description].violations == [], description
    assert (
        await db.fetchval(
            "SELECT count(*) FROM work_items w WHERE NOT EXISTS (SELECT 1 FROM sla_clocks c WHERE c.work_item_id = w.id)"
        )
        == 0
    )
    assert (
        await db.fetchval(
            "SELECT count(*) FROM staff s WHERE NOT EXISTS (SELECT 1 FROM staff_load l WHERE l.staff_id = s.id)"
        )
        == 0
    )


def strings(known: list[str]) -> st.SearchStrategy[str]:
    interesting = [
        "",
        "root",
        "u1",
        "s1",
        "s2",
        "engine-ops",
        "incident",
        "E1",
        "network",
        "*",
        "UTC",
        "Asia/Riyadh",
        "09:00",
        "24:00",
        "2025-01-01",
        "a b",
        "x" * 200,
        "\x00",
        "../..",
        "'; DROP TABLE staff; --",
        "00000000-0000-0000-0000-000000000000",
        "WyJxdWV1ZSIsNDAwMDAsMCwiYSJd",
        "ÄÖü",
        "\u202e",
    ]
    return st.one_of(st.sampled_from(interesting + known), st.text(max_size=40))


def field_strategy(
    field: FieldDescriptor, known: list[str], depth: int
) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            single: st.SearchStrategy[Any] = st.fixed_dictionaries(
                {
                    "seconds": st.integers(-(2**40), 2**40)
                    | st.integers(1_600_000_000, 1_900_000_000),
                    "nanos": st.integers(-5, 10**9 + 5),
                }
            )
        elif field.message_type.full_name == "google.protobuf.Duration":
            single = st.fixed_dictionaries(
                {
                    "seconds": st.integers(-(10**9), 10**9),
                    "nanos": st.integers(-(10**9), 10**9),
                }
            )
        elif depth >= 2:
            single = st.just({})
        else:
            single = message_fields(field.message_type, known, depth + 1)
    elif kind == FieldDescriptor.TYPE_STRING:
        single = strings(known)
    elif kind == FieldDescriptor.TYPE_BYTES:
        single = st.binary(max_size=40)
    elif kind == FieldDescriptor.TYPE_BOOL:
        single = st.booleans()
    elif kind == FieldDescriptor.TYPE_ENUM:
        single = st.integers(-3, 12)
    elif kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        single = st.floats(
            allow_nan=True,
            allow_infinity=True,
            width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64,
        )
    elif kind in (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
    ):
        single = st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 2000)
    elif kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        single = st.integers(0, 2**32 - 1)
    elif kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        single = st.integers(0, 2**64 - 1)
    else:
        single = st.integers(-(2**31), 2**31 - 1) | st.integers(-3, 2000)
    if field.is_repeated:
        return st.lists(single, max_size=4)
    return single


def message_fields(
    descriptor: Descriptor, known: list[str], depth: int = 0
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            field.name: field_strategy(field, known, depth)
            for field in descriptor.fields
        },
    )


def methods() -> list[tuple[str, MethodDescriptor]]:
    return [
        (service, method)
        for service, descriptor in SERVICES
        for method in descriptor.methods
    ]


@pytest.mark.parametrize(
    ("service", "method"), methods(), ids=[f"{s}.{m.name}" for s, m in methods()]
)
def test_rpc__generated_requests_never_fail_internally(
    fuzz_engine: tuple[BackgroundEngine, Engine, str, str],
    service: str,
    method: MethodDescriptor,
) -> None:
    background, engine, _, _ = fuzz_engine
    role = "service" if method.name in SERVICE_ONLY else "admin"
    subject = "fuzz-client" if role == "service" else "root"
    metadata = (("authorization", f"Bearer {token_for(subject, role)}"),)
    request_class = {
        "assigner": assigner_pb2,
        "queue": queue_pb2,
        "sla_monitor": sla_monitor_pb2,
        "availability": availability_pb2,
    }[service]
    request_type = getattr(request_class, method.input_type.name)

    async def call(request: Any) -> grpc.StatusCode:
        channel = engine.channel(service)
        rpc = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=request_type.SerializeToString,
            response_deserializer=lambda raw: raw,
        )
        try:
            await rpc(request, metadata=metadata, timeout=20)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            return exc.code()

    @settings(
        max_examples=EXAMPLES_PER_RPC,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(fields=message_fields(method.input_type, background.known_ids))
    def run(fields: dict[str, Any]) -> None:
        try:
            request = request_type(**fields)
        except (ValueError, TypeError):
            # The protobuf runtime refuses the value before anything is sent.
            return
        code = background.run(call(request))
        assert code not in FORBIDDEN_CODES, (
            f"{method.name}({request}) returned {code.name}"
        )

    run()


def signed(body: bytes, delivery_id: str, timestamp: int) -> dict[str, str]:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(
        key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
EVENT_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["leave.approved", "leave.cancelled", "employee.returned", "x"]
        )
        | JSON_VALUES,
        "employee_id": st.sampled_from(["E1", "nobody", ""]) | JSON_VALUES,
        "leave_id": st.text(max_size=20) | JSON_VALUES,
        "starts_at": st.sampled_from(
            ["2030-01-01T00:00:00Z", "yesterday", "2030-13-01T00:00:00Z"]
        )
        | JSON_VALUES,
        "ends_at": st.sampled_from(["2030-01-02T00:00:00Z", "2029-01-01T00:00:00Z"])
        | JSON_VALUES,
        "reason": st.text(max_size=600) | JSON_VALUES,
        "event_time": st.sampled_from(["2026-01-01T00:00:00Z", "now"]) | JSON_VALUES,
        "version": st.integers(-(2**70), 2**70) | JSON_VALUES,
    },
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(
    body=EVENT_BODIES.map(lambda document: json.dumps(document).encode())
    | st.binary(max_size=300),
    delivery_id=st.text(min_size=0, max_size=40),
    skew_s=st.sampled_from([0, -30, 400, -400]),
    sign=st.booleans(),
)
def test_webhook__generated_deliveries_never_get_5xx(
    fuzz_engine: tuple[BackgroundEngine, Engine, str, str],
    body: bytes,
    delivery_id: str,
    skew_s: int,
    sign: bool,
) -> None:
    background, _, gateway_url, _ = fuzz_engine
    # The HTTP client itself refuses control characters in headers.
    safe_id = "".join(ch for ch in delivery_id if " " <= ch <= "~")
    headers = (
        signed(body, safe_id, int(time.time()) + skew_s)
        if sign
        else {"content-type": "application/json"}
    )

    async def post() -> int:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=20)
        ) as session:
            async with session.post(
                gateway_url + EVENTS_PATH, data=body, headers=headers
            ) as answer:
                return answer.status

    status = background.run(post())

    assert status < 500, f"{status} for {body[:80]!r}"
