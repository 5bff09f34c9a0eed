"""The HR webhook gateway over HTTPS and mutual TLS, with certificates made for the test."""

from __future__ import annotations

import dataclasses
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from assignment_engine.availability.hr_gateway.config import HrGatewaySettings
from assignment_engine.availability.hr_gateway.server import (
    open_availability_channel,
    start_gateway,
)
from assignment_engine.core.runtime import ServiceRuntime
from assignment_engine.core.tls import TlsSettings
from assignment_engine.devstack.pki import make_test_pki

from .test_hr_gateway import (
    EVENTS_PATH,
    REQUEST_TIMEOUT,
    approval,
    gateway_settings,
    signed_headers,
)

pytestmark = pytest.mark.usefixtures("organisation")


@pytest.fixture(scope="module")
def pki() -> dict[str, bytes]:
    return make_test_pki()


def server_tls(
    pki: dict[str, bytes], directory: Path, *, client_ca: bool
) -> TlsSettings:
    """Write the server's certificate and key to `directory`; return settings naming them."""
    certificate_file = directory / "server.pem"
    private_key_file = directory / "server.key"
    certificate_file.write_bytes(pki["server_cert"])
    private_key_file.write_bytes(pki["server_key"])
    return TlsSettings(
        pki["server_cert"],
        pki["server_key"],
        pki["ca"] if client_ca else None,
        None,
        certificate_file=str(certificate_file),
        private_key_file=str(private_key_file),
    )


@asynccontextmanager
async def https_gateway(
    runtime: ServiceRuntime, tls: TlsSettings
) -> AsyncIterator[tuple[str, int]]:
    """Serve the gateway with `tls` on a free loopback port; yield its host and port.

    Its channel to the in-process availability service stays plaintext.
    """
    plain = gateway_settings(runtime, f"127.0.0.1:{runtime.port}")
    settings: HrGatewaySettings = dataclasses.replace(
        plain, common=dataclasses.replace(plain.common, tls=tls)
    )
    channel = open_availability_channel(plain)
    try:
        runner = await start_gateway(settings, channel, host="127.0.0.1", port=0)
        try:
            yield runner.addresses[0][:2]
        finally:
            await runner.cleanup()
    finally:
        await channel.close()


def client_context(
    pki: dict[str, bytes], directory: Path, *, with_certificate: bool
) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=pki["ca"].decode("ascii"))
    if with_certificate:
        certificate_file = directory / "client.pem"
        private_key_file = directory / "client.key"
        certificate_file.write_bytes(pki["client_cert"])
        private_key_file.write_bytes(pki["client_key"])
        context.load_cert_chain(certificate_file, private_key_file)
    return context


async def deliver(url: str, context: ssl.SSLContext | None) -> int:
    body = json.dumps(approval()).encode()
    connector = aiohttp.TCPConnector(ssl=context if context is not None else False)
    async with aiohttp.ClientSession(
        timeout=REQUEST_TIMEOUT, connector=connector
    ) as session:
        async with session.post(
            url + EVENTS_PATH, data=body, headers=signed_headers(body)
        ) as answer:
            return answer.status


async def test_gateway_tls__serves_signed_delivery_over_https(
    runtime: ServiceRuntime, pki: dict[str, bytes], tmp_path: Path
) -> None:
    tls = server_tls(pki, tmp_path, client_ca=False)

    async with https_gateway(runtime, tls) as (host, port):
        status = await deliver(
            f"https://{host}:{port}",
            client_context(pki, tmp_path, with_certificate=False),
        )
        with pytest.raises(aiohttp.ClientError):
            await deliver(f"http://{host}:{port}", None)

    assert status == 200


async def test_gateway_mtls__requires_client_certificate(
    runtime: ServiceRuntime, pki: dict[str, bytes], tmp_path: Path
) -> None:
    tls = server_tls(pki, tmp_path, client_ca=True)

    async with https_gateway(runtime, tls) as (host, port):
        url = f"https://{host}:{port}"
        with pytest.raises(aiohttp.ClientError):
            await deliver(url, client_context(pki, tmp_path, with_certificate=False))
        status = await deliver(
            url, client_context(pki, tmp_path, with_certificate=True)
        )

    assert status == 200
