"""The HR webhook gateway over HTTP, against an in-process availability service.

Deliveries are signed with the `standardwebhooks` package, so the gateway's own
verifier is checked against an independent implementation of the scheme.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from assignment_engine.availability import app
from assignment_engine.availability.hr_gateway.config import (
    HrGatewaySettings,
    parse_secrets,
)
from assignment_engine.availability.hr_gateway.server import (
    EVENTS_PATH,
    HEALTH_PATH,
    RETRY_AFTER_S,
    open_availability_channel,
    start_gateway,
)
from assignment_engine.core import subjects
from assignment_engine.core.runtime import ServiceRuntime

from .conftest import make_settings, outbox_events

pytestmark = pytest.mark.usefixtures("organisation")

SECRET_A = "whsec_" + base64.b64encode(b"gateway-test-secret-a-0123456").decode()
SECRET_B = "whsec_" + base64.b64encode(b"gateway-test-secret-b-0123456").decode()
UNKNOWN_SECRET = "whsec_" + base64.b64encode(b"some-other-senders-secret-00").decode()
MAX_BODY_BYTES = 4096
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
NAN = float("nan")


def gateway_settings(
    runtime: ServiceRuntime, availability_address: str
) -> HrGatewaySettings:
    return HrGatewaySettings(
        common=runtime.settings,
        port=0,
        secrets=parse_secrets(f"{SECRET_A},{SECRET_B}"),
        max_body_bytes=MAX_BODY_BYTES,
        availability_address=availability_address,
        call_timeout_s=5.0,
    )


@asynccontextmanager
async def running_gateway(settings: HrGatewaySettings) -> AsyncIterator[str]:
    """Serve the gateway on a free loopback port; yield its base URL."""
    channel = open_availability_channel(settings)
    try:
        runner = await start_gateway(settings, channel, host="127.0.0.1", port=0)
        try:
            host, port = runner.addresses[0][:2]
            yield f"http://{host}:{port}"
        finally:
            await runner.cleanup()
    finally:
        await channel.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as client:
        yield client


@pytest.fixture
async def gateway(runtime: ServiceRuntime) -> AsyncIterator[str]:
    settings = gateway_settings(runtime, f"127.0.0.1:{runtime.port}")
    async with running_gateway(settings) as url:
        yield url


def closed_port() -> int:
    """A loopback port nothing listens on once this returns."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def gateway_without_availability(runtime: ServiceRuntime) -> AsyncIterator[str]:
    settings = gateway_settings(runtime, f"127.0.0.1:{closed_port()}")
    async with running_gateway(settings) as url:
        yield url


def approval(**fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "type": "leave.approved",
        "employee_id": "E-ned",
        "leave_id": "L-1",
        "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "reason": "annual leave",
        "event_time": now.isoformat(),
        "version": 1,
    }
    body.update(fields)
    return body


def signed_headers(
    body: bytes,
    *,
    delivery_id: str = "msg_1",
    secret: str = SECRET_A,
    sent_at: datetime | None = None,
) -> dict[str, str]:
    sent_at = sent_at or datetime.now(UTC)
    signature = Webhook(secret).sign(delivery_id, sent_at, body)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
) -> tuple[int, dict[str, Any], Any]:
    """POST a delivery; return the status, JSON body and headers of the response."""
    async with session.post(url + EVENTS_PATH, data=body, headers=headers) as answer:
        return answer.status, await answer.json(), answer.headers


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    document: Any,
    **signing: Any,
) -> tuple[int, dict[str, Any], Any]:
    body = json.dumps(document).encode()
    return await post(session, url, body, signed_headers(body, **signing))


async def hr_leave(database: asyncpg.Connection) -> list[asyncpg.Record]:
    return await database.fetch("SELECT hr_leave_id, state FROM leave_periods")


# Accepted deliveries --------------------------------------------------------------


