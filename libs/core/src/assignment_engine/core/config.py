"""Typed settings from `AE_*` environment variables, validated at start-up.

Every getter raises `ConfigError` naming the variable, its value and what was
expected, so a service that is misconfigured stops at once with a clear message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assignment_engine.core.auth import AuthSettings
    from assignment_engine.core.tls import TlsSettings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/assignment_engine"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_SUBJECT_PREFIX = "ae"
DEFAULT_BIND_HOST = "127.0.0.1"
DEFAULT_DB_POOL_MIN = 2
DEFAULT_DB_POOL_MAX = 10
DEFAULT_GRPC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_GRPC_CLIENT_TIMEOUT_S = 10.0

SUBJECT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ConfigError(ValueError):
    """An environment variable is missing or has an invalid value."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{name} is not set; expected a value")
        return default
    return value


def env_int(
    name: str, default: int, *, minimum: int = 0, maximum: int = 2**31 - 1
) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is invalid; expected an integer") from None
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"{name}={value} is out of range; expected {minimum} to {maximum}"
        )
    return value


def env_float(
    name: str, default: float, *, minimum: float = 0.0, maximum: float = 1e12
) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is invalid; expected a number") from None
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"{name}={value} is out of range; expected {minimum} to {maximum}"
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is invalid; expected true or false")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ConfigError(
            f"{name}={value!r} is invalid; expected one of {', '.join(choices)}"
        )
    return value


@dataclass(frozen=True)
class CommonSettings:
    """Settings every service reads: where the database and NATS are, and how to serve."""

    database_url: str
    nats_url: str
    # Prefix of every NATS subject, stream and durable consumer name.
    subject_prefix: str
    bind_host: str
    db_pool_min: int
    db_pool_max: int
    grpc_max_message_bytes: int
    log_level: str
    auth: AuthSettings
    tls: TlsSettings | None = None

    @classmethod
    def from_env(cls) -> CommonSettings:
        from assignment_engine.core.auth import AuthSettings
        from assignment_engine.core.tls import TlsSettings

        prefix = env_str("AE_SUBJECT_PREFIX", DEFAULT_SUBJECT_PREFIX)
        if not SUBJECT_PREFIX_PATTERN.match(prefix):
            raise ConfigError(
                f"AE_SUBJECT_PREFIX={prefix!r} is invalid; expected 1 to 32 letters, digits, '_' or '-'"
            )
        pool_min = env_int(
            "AE_DB_POOL_MIN", DEFAULT_DB_POOL_MIN, minimum=1, maximum=500
        )
        pool_max = env_int(
            "AE_DB_POOL_MAX", DEFAULT_DB_POOL_MAX, minimum=1, maximum=500
        )
        if pool_max < pool_min:
            raise ConfigError(
                f"AE_DB_POOL_MAX={pool_max} is below AE_DB_POOL_MIN={pool_min}; expected max >= min"
            )
        return cls(
            database_url=env_str("AE_DATABASE_URL", DEFAULT_DATABASE_URL),
            nats_url=env_str("AE_NATS_URL", DEFAULT_NATS_URL),
            subject_prefix=prefix,
            bind_host=env_str("AE_BIND_HOST", DEFAULT_BIND_HOST),
            db_pool_min=pool_min,
            db_pool_max=pool_max,
            grpc_max_message_bytes=env_int(
                "AE_GRPC_MAX_MESSAGE_BYTES",
                DEFAULT_GRPC_MAX_MESSAGE_BYTES,
                minimum=64 * 1024,
                maximum=256 * 1024 * 1024,
            ),
            log_level=env_choice(
                "AE_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")
            ),
            auth=AuthSettings.from_env(),
            tls=TlsSettings.from_env(),
        )
