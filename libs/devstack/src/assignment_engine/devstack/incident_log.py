"""Find, verify and parse the ServiceNow incident event log for the demo replay.

The log is the UCI dataset "Incident management process enriched event log"
(Amaral, Fantinato and Peres, 2018, https://doi.org/10.24432/C57S4H, CC BY 4.0).
It has one row per update to an incident, 141,712 rows for 24,918 incidents.
`locate_log` finds a copy, `parse_log` folds the rows into one `Incident` per
incident, and `build_organisation`, `select_window` and `build_trace` turn the
incidents into the demo's organisation and trace. `load_demo_input` runs the
whole chain, on a synthetic trace when no copy is found. No copy of the log is
stored in the repository.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import re
import time
import urllib.request
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TextIO

logger = logging.getLogger(__name__)

LOG_ENV_VAR = "AE_DEMO_LOG"
LOG_ZIP_NAME = "incident_event_log.zip"
LOG_CSV_NAME = "incident_event_log.csv"
# Digests of the UCI original: the 2,400,214-byte zip and the CSV member inside it.
LOG_ZIP_SHA256 = "6294e29a311647306bfdfc85783f7df66517c197b9cd49aa5ee36ba9c525d1d6"
LOG_CSV_SHA256 = "fd184bbfd62329cfe093e99da2ea7071905f2ead91900b448eb2635870821bef"
UCI_URL = (
    "https://archive.ics.uci.edu/static/public/498/"
    "incident+management+process+enriched+event+log.zip"
)
# Location of the shared copy, relative to the repository root.
SHARED_LOG_PATH = Path("../shared/data/uci-servicenow-incident-log") / LOG_ZIP_NAME
CACHE_DIR = Path(".devstack/cache")
DOWNLOAD_TIMEOUT_S = 10.0
# The UCI download is about 2.4 MB, so anything past this limit is not the log.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
MISSING = "?"


class IncidentLogError(Exception):
    """A copy of the incident log is unreadable, incomplete or failed to download."""


class ChecksumMismatchError(IncidentLogError):
    """A copy of the incident log differs from the published UCI file."""


@dataclass(frozen=True, slots=True)
class LogSource:
    """Where the demo reads its incidents from.

    `kind` is "explicit" (the `AE_DEMO_LOG` path), "shared", "download" or
    "synthetic". `path` is None only for "synthetic". `skipped` contains one
    reason per location that was tried and not used.
    """

    kind: str
    path: Path | None
    verified: bool
    skipped: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        return self.kind == "synthetic"


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


def find_repo_root(start: Path) -> Path | None:
    """Return the nearest directory at or above `start` with a Makefile and proto/."""
    for directory in (start, *start.parents):
        if (directory / "Makefile").is_file() and (directory / "proto").is_dir():
            return directory
    return None


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _check_digest(name: str, expected: str, actual: str) -> None:
    if actual != expected:
        raise ChecksumMismatchError(
            f"SHA-256 mismatch for {name}: expected {expected}, got {actual}. "
            "The file is corrupt or is not the UCI incident event log."
        )


def verify_log_file(path: Path) -> None:
    """Raise ChecksumMismatchError unless `path` contains the published log.

    Accepted are the UCI zip itself, a zip whose member `incident_event_log.zip`
    is that zip, a zip whose CSV member matches the published CSV, and the CSV.
    Raise IncidentLogError when a zip has neither member.
    """
    with path.open("rb") as stream:
        digest = _sha256(stream)
    if digest == LOG_ZIP_SHA256 or digest == LOG_CSV_SHA256:
        return
    if not zipfile.is_zipfile(path):
        _check_digest(str(path), LOG_ZIP_SHA256, digest)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if LOG_ZIP_NAME in names:
            with archive.open(LOG_ZIP_NAME) as member:
                inner = _sha256(member)
            _check_digest(f"{path}!{LOG_ZIP_NAME}", LOG_ZIP_SHA256, inner)
        elif LOG_CSV_NAME in names:
            with archive.open(LOG_CSV_NAME) as member:
                inner = _sha256(member)
            _check_digest(f"{path}!{LOG_CSV_NAME}", LOG_CSV_SHA256, inner)
        else:
            raise IncidentLogError(
                f"{path} contains neither {LOG_ZIP_NAME} nor {LOG_CSV_NAME}: {names}"
            )


@contextlib.contextmanager
def open_log_csv(path: Path) -> Iterator[TextIO]:
    """Open the log's CSV text from a .csv file, the zip, or a zip around the zip."""
    if not zipfile.is_zipfile(path):
        with path.open(encoding="utf-8", newline="") as text:
            yield text
        return
    with contextlib.ExitStack() as stack:
        archive = stack.enter_context(zipfile.ZipFile(path))
        names = archive.namelist()
        if LOG_CSV_NAME not in names and LOG_ZIP_NAME in names:
            # The outer UCI download wraps the 2.4 MB zip, so read that into memory.
            inner = io.BytesIO(archive.read(LOG_ZIP_NAME))
            archive = stack.enter_context(zipfile.ZipFile(inner))
            names = archive.namelist()
        if LOG_CSV_NAME not in names:
            raise IncidentLogError(f"{path} has no member {LOG_CSV_NAME}: {names}")
        member = stack.enter_context(archive.open(LOG_CSV_NAME))
        yield io.TextIOWrapper(member, encoding="utf-8", newline="")


