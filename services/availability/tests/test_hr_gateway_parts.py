"""The gateway's signature verifier, body parser, settings and log budget, without servers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from assignment_engine.api.v1 import availability_pb2
from assignment_engine.availability.hr_gateway.config import parse_secrets
from assignment_engine.availability.hr_gateway.payload import PayloadError, parse_event
from assignment_engine.availability.hr_gateway.server import LogBudget
from assignment_engine.availability.hr_gateway.signature import (
    MAX_SIGNATURES,
    SignatureError,
    WebhookVerifier,
)
from assignment_engine.core.config import ConfigError

KEY_A = b"verifier-test-key-a-0123456789"
KEY_B = b"verifier-test-key-b-0123456789"
SECRET_A = "whsec_" + base64.b64encode(KEY_A).decode()
SECRET_B = "whsec_" + base64.b64encode(KEY_B).decode()
NOW = 1_900_000_000


def headers_for(
    body: bytes,
    *,
    secret: str = SECRET_A,
    delivery_id: str = "msg_1",
    sent_at: int = NOW,
) -> dict[str, str]:
    moment = datetime.fromtimestamp(sent_at, UTC)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": Webhook(secret).sign(delivery_id, moment, body),
    }


def verifier() -> WebhookVerifier:
    return WebhookVerifier([KEY_A, KEY_B], clock=lambda: float(NOW))


# Signatures -----------------------------------------------------------------------


@given(body=st.binary(max_size=512), delivery_id=st.text(min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_verifier__accepts_what_standardwebhooks_signs(
    body: bytes, delivery_id: str
) -> None:
    headers = headers_for(body, delivery_id=delivery_id)

    verified = verifier().verify(headers, body)

    assert verified == delivery_id


@given(body=st.binary(min_size=1, max_size=256), flip=st.integers(min_value=0))
@settings(max_examples=200, deadline=None)
def test_verifier__rejects_any_changed_byte(body: bytes, flip: int) -> None:
    headers = headers_for(body)
    index = flip % len(body)
    changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]

    with pytest.raises(SignatureError):
        verifier().verify(headers, changed)


def test_verifier__accepts_the_second_secret() -> None:
    headers = headers_for(b"{}", secret=SECRET_B)

    assert verifier().verify(headers, b"{}") == "msg_1"


def test_verifier__matches_the_standardwebhooks_verdict() -> None:
    body = b'{"type": "leave.approved"}'
    headers = headers_for(body, sent_at=int(datetime.now(UTC).timestamp()))

    reference = Webhook(SECRET_A).verify(body, headers, json_parse=False)
    ours = WebhookVerifier([KEY_A]).verify(headers, body)

    assert reference is None
    assert ours == "msg_1"


@pytest.mark.parametrize("shift", [-300, 300])
def test_verifier__accepts_five_minutes_either_way(shift: int) -> None:
    headers = headers_for(b"{}", sent_at=NOW + shift)

    assert verifier().verify(headers, b"{}") == "msg_1"


@pytest.mark.parametrize("shift", [-301, 301])
def test_verifier__rejects_more_than_five_minutes(shift: int) -> None:
    headers = headers_for(b"{}", sent_at=NOW + shift)

    with pytest.raises(SignatureError, match="webhook-timestamp"):
        verifier().verify(headers, b"{}")


@pytest.mark.parametrize("value", ["", "abc", "1.5", "-1", "1e9", "１２３", "9" * 13])
def test_verifier__rejects_a_malformed_timestamp(value: str) -> None:
    headers = headers_for(b"{}")
    headers["webhook-timestamp"] = value

    with pytest.raises(SignatureError, match="webhook-timestamp"):
        verifier().verify(headers, b"{}")


@pytest.mark.parametrize(
    "signature",
    ["", "v1,", "v1,@@@", "v2,abc", "v1a,abc", "nocomma", "v1,\u00e9\u00e9"],
)
def test_verifier__rejects_a_malformed_signature(signature: str) -> None:
    headers = headers_for(b"{}")
    headers["webhook-signature"] = signature

    with pytest.raises(SignatureError):
        verifier().verify(headers, b"{}")


def test_verifier__rejects_too_many_signatures() -> None:
    headers = headers_for(b"{}")
    headers["webhook-signature"] = " ".join(
        ["v1,AAAA"] * MAX_SIGNATURES + [headers["webhook-signature"]]
    )

    with pytest.raises(SignatureError, match="entries"):
        verifier().verify(headers, b"{}")


def test_verifier__needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookVerifier([])


# Body parser ----------------------------------------------------------------------


def approval(**fields: Any) -> bytes:
    body: dict[str, Any] = {
        "type": "leave.approved",
        "employee_id": "E-1",
        "leave_id": "L-1",
        "starts_at": "2030-01-31T09:00:00Z",
        "ends_at": "2030-02-07T17:30:00+01:00",
        "event_time": "2030-01-01T12:00:00.5Z",
        "version": 4,
    }
    body.update(fields)
    return json.dumps(body).encode()


def test_parse_event__builds_the_request() -> None:
    request = parse_event("msg_1", approval(reason="holiday"))

    assert request.delivery_id == "msg_1"
    assert request.type == availability_pb2.HR_EVENT_TYPE_LEAVE_APPROVED
    assert request.employee_id == "E-1"
    assert request.leave_id == "L-1"
    assert request.reason == "holiday"
    assert request.version == 4
    assert request.starts_at.ToDatetime(UTC) == datetime(2030, 1, 31, 9, tzinfo=UTC)
    assert request.ends_at.ToDatetime(UTC) == datetime(2030, 2, 7, 16, 30, tzinfo=UTC)
    assert request.event_time.nanos == 500_000_000


def test_parse_event__return_needs_no_leave_or_times() -> None:
    body = json.dumps(
        {
            "type": "employee.returned",
            "employee_id": "E-1",
            "event_time": "2030-01-01T12:00:00Z",
        }
    ).encode()

    request = parse_event("msg_1", body)

    assert request.type == availability_pb2.HR_EVENT_TYPE_EMPLOYEE_RETURNED
    assert request.leave_id == ""
    assert not request.HasField("starts_at")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": "1999-12-31T23:59:59Z"}, "starts_at"),
        ({"ends_at": "9999-12-31T23:59:59-01:00"}, "ends_at"),
        ({"event_time": "0001-01-01T00:00:00+01:00"}, "event_time"),
        ({"starts_at": "2030-01-31T25:00:00Z"}, "starts_at"),
        ({"version": 2**63}, "version"),
        ({"leave_id": "L" * 129}, "leave_id"),
        ({"reason": "r" * 501}, "reason"),
    ],
)
def test_parse_event__out_of_range_value_is_named(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_event("msg_1", approval(**fields))

    assert caught.value.field == field


BODY_FIELDS = [
    "type",
    "employee_id",
    "leave_id",
    "starts_at",
    "ends_at",
    "reason",
    "event_time",
    "version",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = (
    st.sampled_from(
        [
            "leave.approved",
            "leave.cancelled",
            "employee.returned",
            "E-1",
            "2030-01-31T09:00:00Z",
            "2030-01-30T09:00:00Z",
        ]
    )
    | json_values
)


@given(document=st.dictionaries(st.sampled_from(BODY_FIELDS), field_values))
@settings(max_examples=500, deadline=None)
def test_parse_event__any_document_names_bad_field(
    document: dict[str, Any],
) -> None:
    body = json.dumps(document).encode()

    try:
        request = parse_event("msg_1", body)
    except PayloadError as error:
        assert error.field in BODY_FIELDS
    else:
        assert request.type != availability_pb2.HR_EVENT_TYPE_UNSPECIFIED


@given(body=st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_parse_event__any_bytes_raise_only_payload_error(body: bytes) -> None:
    try:
        parse_event("msg_1", body)
    except PayloadError:
        pass


# Settings -------------------------------------------------------------------------


def test_parse_secrets__decodes_each_entry() -> None:
    unpadded = SECRET_B.rstrip("=")

    secrets = parse_secrets(f" {SECRET_A} ,{unpadded}")

    assert secrets == (KEY_A, KEY_B)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "is not set"),
        (" , ", "is not set"),
        ("secret", "entry 1 is invalid"),
        (f"{SECRET_A},whsec_***", "entry 2 is invalid"),
        ("whsec_" + base64.b64encode(b"short").decode(), "5 bytes"),
    ],
)
def test_parse_secrets__rejects_bad_entries_without_echoing_them(
    raw: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_secrets(raw)

    assert message in str(caught.value)
    assert SECRET_A.removeprefix("whsec_") not in str(caught.value)


# Log budget -----------------------------------------------------------------------


def test_log_budget__counts_lines_over_the_budget() -> None:
    now = [0.0]
    budget = LogBudget(budget=2, window_s=60.0, clock=lambda: now[0])

    first = [budget.take() for _ in range(5)]
    now[0] = 61.0
    after_window = budget.take()

    assert first == [0, 0, None, None, None]
    assert after_window == 3
