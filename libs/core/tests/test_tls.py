"""gRPC over TLS and mutual TLS, with certificates made for the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from assignment_engine.core.auth import AuthSettings, TokenVerifier
from assignment_engine.core.channels import open_channel
from assignment_engine.core.config import ConfigError
from assignment_engine.core.grpc_server import GrpcServer
from assignment_engine.core.tls import TlsSettings
from assignment_engine.devstack.pki import make_test_pki

SECRET = b"0123456789abcdef0123456789abcdef-test"


@pytest.fixture(scope="module")
def pki() -> dict[str, bytes]:
    return make_test_pki()


async def serve(tls: TlsSettings) -> GrpcServer:
    server = GrpcServer(
        [],
        host="127.0.0.1",
        port=0,
        max_message_bytes=1024 * 1024,
        verifier=TokenVerifier(AuthSettings.for_secret(SECRET)),
        tls=tls,
    )
    await server.start()
    return server


async def check_health(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=5
    )
    return reply.status


@pytest.fixture
async def tls_server(pki: dict[str, bytes]) -> AsyncIterator[GrpcServer]:
    server = await serve(TlsSettings(pki["server_cert"], pki["server_key"], None, None))
    yield server
    await server.stop(0)


@pytest.fixture
async def mtls_server(pki: dict[str, bytes]) -> AsyncIterator[GrpcServer]:
    server = await serve(
        TlsSettings(pki["server_cert"], pki["server_key"], pki["ca"], None)
    )
    yield server
    await server.stop(0)


async def test_tls__client_trusting_the_ca_connects(
    tls_server: GrpcServer, pki: dict[str, bytes]
) -> None:
    channel = open_channel(
        f"localhost:{tls_server.port}",
        max_message_bytes=1024 * 1024,
        tls=TlsSettings(None, None, None, pki["ca"]),
    )

    status = await check_health(channel)
    await channel.close()

    assert status == health_pb2.HealthCheckResponse.SERVING


async def test_tls__plaintext_client_is_refused(tls_server: GrpcServer) -> None:
    channel = grpc.aio.insecure_channel(f"localhost:{tls_server.port}")

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check_health(channel)
    await channel.close()

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls__client_certificate_is_required(
    mtls_server: GrpcServer, pki: dict[str, bytes]
) -> None:
    without = open_channel(
        f"localhost:{mtls_server.port}",
        max_message_bytes=1024 * 1024,
        tls=TlsSettings(None, None, None, pki["ca"]),
    )
    with_certificate = open_channel(
        f"localhost:{mtls_server.port}",
        max_message_bytes=1024 * 1024,
        tls=TlsSettings(pki["client_cert"], pki["client_key"], None, pki["ca"]),
    )

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check_health(without)
    status = await check_health(with_certificate)
    await without.close()
    await with_certificate.close()

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_server_ssl_context__rejects_key_of_another_certificate(
    pki: dict[str, bytes], tmp_path: Path
) -> None:
    certificate_file = tmp_path / "server.pem"
    private_key_file = tmp_path / "client.key"
    certificate_file.write_bytes(pki["server_cert"])
    private_key_file.write_bytes(pki["client_key"])
    tls = TlsSettings(
        pki["server_cert"],
        pki["client_key"],
        None,
        None,
        certificate_file=str(certificate_file),
        private_key_file=str(private_key_file),
    )

    with pytest.raises(ConfigError) as raised:
        tls.server_ssl_context()

    assert f"AE_TLS_CERT_FILE={str(certificate_file)!r}" in str(raised.value)
    assert "matching key" in str(raised.value)


def test_server_ssl_context__none_without_files(pki: dict[str, bytes]) -> None:
    tls = TlsSettings(pki["server_cert"], pki["server_key"], None, None)

    assert tls.server_ssl_context() is None