async def test_gateway__signed_delivery_is_stored(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    status, body, _ = await deliver(session, gateway, approval())

    assert status == 200
    assert body == {"delivery_id": "msg_1", "outcome": "accepted", "reason": ""}
    assert [row["hr_leave_id"] for row in await hr_leave(database)] == ["L-1"]
    stored = await database.fetchval(
        "SELECT outcome FROM hr_events WHERE delivery_id = 'msg_1'"
    )
    assert stored == "accepted"


@pytest.mark.parametrize("secret", [SECRET_A, SECRET_B], ids=["first", "second"])
async def test_gateway__either_rotated_secret_is_accepted(
    session: aiohttp.ClientSession, gateway: str, secret: str
) -> None:
    status, _, _ = await deliver(session, gateway, approval(), secret=secret)

    assert status == 200


async def test_gateway__one_matching_signature_among_several_is_accepted(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    body = json.dumps(approval()).encode()
    headers = signed_headers(body)
    other = Webhook(UNKNOWN_SECRET).sign("msg_1", datetime.now(UTC), body)
    headers["webhook-signature"] = f"{other} v1a,ignored {headers['webhook-signature']}"

    status, _, _ = await post(session, gateway, body, headers)

    assert status == 200


async def test_gateway__timestamp_within_tolerance_is_accepted(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    sent_at = datetime.now(UTC) - timedelta(minutes=4)

    status, _, _ = await deliver(session, gateway, approval(), sent_at=sent_at)

    assert status == 200


async def test_gateway__health_check_answers(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    async with session.get(gateway + HEALTH_PATH) as answer:
        status = answer.status
        body = await answer.json()

    assert status == 200
    assert body == {"status": "ok"}


# Signatures -----------------------------------------------------------------------


async def test_gateway__unknown_secret_is_unauthorized(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    status, body, _ = await deliver(session, gateway, approval(), secret=UNKNOWN_SECRET)

    assert status == 401
    assert "webhook-signature" in body["error"]
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


@pytest.mark.parametrize("part", ["body", "id", "timestamp"])
async def test_gateway__tampered_delivery_is_unauthorized(
    session: aiohttp.ClientSession,
    gateway: str,
    database: asyncpg.Connection,
    part: str,
) -> None:
    body = json.dumps(approval()).encode()
    headers = signed_headers(body)
    if part == "body":
        body = json.dumps(approval(employee_id="E-nina")).encode()
    elif part == "id":
        headers["webhook-id"] = "msg_2"
    else:
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)

    status, body_json, _ = await post(session, gateway, body, headers)

    assert status == 401
    assert "error" in body_json
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


@pytest.mark.parametrize(
    ("shift", "word"),
    [
        pytest.param(timedelta(minutes=-6), "behind", id="stale"),
        pytest.param(timedelta(minutes=6), "ahead of", id="future"),
    ],
)
async def test_gateway__timestamp_outside_tolerance_is_unauthorized(
    session: aiohttp.ClientSession,
    gateway: str,
    database: asyncpg.Connection,
    shift: timedelta,
    word: str,
) -> None:
    sent_at = datetime.now(UTC) + shift

    status, body, _ = await deliver(session, gateway, approval(), sent_at=sent_at)

    assert status == 401
    assert word in body["error"]
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


@pytest.mark.parametrize(
    "header", ["webhook-id", "webhook-timestamp", "webhook-signature"]
)
async def test_gateway__missing_header_is_unauthorized(
    session: aiohttp.ClientSession, gateway: str, header: str
) -> None:
    body = json.dumps(approval()).encode()
    headers = signed_headers(body)
    del headers[header]

    status, answer, _ = await post(session, gateway, body, headers)

    assert status == 401
    assert header in answer["error"]


async def test_gateway__rejection_logs_no_signature_or_secret(
    session: aiohttp.ClientSession,
    gateway: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps(approval()).encode()
    headers = signed_headers(body, secret=UNKNOWN_SECRET)
    signature = headers["webhook-signature"].split(",", 1)[1]
    caplog.set_level(logging.DEBUG)

    status, _, _ = await post(session, gateway, body, headers)

    assert status == 401
    logged = [str(record.__dict__) for record in caplog.records]
    assert any("msg_1" in line for line in logged)
    assert not any(signature in line for line in logged)
    for secret in (SECRET_A, SECRET_B, UNKNOWN_SECRET):
        assert not any(secret.removeprefix("whsec_") in line for line in logged)


# Size and content ---------------------------------------------------------------


async def test_gateway__declared_oversize_body_is_too_large(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    status, body, _ = await deliver(
        session, gateway, approval(reason="r" * (MAX_BODY_BYTES + 1))
    )

    assert status == 413
    assert str(MAX_BODY_BYTES) in body["error"]
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


async def test_gateway__chunked_oversize_body_is_too_large(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    body = json.dumps(approval(reason="r" * (MAX_BODY_BYTES + 1))).encode()
    headers = signed_headers(body)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    async with session.post(
        gateway + EVENTS_PATH, data=chunks(), headers=headers
    ) as answer:
        status = answer.status
        declared = answer.request_info.headers.get("Content-Length")

    assert declared is None
    assert status == 413


async def test_gateway__compressed_body_is_unsupported(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    body = json.dumps(approval()).encode()
    headers = signed_headers(body)
    headers["content-encoding"] = "gzip"

    status, _, _ = await post(session, gateway, body, headers)

    assert status == 415


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{not json", id="syntax"),
        pytest.param(b"\xff\xfe\x00", id="not utf-8"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b"[" * 2000 + b"]" * 2000, id="deep nesting"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_gateway__malformed_json_is_a_bad_request(
    session: aiohttp.ClientSession, gateway: str, raw: bytes
) -> None:
    status, body, _ = await post(session, gateway, raw, signed_headers(raw))

    assert status == 400
    assert body["error"].startswith("the body")


@pytest.mark.parametrize(
    "field", ["type", "employee_id", "leave_id", "starts_at", "ends_at", "event_time"]
)
async def test_gateway__missing_field_is_named(
    session: aiohttp.ClientSession, gateway: str, field: str
) -> None:
    document = approval()
    del document[field]

    status, body, _ = await deliver(session, gateway, document)

    assert status == 400
    assert body["error"] == f"{field} is missing"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "leave.extended"),
        ("type", 7),
        ("employee_id", 42),
        ("employee_id", ""),
        ("leave_id", ["L-1"]),
        ("starts_at", "tomorrow"),
        ("starts_at", "2030-01-31T09:00:00"),
        ("ends_at", "2030-02-30T09:00:00Z"),
        ("event_time", 1700000000),
        ("version", "3"),
        ("version", True),
        ("version", -1),
        ("version", 1.5),
        ("version", 10**3000),
        ("reason", "line\nbreak"),
    ],
)
async def test_gateway__ill_typed_field_is_named(
    session: aiohttp.ClientSession, gateway: str, field: str, value: Any
) -> None:
    status, body, _ = await deliver(session, gateway, approval(**{field: value}))

    assert status == 400
    assert body["error"].startswith(f"{field} is invalid")


async def test_gateway__end_before_start_is_a_bad_request(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    now = datetime.now(UTC)
    document = approval(
        starts_at=(now + timedelta(days=2)).isoformat(),
        ends_at=(now + timedelta(days=1)).isoformat(),
    )

    status, body, _ = await deliver(session, gateway, document)

    assert status == 400
    assert body["error"].startswith("ends_at is invalid")


async def test_gateway__future_event_time_is_a_bad_request(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    status, body, _ = await deliver(session, gateway, approval(event_time=later))

    assert status == 400
    assert body["error"].startswith("event_time=")
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


# Outcomes -----------------------------------------------------------------------


async def test_gateway__unknown_employee_is_unprocessable_and_stored(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    status, body, _ = await deliver(session, gateway, approval(employee_id="E-404"))

    assert status == 422
    assert body["outcome"] == "rejected"
    assert body["error"] == "unknown employee E-404"
    row = await database.fetchrow(
        "SELECT outcome, reason FROM hr_events WHERE delivery_id = 'msg_1'"
    )
    assert row["outcome"] == "rejected"
    assert row["reason"] == "unknown employee E-404"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(approval(), id="accepted"),
        pytest.param(approval(employee_id="E-404"), id="rejected"),
    ],
)
async def test_gateway__repeated_delivery_gets_same_response(
    session: aiohttp.ClientSession,
    gateway: str,
    database: asyncpg.Connection,
    document: dict[str, Any],
) -> None:
    now = datetime.now(UTC)
    document = dict(
        document,
        starts_at=(now - timedelta(hours=1)).isoformat(),
        ends_at=(now + timedelta(hours=1)).isoformat(),
    )
    first = await deliver(session, gateway, document)

    second = await deliver(session, gateway, document)

    assert second[0] == first[0]
    assert second[1] == first[1]
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 1
    changed = await outbox_events(database, subjects.AVAILABILITY_CHANGED)
    assert len(changed) == (1 if first[0] == 200 else 0)


async def test_gateway__older_event_after_newer_is_stale(
    session: aiohttp.ClientSession, gateway: str, database: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await deliver(
        session, gateway, approval(version=2), delivery_id="msg_2", sent_at=now
    )

    status, body, _ = await deliver(
        session,
        gateway,
        approval(version=1, reason="first draft"),
        delivery_id="msg_1",
        sent_at=now,
    )

    assert status == 200
    assert body["outcome"] == "stale"
    reason = await database.fetchval("SELECT reason FROM leave_periods")
    assert reason == "annual leave"


async def test_gateway__unreachable_availability_is_unavailable(
    session: aiohttp.ClientSession,
    gateway_without_availability: str,
    database: asyncpg.Connection,
) -> None:
    status, body, headers = await deliver(
        session, gateway_without_availability, approval()
    )

    assert status == 503
    assert headers["Retry-After"] == str(RETRY_AFTER_S)
    assert "error" in body
    assert await database.fetchval("SELECT count(*) FROM hr_events") == 0


async def test_gateway__stopped_availability_is_unavailable(
    session: aiohttp.ClientSession,
    runtime: ServiceRuntime,
    database_url: str,
    nats_url: str,
    subject_prefix: str,
) -> None:
    stopping = await app.start(
        make_settings(database_url, nats_url, subject_prefix), relay=False
    )
    settings = gateway_settings(runtime, f"127.0.0.1:{stopping.port}")
    async with running_gateway(settings) as url:
        try:
            first, _, _ = await deliver(session, url, approval(), delivery_id="msg_1")
        finally:
            await stopping.close()

        status, _, headers = await deliver(
            session, url, approval(), delivery_id="msg_2"
        )

    assert first == 200
    assert status == 503
    assert headers["Retry-After"] == str(RETRY_AFTER_S)


def odd_documents() -> Iterator[Any]:
    """Bodies of every JSON shape, each of which must get a 4xx or 2xx."""
    base = approval()
    values: list[Any] = [None, [], {}, 0, -1, 2**70, "", " ", "\x00", 1e308, True, NAN]
    for field in base:
        for value in values:
            yield dict(base, **{field: value})
    yield dict(base, type="employee.returned", leave_id=None)
    yield dict(base, type="leave.cancelled", starts_at=None, ends_at=None)
    yield dict(base, extra={"nested": [1, 2, 3]})
    yield {"type": "leave.approved"}
    yield "just a string"
    yield None


async def test_gateway__odd_bodies_never_get_server_errors(
    session: aiohttp.ClientSession, gateway: str
) -> None:
    statuses = []
    for number, document in enumerate(odd_documents()):
        status, _, _ = await deliver(
            session, gateway, document, delivery_id=f"msg_{number}"
        )
        statuses.append(status)

    assert all(status < 500 for status in statuses)
