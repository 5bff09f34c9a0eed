"""Verification of Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`, and each
`v1,<base64>` entry of the space-separated webhook-signature header is an
HMAC-SHA256 of it. A delivery is authentic when any entry matches the HMAC
under any active secret, and fresh when its timestamp is within the tolerance
of the server clock in either direction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping, Sequence

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 5 * 60
# More entries than any sender needs during a key rotation; a longer header is
# rejected so one request cannot make the gateway compute many comparisons.
MAX_SIGNATURES = 16
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{1,12}$")


class SignatureError(Exception):
    """A delivery whose headers are missing, malformed, stale or unsigned."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WebhookVerifier:
    """Checks a delivery's signature against every active secret."""

    def __init__(
        self,
        secrets: Sequence[bytes],
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is required")
        self.secrets = tuple(secrets)
        self.tolerance_s = tolerance_s
        self.clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Return the delivery id of an authentic, fresh delivery.

        `headers` must look names up case-insensitively, as aiohttp's do.
        Raises SignatureError saying what was wrong, without key material.
        """
        delivery_id = _header(headers, ID_HEADER)
        timestamp = _header(headers, TIMESTAMP_HEADER)
        signatures = _header(headers, SIGNATURE_HEADER)

        if not TIMESTAMP_PATTERN.match(timestamp):
            raise SignatureError(
                f"{TIMESTAMP_HEADER} is invalid; expected Unix time in whole seconds"
            )
        skew = int(timestamp) - self.clock()
        if abs(skew) > self.tolerance_s:
            direction = "ahead of" if skew > 0 else "behind"
            raise SignatureError(
                f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s {direction} the server "
                f"clock; expected at most {self.tolerance_s:.0f} s"
            )

        candidates = [entry for entry in signatures.split(" ") if entry]
        if len(candidates) > MAX_SIGNATURES:
            raise SignatureError(
                f"{SIGNATURE_HEADER} has {len(candidates)} entries; expected at "
                f"most {MAX_SIGNATURES}"
            )
        # Header values arrive decoded with surrogateescape, so this encoding
        # restores the bytes the sender signed.
        signed = f"{delivery_id}.{timestamp}.".encode("utf-8", "surrogateescape") + body
        expected = [
            base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
            for key in self.secrets
        ]
        for candidate in candidates:
            version, _, value = candidate.partition(",")
            if version != SIGNATURE_VERSION:
                continue
            presented = value.encode("utf-8", "surrogateescape")
            if any(hmac.compare_digest(digest, presented) for digest in expected):
                return delivery_id
        raise SignatureError(
            f"no {SIGNATURE_HEADER} entry matches the body under an active secret"
        )


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise SignatureError(f"the {name} header is missing")
    return value
