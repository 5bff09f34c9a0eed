"""Request validation: each check raises `InvalidArgument` naming the field and value.

Servicers call these before touching the database, so a bad request changes
nothing and gets INVALID_ARGUMENT with a message a client developer can act on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from assignment_engine.core.errors import InvalidArgument

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ID_EXPECTED = (
    "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Timestamp bounds accepted from clients: year 2000 to year 2200.
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)


def require_id(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(field, value, f"a required id of {ID_EXPECTED}")
    if not ID_PATTERN.match(value):
        raise InvalidArgument(field, value, ID_EXPECTED)
    return value


def optional_id(field: str, value: str) -> str | None:
    return require_id(field, value) if value else None


def require_uuid(field: str, value: str) -> uuid.UUID:
    if not value:
        raise InvalidArgument(field, value, "a required UUID")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, value, "a UUID such as 3f2b...-...") from None


def require_text(
    field: str,
    value: str,
    *,
    max_length: int,
    min_length: int = 1,
    printable: bool = True,
) -> str:
    if len(value) < min_length:
        if min_length == 1:
            raise InvalidArgument(field, value, "a non-empty string")
        raise InvalidArgument(field, value, f"at least {min_length} characters")
    return optional_text(field, value, max_length=max_length, printable=printable)


def optional_text(
    field: str, value: str, *, max_length: int, printable: bool = True
) -> str:
    if len(value) > max_length:
        raise InvalidArgument(
            field, value, f"at most {max_length} characters, got {len(value)}"
        )
    if printable and any(not ch.isprintable() for ch in value):
        raise InvalidArgument(field, value, "printable characters only")
    return value


def require_ids(field: str, values: Sequence[str], *, max_items: int) -> list[str]:
    if len(values) > max_items:
        raise InvalidArgument(
            field, f"{len(values)} items", f"at most {max_items} items"
        )
    checked = [
        require_id(f"{field}[{index}]", value) for index, value in enumerate(values)
    ]
    duplicates = {value for value in checked if checked.count(value) > 1}
    if duplicates:
        raise InvalidArgument(field, sorted(duplicates)[0], "no duplicate entries")
    return checked


def require_enum(
    field: str, value: int, allowed: Iterable[int], names: dict[int, str]
) -> int:
    allowed_set = set(allowed)
    if value not in allowed_set:
        expected = ", ".join(names[v] for v in sorted(allowed_set))
        raise InvalidArgument(field, names.get(value, value), f"one of {expected}")
    return value


def page_size(field: str, value: int) -> int:
    if value == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            field, value, f"1 to {MAX_PAGE_SIZE}, or 0 for {DEFAULT_PAGE_SIZE}"
        )
    return value


def timestamp_to_datetime(field: str, value: Timestamp) -> datetime:
    if not 0 <= value.nanos < 1_000_000_000:
        raise InvalidArgument(field, value.nanos, "nanos between 0 and 999,999,999")
    try:
        instant = value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(
            field, value.seconds, "a timestamp between 2000 and 2200"
        ) from None
    if not EARLIEST_INSTANT <= instant < LATEST_INSTANT:
        raise InvalidArgument(
            field, instant.isoformat(), "a timestamp between 2000 and 2200"
        )
    return instant


def optional_timestamp(
    field: str, message: object, name: str, *, max_future: timedelta | None = None
) -> datetime | None:
    """Read the Timestamp field `name` of `message` when it is set."""
    if not message.HasField(name):  # type: ignore[attr-defined]
        return None
    instant = timestamp_to_datetime(field, getattr(message, name))
    if max_future is not None and instant > datetime.now(UTC) + max_future:
        raise InvalidArgument(
            field,
            instant.isoformat(),
            f"a time no more than {max_future} in the future",
        )
    return instant
