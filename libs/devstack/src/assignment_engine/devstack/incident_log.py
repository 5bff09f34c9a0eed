"""Parse the ServiceNow incident event log into one `Incident` per incident.

The log has one row per update to an incident, 141,712 rows for 24,918
incidents. `parse_log` folds each incident's rows into an `Incident` with the
log's raw names, and `log_source` finds and opens the file.
"""

from __future__ import annotations

import csv
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assignment_engine.devstack.log_source import IncidentLogError, open_log_csv

logger = logging.getLogger(__name__)

MISSING = "?"


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident folded from its update rows, with the log's raw names.

    Times are UTC. `assignment_group` is the first group on the trail, and
    `final_group` and `assigned_to` are the last non-missing values.
    `handling_s` is resolved_at − opened_at (closed_at − opened_at when the
    incident was never resolved), at least 60 s. `net_handling_s` is
    `handling_s` minus the time in an Awaiting state (at least 60 s), or None
    when an update time is missing.
    """

    number: str
    opened_at: datetime
    priority: int
    category: str
    assignment_group: str | None
    final_group: str | None
    assigned_to: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    made_sla: bool
    handling_s: float
    net_handling_s: float | None


def parse_timestamp(
    value: str, cache: dict[str, datetime] | None = None
) -> datetime | None:
    """Parse a day-first `d/m/yyyy HH:MM` log time as UTC, or return None for `?`.

    Raise ValueError for any other format. `cache` maps strings already parsed.
    """
    if value == MISSING or not value:
        return None
    if cache is not None and value in cache:
        return cache[value]
    try:
        day_part, time_part = value.split(" ")
        day, month, year = day_part.split("/")
        hour, minute = time_part.split(":")
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), tzinfo=UTC
        )
    except ValueError as error:
        raise ValueError(
            f"invalid log timestamp {value!r}: expected d/m/yyyy HH:MM"
        ) from error
    if cache is not None:
        cache[value] = parsed
    return parsed


def parse_priority(value: str) -> int:
    """Parse a priority such as `1 - Critical` into 1 to 4, or raise ValueError."""
    head = value.strip()[:1]
    if head not in ("1", "2", "3", "4"):
        raise ValueError(
            f"invalid priority {value!r}: expected '1 - Critical' to '4 - Low'"
        )
    return int(head)


_COLUMNS = (
    "number",
    "sys_mod_count",
    "incident_state",
    "sys_updated_at",
    "opened_at",
    "priority",
    "category",
    "assignment_group",
    "assigned_to",
    "resolved_at",
    "closed_at",
    "made_sla",
)
(_NUMBER, _MOD, _STATE, _UPDATED, _OPENED, _PRIORITY, _CATEGORY, _GROUP,
 _ASSIGNED, _RESOLVED, _CLOSED, _MADE_SLA) = range(len(_COLUMNS))  # fmt: skip


def parse_log(path: Path) -> list[Incident]:
    """Parse the log at `path` into incidents sorted by opened_at, then number.

    Incidents without a category, without opened_at, or with neither resolved_at
    nor closed_at are dropped, and the counts are logged.
    """
    started = time.perf_counter()
    trails: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    with open_log_csv(path) as text:
        reader = csv.reader(text)
        header = next(reader)
        try:
            indexes = [header.index(column) for column in _COLUMNS]
        except ValueError as error:
            raise IncidentLogError(f"{path} is missing a column: {error}") from error
        rows = 0
        for row in reader:
            rows += 1
            trails[row[indexes[_NUMBER]]].append(tuple(row[i] for i in indexes))
    cache: dict[str, datetime] = {}
    incidents: list[Incident] = []
    dropped: dict[str, int] = defaultdict(int)
    for number, trail in trails.items():
        # Sorting is stable, so rows with a repeated sys_mod_count keep file order.
        trail.sort(key=lambda row: int(row[_MOD]))
        try:
            incident = _fold_trail(number, trail, cache, dropped)
        except ValueError as error:
            raise IncidentLogError(f"{path}: incident {number}: {error}") from error
        if incident is not None:
            incidents.append(incident)
    incidents.sort(key=lambda incident: (incident.opened_at, incident.number))
    logger.info(
        "Parsed %d rows into %d incidents in %.2f s (dropped: %s)",
        rows,
        len(incidents),
        time.perf_counter() - started,
        dict(dropped) or "none",
    )
    return incidents


def _last_present(trail: list[tuple[str, ...]], column: int) -> str | None:
    for row in reversed(trail):
        if row[column] != MISSING:
            return row[column]
    return None


def _fold_trail(
    number: str,
    trail: list[tuple[str, ...]],
    cache: dict[str, datetime],
    dropped: dict[str, int],
) -> Incident | None:
    # opened_at, resolved_at and closed_at repeat on every row with final values.
    last = trail[-1]
    category = _last_present(trail, _CATEGORY)
    opened_at = parse_timestamp(last[_OPENED], cache)
    resolved_at = parse_timestamp(last[_RESOLVED], cache)
    closed_at = parse_timestamp(last[_CLOSED], cache)
    end = resolved_at or closed_at

    if category is None:
        dropped["no category"] += 1
        return None
    if opened_at is None:
        dropped["no opened_at"] += 1
        return None
    if end is None:
        dropped["no resolved_at or closed_at"] += 1
        return None

    handling_s = max(60.0, (end - opened_at).total_seconds())
    first_group = next((row[_GROUP] for row in trail if row[_GROUP] != MISSING), None)
    return Incident(
        number=number,
        opened_at=opened_at,
        priority=parse_priority(last[_PRIORITY]),
        category=category,
        assignment_group=first_group,
        final_group=_last_present(trail, _GROUP),
        assigned_to=_last_present(trail, _ASSIGNED),
        resolved_at=resolved_at,
        closed_at=closed_at,
        made_sla=last[_MADE_SLA] == "true",
        handling_s=handling_s,
        net_handling_s=_net_handling_seconds(trail, cache, handling_s, end),
    )


def _net_handling_seconds(
    trail: list[tuple[str, ...]],
    cache: dict[str, datetime],
    handling_s: float,
    end: datetime,
) -> float | None:
    """Return `handling_s` minus the time spent in an Awaiting state before `end`."""
    times = [parse_timestamp(row[_UPDATED], cache) for row in trail]
    waiting_s = 0.0
    for index in range(len(trail) - 1):
        start, stop = times[index], times[index + 1]
        if start is None or stop is None:
            return None
        if trail[index][_STATE].startswith("Awaiting") and start < end:
            waiting_s += max(0.0, (min(stop, end) - start).total_seconds())
    return max(60.0, handling_s - waiting_s)
