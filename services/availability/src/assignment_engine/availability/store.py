"""The SQL of units, staff profiles and availability; leave is in leave_store.py.

Every write runs in one transaction through `write_organisation`, which the
single upserts share with ImportOrganisation. Lock order, the same in every
transaction: the units written, then the staff written (FOR NO KEY UPDATE, by
id), then the supervisors named from outside the request (FOR SHARE). The
assigner locks a staff_load row and then reads the staff row FOR SHARE, so a
profile or availability change and an assignment decision never interleave.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from assignment_engine.api.v1 import events_pb2
from assignment_engine.availability import convert
from assignment_engine.availability.authorization import availability_source
from assignment_engine.core import logs, subjects
from assignment_engine.core.db import run_in_transaction
from assignment_engine.core.errors import AlreadyExists, FailedPrecondition, NotFound
from assignment_engine.core.outbox import add_event, add_events
from assignment_engine.core.permissions import Principal
from assignment_engine.core.sql import load_queries

logger = logging.getLogger(__name__)
queries = load_queries("assignment_engine.availability", "store.sql")

# Availability values that make a person eligible for new work.
ELIGIBLE = frozenset({"available", "busy"})

# Builds the field path of the entry at an index, e.g. "staff[3]", or "staff"
# for the single upserts.
Label = Callable[[int], str]


@dataclass(frozen=True)
class UnitInput:
    id: str
    name: str
    supervisor_id: str | None
    timezone: str
    default_calendar_id: str | None = None


@dataclass(frozen=True)
class StaffInput:
    id: str
    unit_id: str
    display_name: str
    # The database spelling: "staff", "supervisor" or "admin".
    role: str
    skills: list[str]
    # Skill name to level, for the skills whose level is above 0.
    skill_levels: dict[str, int]
    wip_limit: int
    hr_employee_id: str | None
    escalates_to_id: str | None


@dataclass(frozen=True)
class WriteResult:
    units_created: set[str]
    units_updated: int
    staff_created: set[str]
    staff_updated: int
    # Staff ids for which a capacity.freed event was written.
    capacity_freed: list[str]


@dataclass(frozen=True)
class AvailabilityChange:
    staff: asyncpg.Record
    previous: str
    # The database spelling of the recorded source, e.g. "supervisor_override".
    source: str
    capacity_freed: bool


def _unit_columns(units: Sequence[UnitInput]) -> list[list[Any]]:
    return [
        [unit.id for unit in units],
        [unit.name for unit in units],
        [unit.supervisor_id for unit in units],
        [unit.timezone for unit in units],
        [unit.default_calendar_id for unit in units],
    ]


def _staff_columns(staff: Sequence[StaffInput]) -> list[list[Any]]:
    return [
        [member.id for member in staff],
        [member.unit_id for member in staff],
        [member.display_name for member in staff],
        [member.role for member in staff],
        [json.dumps(member.skills) for member in staff],
        [json.dumps(member.skill_levels) for member in staff],
        [member.wip_limit for member in staff],
        [member.hr_employee_id for member in staff],
        [member.escalates_to_id for member in staff],
    ]


def _single(name: str) -> Label:
    return lambda index: name


def _indexed(name: str) -> Label:
    return lambda index: f"{name}[{index}]"


class AvailabilityStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # Writes -------------------------------------------------------------------

    async def upsert_unit(self, unit: UnitInput) -> tuple[asyncpg.Record, bool]:
        """Create or replace one unit; return its row and whether it was created."""

        async def work(conn: asyncpg.Connection) -> tuple[asyncpg.Record, bool]:
            result = await write_organisation(
                conn, [unit], [], _single("unit"), _indexed("staff")
            )
            row = await conn.fetchrow(queries.get_unit, unit.id)
            return row, unit.id in result.units_created

        row, created = await run_in_transaction(
            self.pool, work, action="upsert unit", unit_id=unit.id
        )
        logger.info(
            "%s unit %s",
            "created" if created else "updated",
            unit.id,
            extra=logs.fields(
                event="unit_created" if created else "unit_updated",
                unit_id=unit.id,
                supervisor_id=unit.supervisor_id,
            ),
        )
        return row, created

    async def upsert_staff(
        self, member: StaffInput
    ) -> tuple[asyncpg.Record, bool, bool]:
        """Create or replace one profile.

        Returns the row, whether it was created and whether capacity.freed was
        written.
        """

        async def work(conn: asyncpg.Connection) -> tuple[asyncpg.Record, WriteResult]:
            result = await write_organisation(
                conn, [], [member], _indexed("units"), _single("staff")
            )
            return await conn.fetchrow(queries.get_staff, member.id), result

        row, result = await run_in_transaction(
            self.pool, work, action="upsert staff", staff_id=member.id
        )
        created = member.id in result.staff_created
        logger.info(
            "%s staff member %s",
            "created" if created else "updated",
            member.id,
            extra=logs.fields(
                event="staff_created" if created else "staff_updated",
                staff_id=member.id,
                unit_id=member.unit_id,
                wip_limit=member.wip_limit,
                capacity_freed=bool(result.capacity_freed),
            ),
        )
        return row, created, bool(result.capacity_freed)

    async def import_organisation(
        self, units: Sequence[UnitInput], staff: Sequence[StaffInput]
    ) -> WriteResult:
        """Create or replace all of `units` and `staff` in one transaction."""

        async def work(conn: asyncpg.Connection) -> WriteResult:
            return await write_organisation(
                conn, units, staff, _indexed("units"), _indexed("staff")
            )

        result = await run_in_transaction(
            self.pool,
            work,
            action="import organisation",
            units=len(units),
            staff=len(staff),
        )
        logger.info(
            "imported %d units and %d staff",
            len(units),
            len(staff),
            extra=logs.fields(
                event="organisation_imported",
                units_created=len(result.units_created),
                units_updated=result.units_updated,
                staff_created=len(result.staff_created),
                staff_updated=result.staff_updated,
                capacity_freed=len(result.capacity_freed),
            ),
        )
        return result

    async def set_availability(
        self,
        staff_id: str,
        status: str,
        until: datetime | None,
        reason: str,
        principal: Principal,
    ) -> AvailabilityChange:
        """Set a person's availability and write the events of the change.

        `status` uses the database spelling. `principal` must be allowed
        SET_AVAILABILITY on the person, which is checked under the row lock, and
        the source recorded follows from their role. AvailabilityChanged is
        written on every call, so a repeated status with a new reason is published
        too. CapacityFreed is written only when the person moves from unavailable
        or on_leave to available or busy. The change detaches any leave that set
        the current availability, so that leave's end leaves it as it is.
        """

        async def work(conn: asyncpg.Connection) -> AvailabilityChange:
            locked = await conn.fetchrow(queries.lock_availability, staff_id)
            if locked is None:
                raise NotFound(f"staff member {staff_id!r} not found (staff_id)")
            source = availability_source(principal, staff_id, locked["unit_id"])
            previous = locked["availability"]
            await conn.execute(
                queries.set_availability, staff_id, status, until, reason, source
            )
            changed = events_pb2.AvailabilityChanged(
                staff_id=staff_id,
                previous=convert.AVAILABILITY[previous],  # type: ignore[arg-type]
                current=convert.AVAILABILITY[status],  # type: ignore[arg-type]
                source=convert.AVAILABILITY_SOURCE[source],  # type: ignore[arg-type]
            )
            await add_event(conn, subjects.AVAILABILITY_CHANGED, changed)
            freed = previous not in ELIGIBLE and status in ELIGIBLE
            if freed:
                event = events_pb2.CapacityFreed(
                    staff_id=staff_id,
                    unit_id=locked["unit_id"],
                    reason="became_available",
                )
                await add_event(conn, subjects.CAPACITY_FREED, event)
            row = await conn.fetchrow(queries.get_staff, staff_id)
            return AvailabilityChange(row, previous, source, freed)

        change = await run_in_transaction(
            self.pool, work, action="set availability", staff_id=staff_id
        )
        logger.info(
            "availability of %s changed from %s to %s",
            staff_id,
            change.previous,
            status,
            extra=logs.fields(
                event="availability_changed",
                staff_id=staff_id,
                previous=change.previous,
                current=status,
                source=change.source,
                caller=principal.subject,
                capacity_freed=change.capacity_freed,
            ),
        )
        return change

    # Reads ----------------------------------------------------------------------

    async def list_units(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(queries.list_units)

    async def get_staff(self, staff_id: str) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(queries.get_staff, staff_id)
        if row is None:
            raise NotFound(f"staff member {staff_id!r} not found (staff_id)")
        return row

    async def list_staff(
        self, unit_id: str | None, after: str | None, limit: int
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(queries.list_staff, unit_id, after, limit)


async def write_organisation(
    conn: asyncpg.Connection,
    units: Sequence[UnitInput],
    staff: Sequence[StaffInput],
    unit_label: Label,
    staff_label: Label,
) -> WriteResult:
    """Create or replace units and staff inside the caller's transaction.

    Entries must be validated, with unique ids. References may name entries of
    the same call or existing rows. Raises NotFound for a missing unit, escalation
    target or supervisor, AlreadyExists for an HR employee id held by someone
    outside the call, and FailedPrecondition when a supervisor would not be a
    member of their unit. Messages name the field path built by the labels.
    """
    await _check_references(conn, units, staff, unit_label, staff_label)
    await _check_calendars(conn, units, unit_label)

    unit_ids = [unit.id for unit in units]
    staff_ids = [member.id for member in staff]
    existing_units = {
        row["id"] for row in await conn.fetch(queries.lock_units, unit_ids)
    }
    previous = {
        row["id"]: row for row in await conn.fetch(queries.lock_staff, staff_ids)
    }
    await _check_hr_employee_ids(conn, staff, staff_label)
    await _lock_outside_supervisors(conn, units, set(staff_ids), unit_label)

    units_created = await _write_units(conn, units, existing_units)
    staff_created = await _write_staff(conn, staff, previous)

    moved = [
        member.id
        for member in staff
        if member.id in previous and previous[member.id]["unit_id"] != member.unit_id
    ]
    await _check_supervisors(conn, units, staff, moved, unit_label, staff_label)
    try:
        await conn.execute(queries.check_deferred_constraints)
    except asyncpg.ForeignKeyViolationError as exc:
        # The checks above cover every committed reference, so a violation here
        # comes from a concurrent change.
        raise NotFound(
            f"a referenced unit or staff member does not exist: {exc.detail}"
        ) from exc

    freed = await _write_capacity_events(conn, staff, previous)
    return WriteResult(
        units_created=units_created,
        units_updated=len(units) - len(units_created),
        staff_created=staff_created,
        staff_updated=len(staff) - len(staff_created),
        capacity_freed=freed,
    )


async def _check_calendars(
    conn: asyncpg.Connection, units: Sequence[UnitInput], unit_label: Label
) -> None:
    """Raise NotFound for the first unit naming a business calendar that does not exist."""
    named = sorted(
        {unit.default_calendar_id for unit in units if unit.default_calendar_id}
    )
    if not named:
        return
    found = {
        row["id"] for row in await conn.fetch(queries.existing_calendar_ids, named)
    }
    for index, unit in enumerate(units):
        if unit.default_calendar_id and unit.default_calendar_id not in found:
            raise NotFound(
                f"calendar {unit.default_calendar_id!r} not found "
                f"({unit_label(index)}.default_calendar_id)"
            )


async def _check_references(
    conn: asyncpg.Connection,
    units: Sequence[UnitInput],
    staff: Sequence[StaffInput],
    unit_label: Label,
    staff_label: Label,
) -> None:
    """Raise NotFound for the first staff entry naming a unit or escalation target that does not exist."""
    request_units = {unit.id for unit in units}
    outside_units = sorted({m.unit_id for m in staff} - request_units)
    if outside_units:
        found = {
            row["id"]
            for row in await conn.fetch(queries.existing_unit_ids, outside_units)
        }
        for index, member in enumerate(staff):
            if member.unit_id not in request_units and member.unit_id not in found:
                raise NotFound(
                    f"unit {member.unit_id!r} not found ({staff_label(index)}.unit_id)"
                )

    request_staff = {member.id for member in staff}
    targets = {m.escalates_to_id for m in staff if m.escalates_to_id is not None}
    outside_staff = sorted(targets - request_staff)
    if outside_staff:
        found = {
            row["id"]
            for row in await conn.fetch(queries.existing_staff_ids, outside_staff)
        }
        for index, member in enumerate(staff):
            target = member.escalates_to_id
            if (
                target is not None
                and target not in request_staff
                and target not in found
            ):
                raise NotFound(
                    f"staff member {target!r} not found ({staff_label(index)}.escalates_to_id)"
                )


async def _check_hr_employee_ids(
    conn: asyncpg.Connection, staff: Sequence[StaffInput], staff_label: Label
) -> None:
    """Raise AlreadyExists for the first HR employee id held by someone outside `staff`."""
    hr_ids = [m.hr_employee_id for m in staff if m.hr_employee_id is not None]
    if not hr_ids:
        return
    rows = await conn.fetch(
        queries.hr_employee_id_owners, hr_ids, [member.id for member in staff]
    )
    owners = {row["hr_employee_id"]: row["id"] for row in rows}
    for index, member in enumerate(staff):
        owner = owners.get(member.hr_employee_id or "")
        if owner is not None:
            raise AlreadyExists(
                f"hr_employee_id {member.hr_employee_id!r} belongs to staff member "
                f"{owner!r} ({staff_label(index)}.hr_employee_id); clear it there first"
            )


async def _lock_outside_supervisors(
    conn: asyncpg.Connection,
    units: Sequence[UnitInput],
    request_staff: set[str],
    unit_label: Label,
) -> None:
    """Share-lock the supervisors named from outside the request, or raise NotFound for a missing one."""
    named = {u.supervisor_id for u in units if u.supervisor_id is not None}
    outside = sorted(named - request_staff)
    if not outside:
        return
    found = {row["id"] for row in await conn.fetch(queries.share_lock_staff, outside)}
    for index, unit in enumerate(units):
        supervisor = unit.supervisor_id
        if (
            supervisor is not None
            and supervisor not in request_staff
            and supervisor not in found
        ):
            raise NotFound(
                f"staff member {supervisor!r} not found ({unit_label(index)}.supervisor_id)"
            )


async def _write_units(
    conn: asyncpg.Connection, units: Sequence[UnitInput], existing: set[str]
) -> set[str]:
    """Insert the new units and update the others; return the ids created."""
    new = [unit for unit in units if unit.id not in existing]
    created: set[str] = set()
    if new:
        rows = await conn.fetch(queries.insert_units, *_unit_columns(new))
        created = {row["id"] for row in rows}
    # Includes units a concurrent transaction created after lock_units ran.
    updates = [unit for unit in units if unit.id not in created]
    if updates:
        await conn.execute(queries.update_units, *_unit_columns(updates))
    return created


async def _write_staff(
    conn: asyncpg.Connection,
    staff: Sequence[StaffInput],
    previous: dict[str, asyncpg.Record],
) -> set[str]:
    """Insert the new staff with their load rows and update the others; return the ids created."""
    existing = [member for member in staff if member.id in previous]
    new = [member for member in staff if member.id not in previous]
    created: set[str] = set()
    try:
        if existing:
            await conn.execute(
                queries.clear_changed_hr_employee_ids,
                [member.id for member in existing],
                [member.hr_employee_id for member in existing],
            )
        if new:
            rows = await conn.fetch(queries.insert_staff, *_staff_columns(new))
            created = {row["id"] for row in rows}
        # Includes staff a concurrent transaction created after lock_staff ran.
        updates = [member for member in staff if member.id not in created]
        if updates:
            await conn.execute(queries.update_staff, *_staff_columns(updates))
    except asyncpg.UniqueViolationError as exc:
        # _check_hr_employee_ids covers every committed owner, so a violation
        # here comes from a concurrent write of the same HR employee id.
        raise AlreadyExists(
            f"an hr_employee_id of the request was just taken by another staff "
            f"member ({exc.constraint_name}): {exc.detail}"
        ) from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound(f"a referenced unit does not exist: {exc.detail}") from exc
    if created:
        await conn.execute(queries.insert_loads, sorted(created))
    return created


async def _check_supervisors(
    conn: asyncpg.Connection,
    units: Sequence[UnitInput],
    staff: Sequence[StaffInput],
    moved: list[str],
    unit_label: Label,
    staff_label: Label,
) -> None:
    """Raise unless every unit written, or supervised by someone moved, has a member as supervisor."""
    if not any(unit.supervisor_id for unit in units) and not moved:
        return
    rows = await conn.fetch(
        queries.supervisor_problems, [unit.id for unit in units], moved
    )
    if not rows:
        return

    unit_index = {unit.id: index for index, unit in enumerate(units)}
    staff_index = {member.id: index for index, member in enumerate(staff)}
    # Report the earliest entry of the request: units first, then moved staff.
    rows = sorted(
        rows,
        key=lambda row: (
            row["unit_id"] not in unit_index,
            unit_index.get(row["unit_id"], 0),
            staff_index.get(row["supervisor_id"], 0),
        ),
    )
    problem = rows[0]
    unit_id = problem["unit_id"]
    supervisor = problem["supervisor_id"]

    if unit_id in unit_index:
        field = f"{unit_label(unit_index[unit_id])}.supervisor_id"
        if not problem["supervisor_exists"]:
            raise NotFound(f"staff member {supervisor!r} not found ({field})")
        raise FailedPrecondition(
            f"supervisor {supervisor!r} of unit {unit_id!r} is a member of unit "
            f"{problem['supervisor_unit_id']!r} ({field}); a supervisor must be a "
            "member of the unit, so move them first or choose a member"
        )

    field = f"{staff_label(staff_index[supervisor])}.unit_id"
    raise FailedPrecondition(
        f"staff member {supervisor!r} supervises unit {unit_id!r} and cannot move to "
        f"unit {problem['supervisor_unit_id']!r} ({field}); give unit {unit_id!r} "
        "another supervisor first"
    )


async def _write_capacity_events(
    conn: asyncpg.Connection,
    staff: Sequence[StaffInput],
    previous: dict[str, asyncpg.Record],
) -> list[str]:
    """Write capacity.freed for each eligible person whose WIP limit went up.

    A new person counts as raised from 0 and starts available. Returns the
    staff ids written.
    """
    freed: list[str] = []
    events = []
    for member in staff:
        before = previous.get(member.id)
        old_limit = before["wip_limit"] if before is not None else 0
        availability = before["availability"] if before is not None else "available"
        if member.wip_limit <= old_limit or availability not in ELIGIBLE:
            continue
        events.append(
            events_pb2.CapacityFreed(
                staff_id=member.id, unit_id=member.unit_id, reason="wip_limit_raised"
            )
        )
        freed.append(member.id)
    await add_events(conn, subjects.CAPACITY_FREED, events)
    return freed
