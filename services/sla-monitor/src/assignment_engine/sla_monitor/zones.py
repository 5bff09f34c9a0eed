"""IANA time zone names accepted for calendars and the organisation."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Files of the zone database that are not zones of a region: "localtime" is the
# host's own zone and "posixrules" a template for POSIX TZ strings.
REJECTED_NAMES = frozenset({"localtime", "posixrules"})
ZONE_EXPECTED = "an IANA time zone name such as 'Europe/London' or 'UTC'"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_iana_zone(name: str) -> bool:
    """Return whether `name` is a zone of the IANA database that zoneinfo can load."""
    if name in REJECTED_NAMES or name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
