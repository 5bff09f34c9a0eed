"""gRPC over TLS and mutual TLS, with certificates made for the test."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import AsyncIterator

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from assignment_engine.core.auth import AuthSettings, TokenVerifier
from assignment_engine.core.channels import open_channel
from assignment_engine.core.grpc_server import GrpcServer
from assignment_engine.core.tls import TlsSettings

SECRET = b"0123456789abcdef0123456789abcdef-test"


def pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def issue(
    name: str,
    issuer_key: ec.EllipticCurvePrivateKey | None,
    issuer_name: x509.Name | None,
    *,
    ca: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
    certificate = builder.sign(issuer_key or key, hashes.SHA256())
    return key, certificate


@pytest.fixture(scope="module")
def pki() -> dict[str, bytes]:
    ca_key, ca_cert = issue("test ca", None, None, ca=True)
    server_key, server_cert = issue("localhost", ca_key, ca_cert.subject)
    client_key, client_cert = issue("queue", ca_key, ca_cert.subject)
    encoding = serialization.Encoding.PEM
    return {
        "ca": ca_cert.public_bytes(encoding),
        "server_cert": server_cert.public_bytes(encoding),
        "server_key": pem(server_key),
        "client_cert": client_cert.public_bytes(encoding),
        "client_key": pem(client_key),
    }


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
