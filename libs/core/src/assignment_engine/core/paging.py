"""Opaque page tokens for keyset pagination.

A token is URL-safe base64 of a small JSON list holding the sort key of the last
row of the previous page, plus a tag naming the listing, so a token from one
listing is rejected by another.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from assignment_engine.core.errors import InvalidArgument


def encode_token(listing: str, key: list[Any]) -> str:
    raw = json.dumps([listing, *key], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(field: str, token: str, listing: str, length: int) -> list[Any] | None:
    """Return the key stored in `token`, or None for an empty token (the first page)."""
    if not token:
        return None
    if len(token) > 512:
        raise InvalidArgument(field, token, "a page token from a previous response")
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument(
            field, token, "a page token from a previous response"
        ) from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != length + 1
        or decoded[0] != listing
        or any(not isinstance(part, (str, int)) for part in decoded[1:])
    ):
        raise InvalidArgument(
            field, token, f"a page token from a previous {listing} response"
        )
    return decoded[1:]
