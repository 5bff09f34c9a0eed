"""Optional TLS and mutual TLS for gRPC and HTTP servers and gRPC clients, from PEM files.

A server serves TLS when AE_TLS_CERT_FILE and AE_TLS_KEY_FILE are set, and
requires client certificates signed by AE_TLS_CLIENT_CA_FILE when that is set too.
A client verifies servers against AE_TLS_CA_FILE and presents its own certificate
(the same AE_TLS_CERT_FILE and AE_TLS_KEY_FILE) when the server asks for one.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from assignment_engine.core.config import ConfigError, env_str


def _read(variable: str) -> bytes | None:
    name = env_str(variable, "")
    if not name:
        return None
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{variable}={name!r} cannot be read ({exc.strerror})"
        ) from None


@dataclass(frozen=True)
class TlsSettings:
    certificate: bytes | None
    private_key: bytes | None
    # CA that signs client certificates; set to require mutual TLS.
    client_ca: bytes | None
    # CA that signs server certificates, for clients.
    server_ca: bytes | None
    # The files of `certificate` and `private_key`: ssl.SSLContext loads a
    # certificate chain only from files.
    certificate_file: str | None = None
    private_key_file: str | None = None

    @classmethod
    def from_env(cls) -> TlsSettings | None:
        certificate = _read("AE_TLS_CERT_FILE")
        private_key = _read("AE_TLS_KEY_FILE")
        if (certificate is None) != (private_key is None):
            raise ConfigError(
                "AE_TLS_CERT_FILE and AE_TLS_KEY_FILE must be set together"
            )
        settings = cls(
            certificate,
            private_key,
            _read("AE_TLS_CLIENT_CA_FILE"),
            _read("AE_TLS_CA_FILE"),
            certificate_file=env_str("AE_TLS_CERT_FILE", "") or None,
            private_key_file=env_str("AE_TLS_KEY_FILE", "") or None,
        )
        if settings == cls(None, None, None, None):
            return None
        return settings

    def server_ssl_context(self) -> ssl.SSLContext | None:
        """Return the TLS context of an HTTP server, or None to serve plain HTTP."""
        if self.certificate_file is None or self.private_key_file is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.certificate_file, self.private_key_file)
            if self.client_ca is not None:
                context.load_verify_locations(cadata=self.client_ca.decode("ascii"))
                context.verify_mode = ssl.CERT_REQUIRED
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(
                f"AE_TLS_CERT_FILE={self.certificate_file!r}, "
                f"AE_TLS_KEY_FILE={self.private_key_file!r} or AE_TLS_CLIENT_CA_FILE "
                f"is not a valid PEM certificate, matching key or CA ({exc})"
            ) from None
        return context

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if self.certificate is None or self.private_key is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.server_ca,
            private_key=self.private_key,
            certificate_chain=self.certificate,
        )
