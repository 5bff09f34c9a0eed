"""A certificate authority, a server and a client certificate, made for tests."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(
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


def make_test_pki() -> dict[str, bytes]:
    """Return PEM data of a CA and of a server and a client certificate it signed.

    Keys: "ca", "server_cert", "server_key", "client_cert", "client_key". The
    server certificate names localhost and 127.0.0.1, and all expire in an hour.
    """
    ca_key, ca_cert = _issue("test ca", None, None, ca=True)
    server_key, server_cert = _issue("localhost", ca_key, ca_cert.subject)
    client_key, client_cert = _issue("queue", ca_key, ca_cert.subject)
    encoding = serialization.Encoding.PEM
    return {
        "ca": ca_cert.public_bytes(encoding),
        "server_cert": server_cert.public_bytes(encoding),
        "server_key": _pem(server_key),
        "client_cert": client_cert.public_bytes(encoding),
        "client_key": _pem(client_key),
    }
