"""Build the demo replay's organisation and trace from parsed incidents.

`build_organisation` folds assignment groups into units and resolvers into
staff, `select_window` picks the incidents to replay, and `build_trace` turns
them into trace items. `load_demo_input` runs the whole chain from locating the
log, and falls back to a synthetic trace when no copy is found.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from assignment_engine.devstack import synthetic
from assignment_engine.devstack.incident_log import Incident, parse_log
from assignment_engine.devstack.log_source import locate_log

logger = logging.getLogger(__name__)

# NOTE: an estimate. At noon on 16 March and 13 April 2016 the median resolver had
# 5 to 7 incidents open (opened but not resolved), and the 90th percentile 23 to 30.
DEFAULT_WIP_LIMIT = 10
# Each resolver's 8 most frequent categories cover 91% of the incidents resolvers
# were last assigned to, and a resolver with all of theirs (up to 32) would match
# nearly every item.
SKILLS_PER_STAFF = 8
OTHER_UNIT_ID = "other"
ADMIN_ID = "admin-1"
# Window search range: 98% of the incidents were opened in March to May 2016.
# NOTE: the busiest 7 days start on 2 March 2016, and made_sla is atypical
# there: 22% against 61-82% for weeks from 21 March on.
SEARCH_FROM = date(2016, 3, 1)
SEARCH_UNTIL = date(2016, 6, 1)
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the organisation: one assignment group, or the folded rest."""

    id: str
    name: str
    supervisor_id: str


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff profile. `role` is "staff", "supervisor" or "admin".

    `wip_limit` is the maximum number of active assignments, and 0 takes the
    member out of rotation.
    """

    id: str
    unit_id: str
    display_name: str
    role: str
    skills: tuple[str, ...]
    wip_limit: int


@dataclass(frozen=True, slots=True)
class Organisation:
    """Units and staff, and the unit id of every assignment group that has one."""

    units: tuple[Unit, ...]
    staff: tuple[StaffMember, ...]
    unit_of_group: dict[str, str] = field(default_factory=dict)

    def unit_for(self, group: str | None) -> str:
        """Return the unit id of a log group name, "other" when unknown or missing."""
        return self.unit_of_group.get(group or "", OTHER_UNIT_ID)


@dataclass(frozen=True, slots=True)
class Window:
    """Incidents opened in [start, end), sorted by opened_at, and their SLA rate."""

    start: datetime
    end: datetime
    incidents: tuple[Incident, ...]
    made_sla_rate: float | None


@dataclass(frozen=True, slots=True)
class TraceItem:
    """One arrival of the replay, with offsets and durations in real seconds."""

    external_id: str
    arrival_offset_s: float
    priority: int
    required_skill: str
    target_unit_id: str
    handling_s: float
    made_sla: bool


def to_id(name: str) -> str:
    """Map a log name such as `Resolver 31` to an id such as `resolver-31`.

    Raise ValueError when no valid id remains.
    """
    candidate = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower())
    candidate = candidate.strip("-._")[:64].rstrip("-._")
    if not _ID_PATTERN.match(candidate):
        raise ValueError(f"cannot map {name!r} to an id: no letters or digits")
    return candidate


def _ranked(counts: Counter[str]) -> list[str]:
    """Return the keys by count, highest first, with ties in name order."""
    return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def build_organisation(
    incidents: list[Incident],
    units: int = 20,
    wip_limit: int = DEFAULT_WIP_LIMIT,
    skills_per_staff: int = SKILLS_PER_STAFF,
) -> Organisation:
    """Fold groups into units, resolvers into staff and categories into skills.

    The `units - 1` groups with the most incidents (by first group) keep a unit
    each, and the rest share unit "other". A resolver's home unit is the folded
    group they were most often the last resolver in. Their skills are their
    `skills_per_staff` most frequent categories, most frequent first. The
    resolver with most incidents in their home unit supervises it. A unit
    without resolvers gets a supervisor `sup-<unit>` with the unit's top
    categories. `admin-1` joins unit "other" with no skills and WIP limit 0.
    """
    if units < 2:
        raise ValueError(f"units must be at least 2, got {units}")
    group_counts = Counter(i.assignment_group for i in incidents if i.assignment_group)
    kept_groups = _ranked(group_counts)[: units - 1]
    unit_of_group = {group: to_id(group) for group in kept_groups}
    unit_names = {to_id(group): group for group in kept_groups}
    unit_names[OTHER_UNIT_ID] = "Other groups"

    home_counts: dict[str, Counter[str]] = defaultdict(Counter)
    skill_counts: dict[str, Counter[str]] = defaultdict(Counter)
    unit_skill_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for incident in incidents:
        skill = to_id(incident.category)
        target_unit = unit_of_group.get(incident.assignment_group or "", OTHER_UNIT_ID)
        unit_skill_counts[target_unit][skill] += 1
        if incident.assigned_to is None:
            continue
        resolver = to_id(incident.assigned_to)
        skill_counts[resolver][skill] += 1
        group = incident.final_group or incident.assignment_group
        if group is not None:
            home_counts[resolver][unit_of_group.get(group, OTHER_UNIT_ID)] += 1

    names = {to_id(i.assigned_to): i.assigned_to for i in incidents if i.assigned_to}
    home = {
        resolver: (_ranked(home_counts[resolver]) or [OTHER_UNIT_ID])[0]
        for resolver in names
    }
    supervisors: dict[str, str] = {}
    for resolver in sorted(names):
        unit = home[resolver]
        current = supervisors.get(unit)
        if current is None or home_counts[resolver][unit] > home_counts[current][unit]:
            supervisors[unit] = resolver

    staff = [
        StaffMember(
            id=resolver,
            unit_id=home[resolver],
            display_name=names[resolver],
            role="supervisor" if supervisors[home[resolver]] == resolver else "staff",
            skills=tuple(_ranked(skill_counts[resolver])[:skills_per_staff]),
            wip_limit=wip_limit,
        )
        for resolver in sorted(names)
    ]
    for unit_id, name in unit_names.items():
        if unit_id in supervisors:
            continue
        supervisors[unit_id] = f"sup-{unit_id}"
        top = _ranked(unit_skill_counts[unit_id])[:skills_per_staff]
        staff.append(
            StaffMember(
                f"sup-{unit_id}", unit_id, f"Supervisor of {name}", "supervisor",
                tuple(top), wip_limit,
            )
        )  # fmt: skip
    staff.append(StaffMember(ADMIN_ID, OTHER_UNIT_ID, "Administrator", "admin", (), 0))
    return Organisation(
        units=tuple(Unit(u, n, supervisors[u]) for u, n in unit_names.items()),
        staff=tuple(staff),
        unit_of_group=unit_of_group,
    )


def _busiest_start(incidents: list[Incident], days: int) -> date:
    arrivals = Counter(incident.opened_at.date() for incident in incidents)
    first, last = SEARCH_FROM, SEARCH_UNTIL - timedelta(days=days)
    in_range = any(SEARCH_FROM <= day < SEARCH_UNTIL for day in arrivals)
    if not in_range or last < first:
        first = min(arrivals)
        last = max(first, max(arrivals) - timedelta(days=days - 1))
    candidates = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    return max(
        candidates,
        key=lambda s: (
            sum(arrivals[s + timedelta(days=k)] for k in range(days)),
            -s.toordinal(),
        ),
    )


def select_window(
    incidents: list[Incident], start: date | None = None, days: int = 7
) -> Window:
    """Select the incidents opened in `days` days from midnight UTC of `start`.

    Without `start`, select the window with most arrivals that starts at a
    midnight and lies within 1 March to 31 May 2016, the earliest on a tie. When
    no incident falls in that range, search the whole span of the incidents.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if start is None:
        if not incidents:
            raise ValueError("no incidents to select a window from")
        start = _busiest_start(incidents, days)
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    end = begin + timedelta(days=days)
    chosen = tuple(
        sorted(
            (i for i in incidents if begin <= i.opened_at < end),
            key=lambda i: (i.opened_at, i.number),
        )
    )
    rate = sum(i.made_sla for i in chosen) / len(chosen) if chosen else None
    return Window(begin, end, chosen, rate)


