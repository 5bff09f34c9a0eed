"""Tests of the incident log parser, the organisation folding and the synthetic trace.

Only `test_busiest_week_real_log` needs the real log; where the shared copy is
absent it checks the synthetic fallback instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import statistics
import time
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from assignment_engine.devstack import incident_log as il
from assignment_engine.devstack import log_source, replay_input
from assignment_engine.devstack.synthetic import synthetic_trace

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
COLUMNS = (
    "number",
    "incident_state",
    "sys_mod_count",
    "made_sla",
    "opened_at",
    "sys_updated_at",
    "category",
    "priority",
    "assignment_group",
    "assigned_to",
    "resolved_at",
    "closed_at",
)
REPO_ROOT = log_source.find_repo_root(Path(log_source.__file__).resolve().parent)


def _row(number: str, mod: int, state: str, updated: str, **values: str) -> dict:
    row = {
        "number": number,
        "incident_state": state,
        "sys_mod_count": str(mod),
        "made_sla": "true",
        "opened_at": "1/3/2016 08:00",
        "sys_updated_at": updated,
        "category": "Category 7",
        "priority": "3 - Moderate",
        "assignment_group": "Group 70",
        "assigned_to": "Resolver 31",
        "resolved_at": "1/3/2016 12:00",
        "closed_at": "6/3/2016 12:00",
    }
    row.update(values)
    return row


def _csv_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _sample_rows() -> list[dict]:
    """Rows of four incidents, written out of sys_mod_count order."""
    return [
        _row("INC1", 2, "Resolved", "1/3/2016 12:00", assigned_to="Resolver 5"),
        _row("INC1", 0, "New", "1/3/2016 08:05", assignment_group="?"),
        _row("INC1", 1, "Awaiting User Info", "1/3/2016 09:00",
             assignment_group="Group 56"),
        _row("INC1", 3, "Closed", "6/3/2016 12:00", made_sla="false",
             assignment_group="Group 24", assigned_to="?"),
        # No category on any row, so the incident is dropped.
        _row("INC2", 0, "New", "2/3/2016 08:00", category="?"),
        # Never resolved: closed_at − opened_at is the handling time.
        _row("INC3", 0, "Closed", "3/3/2016 10:00", opened_at="3/3/2016 10:00",
             resolved_at="?", closed_at="3/3/2016 11:30", priority="1 - Critical"),
        # Resolved within seconds: the handling time is floored at 60 s.
        _row("INC4", 0, "Resolved", "4/3/2016 10:00", opened_at="4/3/2016 10:00",
             resolved_at="4/3/2016 10:00", priority="4 - Low"),
    ]  # fmt: skip


def _incident(number: str, opened_at: datetime, **values: object) -> il.Incident:
    fields: dict = {
        "number": number,
        "opened_at": opened_at,
        "priority": 3,
        "category": "Category 1",
        "assignment_group": "Group 1",
        "final_group": "Group 1",
        "assigned_to": "Resolver 1",
        "resolved_at": opened_at + timedelta(hours=1),
        "closed_at": None,
        "made_sla": True,
        "handling_s": 3600.0,
        "net_handling_s": None,
    }
    fields.update(values)
    return il.Incident(**fields)


def test_parse_timestamp_day_first() -> None:
    assert il.parse_timestamp("29/2/2016 01:16") == datetime(
        2016, 2, 29, 1, 16, tzinfo=UTC
    )
    assert il.parse_timestamp("5/3/2016 12:00") == datetime(
        2016, 3, 5, 12, 0, tzinfo=UTC
    )
    assert il.parse_timestamp("?") is None
    assert il.parse_timestamp("") is None


def test_parse_timestamp_cache_and_errors() -> None:
    cache: dict[str, datetime] = {}
    first = il.parse_timestamp("13/4/2016 23:59", cache)
    assert cache == {"13/4/2016 23:59": first}
    assert il.parse_timestamp("13/4/2016 23:59", cache) is first
    for bad in ("2016-04-13 23:59", "13/13/2016 10:00", "13/4/2016", "x/4/2016 10:00"):
        with pytest.raises(ValueError, match="invalid log timestamp"):
            il.parse_timestamp(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1 - Critical", 1), ("2 - High", 2), ("3 - Moderate", 3), ("4 - Low", 4)],
)
def test_parse_priority_levels(value: str, expected: int) -> None:
    assert il.parse_priority(value) == expected


@pytest.mark.parametrize("value", ["5 - Planning", "?", "", "High"])
def test_parse_priority_rejects_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="invalid priority"):
        il.parse_priority(value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Resolver 31", "resolver-31"),
        ("Group 56", "group-56"),
        ("Category 55", "category-55"),
        ("Opened by  8", "opened-by-8"),
        ("  Ünit/7 (a) ", "nit-7-a"),
        ("x" * 80, "x" * 64),
    ],
)
def test_to_id_mapping(name: str, expected: str) -> None:
    mapped = replay_input.to_id(name)
    assert mapped == expected
    assert ID_PATTERN.match(mapped)


def test_to_id_rejects_empty() -> None:
    with pytest.raises(ValueError, match="cannot map"):
        replay_input.to_id("?? --")


def test_parse_log_folds_trails(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(_csv_text(_sample_rows()), encoding="utf-8")
    incidents = {incident.number: incident for incident in il.parse_log(path)}
    assert sorted(incidents) == ["INC1", "INC3", "INC4"]

    first = incidents["INC1"]
    assert first.opened_at == datetime(2016, 3, 1, 8, 0, tzinfo=UTC)
    assert first.assignment_group == "Group 56"
    assert first.final_group == "Group 24"
    assert first.assigned_to == "Resolver 5"
    assert first.made_sla is False
    assert first.priority == 3
    assert first.handling_s == 4 * 3600.0
    # Awaiting User Info lasted from 09:00 to the resolution at 12:00.
    assert first.net_handling_s == 1 * 3600.0

    unresolved = incidents["INC3"]
    assert unresolved.resolved_at is None
    assert unresolved.handling_s == 90 * 60.0
    assert unresolved.priority == 1
    assert incidents["INC4"].handling_s == 60.0


def test_parse_log_zip_and_nested_zip(tmp_path: Path) -> None:
    inner = tmp_path / "incident_event_log.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(log_source.LOG_CSV_NAME, _csv_text(_sample_rows()))
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, log_source.LOG_ZIP_NAME)
    numbers = [i.number for i in il.parse_log(inner)]
    assert numbers == ["INC1", "INC3", "INC4"]
    assert [i.number for i in il.parse_log(outer)] == numbers


def test_parse_log_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("number,incident_state\nINC1,New\n", encoding="utf-8")
    with pytest.raises(log_source.IncidentLogError, match="missing a column"):
        il.parse_log(path)


def _check_organisation(organisation: replay_input.Organisation, units: int) -> None:
    unit_ids = [unit.id for unit in organisation.units]
    assert len(unit_ids) == units
    assert len(set(unit_ids)) == units
    assert unit_ids[-1] == replay_input.OTHER_UNIT_ID
    staff = {member.id: member for member in organisation.staff}
    assert len(staff) == len(organisation.staff)
    for member in organisation.staff:
        assert member.unit_id in unit_ids
        assert ID_PATTERN.match(member.id)
        assert len(member.skills) <= replay_input.SKILLS_PER_STAFF
        assert all(ID_PATTERN.match(skill) for skill in member.skills)
    for unit in organisation.units:
        assert ID_PATTERN.match(unit.id)
        supervisors = [
            m.id for m in organisation.staff
            if m.unit_id == unit.id and m.role == "supervisor"
        ]  # fmt: skip
        assert supervisors == [unit.supervisor_id]
    admin = staff[replay_input.ADMIN_ID]
    assert admin.role == "admin"
    assert admin.skills == ()
    assert admin.wip_limit == 0


def test_organisation_folds_synthetic_into_20_units() -> None:
    incidents = synthetic_trace(seed=3)
    organisation = replay_input.build_organisation(incidents, wip_limit=4)
    _check_organisation(organisation, units=20)
    groups = {i.assignment_group for i in incidents}
    assert len(groups) > 20
    assert len(organisation.unit_of_group) == 19
    assert all(m.wip_limit == 4 for m in organisation.staff if m.role != "admin")


def test_organisation_unit_without_resolver() -> None:
    start = datetime(2016, 3, 1, tzinfo=UTC)
    incidents = []
    # Groups 1..25 with 26 - n incidents each, so the ranking is Group 1 first.
    for group in range(1, 26):
        for k in range(26 - group):
            resolver = None if group == 2 else f"Resolver {group}"
            incidents.append(
                _incident(
                    f"INC{group:02d}{k:02d}",
                    start,
                    category=f"Category {group % 5}",
                    assignment_group=f"Group {group}",
                    final_group=f"Group {group}",
                    assigned_to=resolver,
                )
            )
    organisation = replay_input.build_organisation(incidents)
    _check_organisation(organisation, units=20)
    units = {unit.id: unit for unit in organisation.units}
    assert units["group-2"].supervisor_id == "sup-group-2"
    assert units["group-1"].supervisor_id == "resolver-1"
    staff = {member.id: member for member in organisation.staff}
    assert staff["sup-group-2"].skills == ("category-2",)
    assert staff["resolver-25"].unit_id == replay_input.OTHER_UNIT_ID
    # Groups 20 to 25 fold into "other", whose supervisor has most incidents there.
    assert units[replay_input.OTHER_UNIT_ID].supervisor_id == "resolver-20"
    assert organisation.unit_for("Group 25") == replay_input.OTHER_UNIT_ID
    assert organisation.unit_for(None) == replay_input.OTHER_UNIT_ID


def test_select_window_busiest_and_given_start() -> None:
    base = datetime(2016, 4, 1, 9, tzinfo=UTC)
    incidents = [_incident(f"A{k}", base + timedelta(hours=k)) for k in range(10)]
    incidents += [
        _incident(f"B{k}", base + timedelta(days=20, minutes=k), made_sla=k % 2 == 0)
        for k in range(30)
    ]
    busiest = replay_input.select_window(incidents, days=7)
    assert busiest.start.date() == date(2016, 4, 15)
    assert len(busiest.incidents) == 30
    assert busiest.made_sla_rate == 0.5
    first_day = replay_input.select_window(incidents, start=date(2016, 4, 1), days=1)
    assert [i.number for i in first_day.incidents] == [f"A{k}" for k in range(10)]
    assert first_day.made_sla_rate == 1.0
    empty = replay_input.select_window(incidents, start=date(2016, 1, 1))
    assert empty.incidents == ()
    assert empty.made_sla_rate is None
    with pytest.raises(ValueError, match="days must be at least 1"):
        replay_input.select_window(incidents, days=0)


def test_busiest_week_real_log(tmp_path: Path) -> None:
    """The busiest week of the real log; where no copy exists, the fallback instead."""
    path = REPO_ROOT / log_source.SHARED_LOG_PATH if REPO_ROOT else None
    if path is None or not path.is_file():
        fallback = log_source.locate_log(None, repo_root=tmp_path, download=False)
        assert fallback.synthetic
        return
    log_source.verify_log_file(path)
    started = time.perf_counter()
    incidents = il.parse_log(path)
    elapsed = time.perf_counter() - started
    print(f"parsed {len(incidents)} incidents in {elapsed:.2f} s")
    assert len(incidents) == 24911
    window = replay_input.select_window(incidents)
    assert window.start == datetime(2016, 3, 2, tzinfo=UTC)
    assert len(window.incidents) == 2375
    assert window.made_sla_rate == pytest.approx(0.2223, abs=1e-4)
    organisation = replay_input.build_organisation(incidents)
    _check_organisation(organisation, units=20)
    assert len(organisation.staff) == 221
    trace = replay_input.build_trace(window, organisation)
    assert len(trace) == 2375
    assert trace[0].target_unit_id == "group-70"


def test_synthetic_trace_is_deterministic() -> None:
    assert synthetic_trace(seed=7) == synthetic_trace(seed=7)
    assert synthetic_trace(seed=7) != synthetic_trace(seed=8)


def test_synthetic_trace_shape() -> None:
    incidents = synthetic_trace(seed=0, days=14)
    per_day = Counter(i.opened_at.date() for i in incidents)
    weekdays = [n for day, n in per_day.items() if day.weekday() < 5]
    weekends = [n for day, n in per_day.items() if day.weekday() >= 5]
    assert len(weekdays) == 10
    assert len(weekends) == 4
    assert min(weekdays) > max(weekends)
    assert 300 < statistics.mean(weekdays) < 420
    assert 20 < statistics.mean(weekends) < 70
    office_hours = sum(1 for i in incidents if 8 <= i.opened_at.hour < 17)
    assert office_hours / len(incidents) > 0.75

    priorities = Counter(i.priority for i in incidents)
    assert 0.92 < priorities[3] / len(incidents) < 0.96
    assert 0 < priorities[1] < priorities[2] < priorities[4]

    hours = sorted(i.handling_s / 3600 for i in incidents)
    assert 15 < statistics.median(hours) < 30
    assert 250 < hours[int(0.9 * len(hours))] < 550
    made_sla = sum(i.made_sla for i in incidents) / len(incidents)
    assert 0.55 < made_sla < 0.72
    largest_group = Counter(i.assignment_group for i in incidents).most_common(1)
    assert 0.33 < largest_group[0][1] / len(incidents) < 0.43


def test_verify_rejects_corrupted_file(tmp_path: Path) -> None:
    fake = tmp_path / "incident_event_log.zip"
    fake.write_bytes(b"not a zip at all")
    digest = hashlib.sha256(b"not a zip at all").hexdigest()
    with pytest.raises(log_source.ChecksumMismatchError) as error:
        log_source.verify_log_file(fake)
    assert log_source.LOG_ZIP_SHA256 in str(error.value)
    assert digest in str(error.value)


def test_verify_rejects_corrupted_zip(tmp_path: Path) -> None:
    fake = tmp_path / "incident_event_log.zip"
    content = _csv_text(_sample_rows()).encode()
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr(log_source.LOG_CSV_NAME, content)
    with pytest.raises(log_source.ChecksumMismatchError) as error:
        log_source.verify_log_file(fake)
    assert log_source.LOG_CSV_SHA256 in str(error.value)
    assert hashlib.sha256(content).hexdigest() in str(error.value)


def test_verify_rejects_zip_without_log(tmp_path: Path) -> None:
    fake = tmp_path / "other.zip"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(log_source.IncidentLogError, match="contains neither"):
        log_source.verify_log_file(fake)


def test_fetch_log_unwraps_nested_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(log_source.LOG_CSV_NAME, _csv_text(_sample_rows()))
    monkeypatch.setattr(
        log_source, "LOG_ZIP_SHA256", hashlib.sha256(inner.read_bytes()).hexdigest()
    )
    outer = tmp_path / "download.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, log_source.LOG_ZIP_NAME)
    cache = tmp_path / "cache"
    fetched = log_source.fetch_log(cache, url=outer.as_uri())
    assert fetched == cache / log_source.LOG_ZIP_NAME
    assert fetched.read_bytes() == inner.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == [log_source.LOG_ZIP_NAME]
    # A verified cached copy is used without downloading again.
    assert log_source.fetch_log(cache, url=(tmp_path / "gone.zip").as_uri()) == fetched


def test_fetch_log_rejects_mismatch(tmp_path: Path) -> None:
    served = tmp_path / "served.zip"
    served.write_bytes(b"corrupt download")
    cache = tmp_path / "cache"
    with pytest.raises(
        log_source.ChecksumMismatchError, match=log_source.LOG_ZIP_SHA256
    ):
        log_source.fetch_log(cache, url=served.as_uri())
    assert list(cache.iterdir()) == []


def test_fetch_log_unreachable_fails_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(log_source.IncidentLogError, match="failed"):
        log_source.fetch_log(
            tmp_path, url=(tmp_path / "missing.zip").as_uri(), timeout_s=1
        )
    assert time.monotonic() - started < 5


def test_locate_log_explicit_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"AE_DEMO_LOG=.* not found"):
        log_source.locate_log(str(tmp_path / "absent.zip"), repo_root=tmp_path)
    unverified = tmp_path / "copy.csv"
    unverified.write_text(_csv_text(_sample_rows()), encoding="utf-8")
    source = log_source.locate_log(str(unverified), repo_root=tmp_path)
    assert source.kind == "explicit"
    assert source.path == unverified
    assert source.verified is False


def test_locate_log_falls_back_to_synthetic(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shared = (root / log_source.SHARED_LOG_PATH).resolve()
    root.mkdir()
    source = log_source.locate_log(None, repo_root=root, download=False)
    assert source.synthetic
    assert source.path is None
    assert source.skipped == (
        "AE_DEMO_LOG unset",
        f"{log_source.SHARED_LOG_PATH} absent",
        "download disabled",
    )
    shared.parent.mkdir(parents=True)
    shared.write_bytes(b"corrupt shared copy")
    source = log_source.locate_log(None, repo_root=root, download=False)
    assert source.synthetic
    assert "SHA-256 mismatch" in source.skipped[1]


def test_load_demo_input_synthetic(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    demo = replay_input.load_demo_input(
        None, days=7, wip_limit=6, repo_root=root, download=False
    )
    assert demo.synthetic
    assert demo.source_description.startswith(
        "no incident log found (AE_DEMO_LOG unset, "
    )
    assert "replaying a synthetic trace shaped like the log" in demo.source_description
    _check_organisation(demo.organisation, units=20)
    unit_ids = {unit.id for unit in demo.organisation.units}
    offsets = [item.arrival_offset_s for item in demo.trace]
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0]
    assert offsets[-1] < 7 * 86400
    assert all(item.target_unit_id in unit_ids for item in demo.trace)
    assert all(ID_PATTERN.match(item.required_skill) for item in demo.trace)
    assert demo.log_made_sla_rate is not None
    assert 0.5 < demo.log_made_sla_rate < 0.75
    again = replay_input.load_demo_input(
        None, days=7, wip_limit=6, repo_root=root, download=False
    )
    assert again.trace == demo.trace