def fetch_log(
    cache_dir: Path, url: str = UCI_URL, timeout_s: float = DOWNLOAD_TIMEOUT_S
) -> Path:
    """Download the log into `cache_dir` unless a verified copy is there already.

    Return the path of the verified copy. Raise IncidentLogError when the
    download fails, takes longer than `timeout_s` or fails verification.
    """
    target = cache_dir / LOG_ZIP_NAME
    if target.is_file():
        try:
            verify_log_file(target)
            return target
        except IncidentLogError as error:
            logger.warning("Discarding cached incident log: %s", error)
            target.unlink()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / (LOG_ZIP_NAME + ".part")
    # NOTE: urlopen's timeout bounds the connection and each read, and the
    # deadline bounds the whole transfer, but neither bounds the DNS lookup.
    deadline = time.monotonic() + timeout_s
    logger.info("Downloading the incident log from %s", url)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            with partial.open("wb") as out:
                received = 0
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise IncidentLogError(
                            f"download exceeds {MAX_DOWNLOAD_BYTES} bytes"
                        )
                    if time.monotonic() > deadline:
                        raise IncidentLogError(
                            f"download timed out after {timeout_s} s"
                        )
                    out.write(chunk)
        _unwrap_download(partial, target)
    except (OSError, zipfile.BadZipFile) as error:
        raise IncidentLogError(f"download from {url} failed: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return target


def _unwrap_download(partial: Path, target: Path) -> None:
    """Move the verified log from the download at `partial` to `target`."""
    verify_log_file(partial)
    if zipfile.is_zipfile(partial):
        with zipfile.ZipFile(partial) as archive:
            if LOG_ZIP_NAME in archive.namelist():
                target.write_bytes(archive.read(LOG_ZIP_NAME))
                return
    partial.replace(target)


def locate_log(
    explicit: str | None,
    *,
    repo_root: Path | None = None,
    download: bool = True,
    url: str = UCI_URL,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> LogSource:
    """Find the incident log: `explicit`, the shared copy, the download, or none.

    `explicit` is the value of `AE_DEMO_LOG`, a .zip or the extracted .csv. A
    copy there that fails verification is still used, with a warning. A shared
    copy that fails verification is skipped. `repo_root` defaults to the nearest
    parent of this module with a Makefile and proto/. Raise FileNotFoundError
    when `explicit` names a file that does not exist.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{LOG_ENV_VAR}={explicit} not found. Set it to the path of "
                f"{LOG_ZIP_NAME} or {LOG_CSV_NAME}, or unset it."
            )
        try:
            verify_log_file(path)
            return LogSource("explicit", path, verified=True)
        except IncidentLogError as error:
            logger.warning("Using the unverified incident log %s: %s", path, error)
            return LogSource("explicit", path, verified=False)
    skipped = [f"{LOG_ENV_VAR} unset"]
    root = repo_root or find_repo_root(Path(__file__).resolve().parent)
    if root is None:
        skipped.append("repository root not found")
        return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))
    shared = (root / SHARED_LOG_PATH).resolve()
    if shared.is_file():
        try:
            verify_log_file(shared)
            return LogSource("shared", shared, verified=True, skipped=tuple(skipped))
        except IncidentLogError as error:
            logger.warning("Skipping the shared incident log: %s", error)
            skipped.append(f"{SHARED_LOG_PATH} invalid: {error}")
    else:
        skipped.append(f"{SHARED_LOG_PATH} absent")
    if not download:
        skipped.append("download disabled")
        return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))
    try:
        path = fetch_log(root / CACHE_DIR, url, timeout_s)
        return LogSource("download", path, verified=True, skipped=tuple(skipped))
    except IncidentLogError as error:
        logger.warning("Incident log download failed: %s", error)
        skipped.append(f"download failed: {error}")
    return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))


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


# The organisation and the trace ------------------------------------------------

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
        # Imported here because the synthetic module imports this one.
        from assignment_engine.devstack import synthetic

        start = start or synthetic.SYNTHETIC_START
        incidents = synthetic.synthetic_trace(seed, days, start=start)
    else:
        incidents = parse_log(source.path)
    window = select_window(incidents, start, days)
    organisation = build_organisation(incidents, wip_limit=wip_limit)
    span = (
        f"{days} days from {window.start:%Y-%m-%d} "
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