def build_trace(window: Window, organisation: Organisation) -> list[TraceItem]:
    """Build one trace item per incident of the window, routed by its first group."""
    return [
        TraceItem(
            external_id=incident.number,
            arrival_offset_s=(incident.opened_at - window.start).total_seconds(),
            priority=incident.priority,
            required_skill=to_id(incident.category),
            target_unit_id=organisation.unit_for(incident.assignment_group),
            handling_s=incident.handling_s,
            made_sla=incident.made_sla,
        )
        for incident in window.incidents
    ]


@dataclass(frozen=True, slots=True)
class DemoInput:
    """Input of the demo replay: the organisation, the trace and their source."""

    source_description: str
    synthetic: bool
    organisation: Organisation
    trace: list[TraceItem]
    log_made_sla_rate: float | None


def load_demo_input(
    explicit_path: str | None,
    start: date | None = None,
    days: int = 7,
    wip_limit: int = DEFAULT_WIP_LIMIT,
    *,
    seed: int = 0,
    repo_root: Path | None = None,
    download: bool = True,
) -> DemoInput:
    """Locate the log, or generate a synthetic one, and build the demo's input.

    The organisation comes from every incident of the log, and the trace from
    the window that `select_window` picks for `start` and `days`. Without a log,
    `seed` drives a synthetic trace that starts on `start` (default Monday
    7 March 2016). `explicit_path` is the value of `AE_DEMO_LOG`.
    """
    source = locate_log(explicit_path, repo_root=repo_root, download=download)
    if source.path is None:
        start = start or synthetic.SYNTHETIC_START
        incidents = synthetic.synthetic_trace(seed, days, start=start)
    else:
        incidents = parse_log(source.path)
    window = select_window(incidents, start, days)
    organisation = build_organisation(incidents, wip_limit=wip_limit)
    span = (
        f"{days} {'day' if days == 1 else 'days'} from {window.start:%Y-%m-%d} "
        f"({len(window.incidents):,} incidents)"
    )
    if source.path is None:
        description = (
            f"no incident log found ({', '.join(source.skipped)}); replaying a "
            f"synthetic trace shaped like the log (seed {seed}), {span}"
        )
    else:
        unverified = "" if source.verified else " (SHA-256 not verified)"
        description = (
            f"replaying the ServiceNow incident log from {source.path}"
            f"{unverified}, {span}"
        )
    logger.info("Demo input: %s", description)
    return DemoInput(
        source_description=description,
        synthetic=source.path is None,
        organisation=organisation,
        trace=build_trace(window, organisation),
        log_made_sla_rate=window.made_sla_rate,
    )
