"""Settings of the HR webhook gateway, from AE_* environment variables."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from assignment_engine.core.config import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_str,
)

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_AVAILABILITY_ADDRESS = "127.0.0.1:50054"
DEFAULT_CALL_TIMEOUT_S = 10.0
SECRET_PREFIX = "whsec_"
# The gateway's own minimum, which rejects keys short enough to be a
# configuration mistake. It is no rule of Standard Webhooks.
MIN_SECRET_BYTES = 16
SECRETS_VARIABLE = "AE_HR_WEBHOOK_SECRETS"


@dataclass(frozen=True)
class HrGatewaySettings:
    common: CommonSettings
    port: int
    # The decoded HMAC keys. A delivery signed with any of them is accepted, so
    # a new key can be added before the HR system switches to it.
    secrets: tuple[bytes, ...]
    max_body_bytes: int
    availability_address: str
    # Time budget of one RecordHrEvent call, in seconds.
    call_timeout_s: float

    @classmethod
    def from_env(cls) -> HrGatewaySettings:
        return cls(
            common=CommonSettings.from_env(),
            port=env_int("AE_HR_GATEWAY_PORT", DEFAULT_PORT, maximum=65535),
            secrets=parse_secrets(os.environ.get(SECRETS_VARIABLE, "")),
            max_body_bytes=env_int(
                "AE_HR_MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                minimum=1024,
                maximum=16 * 1024 * 1024,
            ),
            availability_address=env_str(
                "AE_AVAILABILITY_ADDRESS", DEFAULT_AVAILABILITY_ADDRESS
            ),
            call_timeout_s=env_float(
                "AE_HR_CALL_TIMEOUT_S",
                DEFAULT_CALL_TIMEOUT_S,
                minimum=0.1,
                maximum=300,
            ),
        )


def parse_secrets(raw: str) -> tuple[bytes, ...]:
    """Decode comma-separated `whsec_<base64>` secrets.

    Raises ConfigError naming the position of a bad entry. Messages never
    contain secret material.
    """
    entries = [entry.strip() for entry in raw.split(",")]
    if not any(entries):
        raise ConfigError(
            f"{SECRETS_VARIABLE} is not set; expected one or more comma-separated "
            f"{SECRET_PREFIX}<base64> secrets"
        )
    secrets = []
    for position, entry in enumerate(entries, start=1):
        secrets.append(decode_secret(entry, position))
    return tuple(secrets)


def decode_secret(entry: str, position: int) -> bytes:
    where = f"{SECRETS_VARIABLE} entry {position}"
    if not entry.startswith(SECRET_PREFIX):
        raise ConfigError(
            f"{where} is invalid; expected a secret starting with {SECRET_PREFIX}"
        )
    encoded = entry[len(SECRET_PREFIX) :]
    # Secrets are often written without base64 padding, so it is restored.
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{where} is invalid; expected base64 after {SECRET_PREFIX}"
        ) from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{where} decodes to {len(key)} bytes; expected at least {MIN_SECRET_BYTES}"
        )
    return key
