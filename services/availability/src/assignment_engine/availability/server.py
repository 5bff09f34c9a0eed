"""The AvailabilityService servicer: validate, authorize, call the store, convert.

Each RPC validates its request, resolves the caller against their staff record
and checks the permission matrix of `assignment_engine.core.permissions` before
it reads or changes data, so a denied call gets PERMISSION_DENIED and changes
nothing. Changes to one person's availability or leave are authorized inside
the transaction that locks their staff row, against the unit read under that
lock.

Behaviour beyond availability.proto:

- UpsertUnit requires the supervisor to be a member of the unit already, so a
  new unit gets its supervisor in a second call, after its staff exist, or in
  ImportOrganisation, which checks membership after writing everything.
- UpsertStaff and ImportOrganisation reject moving a supervisor out of the unit
  they supervise with FAILED_PRECONDITION. Give the unit another supervisor
  first, or change both in one ImportOrganisation.
- Lowering a WIP limit below the person's active assignments is accepted: the
  assignments stay, and the person gets no new work until they drop below it.
- capacity.freed with reason "wip_limit_raised" is written when the limit of an
  available or busy person goes up. A new person counts as raised from 0.
- SetAvailability rejects `until` unless the status is UNAVAILABLE or ON_LEAVE,
  so becoming AVAILABLE or BUSY clears the stored time. Setting the current
  status again is accepted and writes staff.availability_changed but no
  capacity.freed.
- The availability source recorded is `manual` when callers change their own
  availability or leave, `supervisor_override` for a supervisor acting on a
  member of their unit, `admin` for an admin, and `hr_system` for RecordHrEvent.
- CancelLeave of a cancelled leave returns it unchanged.
- RecordHrEvent requires leave_id for LEAVE_APPROVED and LEAVE_CANCELLED. An
  EMPLOYEE_RETURNED without one ends every active HR leave of the person.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence

import grpc

from assignment_engine.api.v1 import availability_pb2, availability_pb2_grpc, common_pb2
from assignment_engine.availability import convert, leave_requests
from assignment_engine.availability.hr_events import HrEventStore, HrOutcome
from assignment_engine.availability.leave_store import LeaveStore
from assignment_engine.availability.store import (
    AvailabilityStore,
    StaffInput,
    UnitInput,
)
from assignment_engine.core import paging, permissions, validation
from assignment_engine.core.errors import InvalidArgument
from assignment_engine.core.permissions import Action

MAX_NAME_LENGTH = 200
MAX_TIMEZONE_LENGTH = 64
MAX_SKILLS = 64
MAX_SKILL_LEVEL = 10
MAX_WIP_LIMIT = 1000
MAX_HR_EMPLOYEE_ID_LENGTH = 64
MAX_REASON_LENGTH = 500
MAX_IMPORT_UNITS = 2_000
MAX_IMPORT_STAFF = 100_000
DEFAULT_TIMEZONE = "UTC"
# Files of the zoneinfo directory that ZoneInfo loads but that name no IANA zone:
# "localtime" is the host's own zone.
HOST_ZONE_FILES = frozenset({"localtime", "posixrules"})
LIST_LISTING = "staff"

ROLE_NAMES = {value: name for name, value in common_pb2.Role.items()}
AVAILABILITY_NAMES = {
    value: name for name, value in common_pb2.AvailabilityStatus.items()
}
VALID_ROLES = list(convert.ROLE_NAMES)
VALID_AVAILABILITY = list(convert.AVAILABILITY_NAMES)
# Statuses for which SetAvailability accepts `until`.
UNTIL_STATUSES = frozenset({"unavailable", "on_leave"})


def require_range(field: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidArgument(field, value, f"{low} to {high}")
    return value


def parse_timezone(field: str, value: str) -> str:
    """Return an IANA time zone name; the empty string means UTC."""
    if not value:
        return DEFAULT_TIMEZONE
    expected = "an IANA time zone name such as 'Asia/Riyadh', or empty for UTC"
    if len(value) > MAX_TIMEZONE_LENGTH or value in HOST_ZONE_FILES:
        raise InvalidArgument(field, value, expected)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        # ZoneInfo raises ValueError for paths such as '../x' or '/etc/x', and
        # may raise OSError or UnicodeError when the key is no usable file name.
        raise InvalidArgument(field, value, expected) from None
    return value


def parse_unit(path: str, unit: common_pb2.Unit) -> UnitInput:
    return UnitInput(
        id=validation.require_id(f"{path}.id", unit.id),
        name=validation.require_text(
            f"{path}.name", unit.name, max_length=MAX_NAME_LENGTH
        ),
        supervisor_id=validation.optional_id(
            f"{path}.supervisor_id", unit.supervisor_id
        ),
        timezone=parse_timezone(f"{path}.timezone", unit.timezone),
        default_calendar_id=validation.optional_id(
            f"{path}.default_calendar_id", unit.default_calendar_id
        ),
    )


def parse_skills(
    path: str, skills: Sequence[common_pb2.Skill]
) -> tuple[list[str], dict[str, int]]:
    """Return the skill names in request order and the levels above 0."""
    if len(skills) > MAX_SKILLS:
        raise InvalidArgument(
            f"{path}.skills", f"{len(skills)} skills", f"at most {MAX_SKILLS} skills"
        )
    names: list[str] = []
    levels: dict[str, int] = {}
    first_index: dict[str, int] = {}
    for index, skill in enumerate(skills):
        field = f"{path}.skills[{index}]"
        name = validation.require_id(f"{field}.name", skill.name)
        if name in first_index:
            raise InvalidArgument(
                f"{field}.name",
                name,
                f"a skill not listed before, but skills[{first_index[name]}] has it",
            )
        first_index[name] = index
        level = require_range(f"{field}.level", skill.level, 0, MAX_SKILL_LEVEL)
        names.append(name)
        if level > 0:
            levels[name] = level
    return names, levels


def parse_staff(path: str, staff: common_pb2.Staff) -> StaffInput:
    """Validate a profile; availability and active_assignments are ignored."""
    staff_id = validation.require_id(f"{path}.id", staff.id)
    unit_id = validation.require_id(f"{path}.unit_id", staff.unit_id)
    display_name = validation.optional_text(
        f"{path}.display_name", staff.display_name, max_length=MAX_NAME_LENGTH
    )
    role = validation.require_enum(f"{path}.role", staff.role, VALID_ROLES, ROLE_NAMES)
    skills, levels = parse_skills(path, staff.skills)
    wip_limit = require_range(f"{path}.wip_limit", staff.wip_limit, 0, MAX_WIP_LIMIT)
    hr_employee_id = validation.optional_text(
        f"{path}.hr_employee_id",
        staff.hr_employee_id,
        max_length=MAX_HR_EMPLOYEE_ID_LENGTH,
    )
    escalates_to_id = validation.optional_id(
        f"{path}.escalates_to_id", staff.escalates_to_id
    )
    if escalates_to_id == staff_id:
        raise InvalidArgument(
            f"{path}.escalates_to_id",
            escalates_to_id,
            f"another staff member's id, not {path}.id itself",
        )
    return StaffInput(
        id=staff_id,
        unit_id=unit_id,
        display_name=display_name,
        role=convert.ROLE_NAMES[role],
        skills=skills,
        skill_levels=levels,
        wip_limit=wip_limit,
        hr_employee_id=hr_employee_id or None,
        escalates_to_id=escalates_to_id,
    )


def reject_duplicates(
    name: str, values: Sequence[str | None], what: Callable[[int], str]
) -> None:
    """Raise InvalidArgument at the second occurrence of a value in `values`.

    None entries are skipped; `what(index)` names the field at an index.
    """
    first_index: dict[str, int] = {}
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in first_index:
            raise InvalidArgument(
                what(index),
                value,
                f"a value not used before in {name}, but {what(first_index[value])} has it",
            )
        first_index[value] = index


def parse_import(
    request: availability_pb2.ImportOrganisationRequest,
) -> tuple[list[UnitInput], list[StaffInput]]:
    if len(request.units) > MAX_IMPORT_UNITS:
        raise InvalidArgument(
            "units",
            f"{len(request.units)} units",
            f"at most {MAX_IMPORT_UNITS:,} units",
        )
    if len(request.staff) > MAX_IMPORT_STAFF:
        raise InvalidArgument(
            "staff",
            f"{len(request.staff)} staff",
            f"at most {MAX_IMPORT_STAFF:,} staff",
        )
    units = [
        parse_unit(f"units[{index}]", unit) for index, unit in enumerate(request.units)
    ]
    staff = [
        parse_staff(f"staff[{index}]", member)
        for index, member in enumerate(request.staff)
    ]
    reject_duplicates("units", [unit.id for unit in units], lambda i: f"units[{i}].id")
    reject_duplicates(
        "staff", [member.id for member in staff], lambda i: f"staff[{i}].id"
    )
    reject_duplicates(
        "staff",
        [member.hr_employee_id for member in staff],
        lambda i: f"staff[{i}].hr_employee_id",
    )
    return units, staff


def hr_event_response(outcome: HrOutcome) -> availability_pb2.RecordHrEventResponse:
    response = availability_pb2.RecordHrEventResponse(
        outcome=convert.HR_EVENT_OUTCOME[outcome.outcome],
        reason=outcome.reason,
        repeated=outcome.repeated,
    )
    if outcome.leave is not None:
        response.leave.CopyFrom(convert.leave(outcome.leave))
    return response


class AvailabilityServicer(availability_pb2_grpc.AvailabilityServiceServicer):
    def __init__(
        self,
        store: AvailabilityStore,
        leave_store: LeaveStore,
        hr_store: HrEventStore,
        on_commit: Callable[[], None],
        on_leave_changed: Callable[[], None],
    ) -> None:
        self.store = store
        self.leave_store = leave_store
        self.hr_store = hr_store
        # Called after a transaction that wrote outbox events has committed.
        self.on_commit = on_commit
        # Called after a leave was created or changed, so the timer recomputes
        # when it is next due.
        self.on_leave_changed = on_leave_changed

    def _committed(self) -> None:
        self.on_commit()

    async def _principal(self) -> permissions.Principal:
        return await permissions.resolve(self.store.pool)

    async def UpsertUnit(
        self,
        request: availability_pb2.UpsertUnitRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.UpsertUnitResponse:
        unit = parse_unit("unit", request.unit)

        principal = await self._principal()
        principal.require(Action.ADMINISTER)

        row, created = await self.store.upsert_unit(unit)
        return availability_pb2.UpsertUnitResponse(
            unit=convert.unit(row), created=created
        )

    async def ListUnits(
        self,
        request: availability_pb2.ListUnitsRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.ListUnitsResponse:
        principal = await self._principal()
        principal.require(Action.READ_DIRECTORY)

        rows = await self.store.list_units()
        return availability_pb2.ListUnitsResponse(
            units=[convert.unit(row) for row in rows]
        )

    async def UpsertStaff(
        self,
        request: availability_pb2.UpsertStaffRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.UpsertStaffResponse:
        member = parse_staff("staff", request.staff)

        principal = await self._principal()
        principal.require(Action.ADMINISTER)

        row, created, capacity_freed = await self.store.upsert_staff(member)
        if capacity_freed:
            self._committed()
        return availability_pb2.UpsertStaffResponse(
            staff=convert.staff(row), created=created
        )

    async def ImportOrganisation(
        self,
        request: availability_pb2.ImportOrganisationRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.ImportOrganisationResponse:
        units, staff = parse_import(request)

        principal = await self._principal()
        principal.require(Action.ADMINISTER)

        result = await self.store.import_organisation(units, staff)
        if result.capacity_freed:
            self._committed()
        return availability_pb2.ImportOrganisationResponse(
            units_created=len(result.units_created),
            units_updated=result.units_updated,
            staff_created=len(result.staff_created),
            staff_updated=result.staff_updated,
        )

    async def GetStaff(
        self,
        request: availability_pb2.GetStaffRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.GetStaffResponse:
        staff_id = validation.require_id("staff_id", request.staff_id)

        principal = await self._principal()
        principal.require(Action.READ_DIRECTORY)

        row = await self.store.get_staff(staff_id)
        return availability_pb2.GetStaffResponse(staff=convert.staff(row))

    async def ListStaff(
        self,
        request: availability_pb2.ListStaffRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.ListStaffResponse:
        unit_id = validation.optional_id("unit_id", request.unit_id)
        limit = validation.page_size("page_size", request.page_size)
        key = paging.decode_token("page_token", request.page_token, LIST_LISTING, 1)
        after = None
        if key is not None:
            after = key[0]
            if not isinstance(after, str) or not validation.ID_PATTERN.match(after):
                raise InvalidArgument(
                    "page_token",
                    request.page_token,
                    "a page token from a previous response",
                )

        principal = await self._principal()
        principal.require(Action.READ_DIRECTORY)

        rows = await self.store.list_staff(unit_id, after, limit + 1)
        response = availability_pb2.ListStaffResponse(
            staff=[convert.staff(row) for row in rows[:limit]]
        )
        if len(rows) > limit:
            response.next_page_token = paging.encode_token(
                LIST_LISTING, [rows[limit - 1]["id"]]
            )
        return response

    async def SetAvailability(
        self,
        request: availability_pb2.SetAvailabilityRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.SetAvailabilityResponse:
        staff_id = validation.require_id("staff_id", request.staff_id)
        status = convert.AVAILABILITY_NAMES[
            validation.require_enum(
                "status", request.status, VALID_AVAILABILITY, AVAILABILITY_NAMES
            )
        ]
        until = validation.optional_timestamp("until", request, "until")
        if until is not None and status not in UNTIL_STATUSES:
            raise InvalidArgument(
                "until",
                until.isoformat(),
                "no until unless status is AVAILABILITY_STATUS_UNAVAILABLE or "
                "AVAILABILITY_STATUS_ON_LEAVE",
            )
        reason = validation.optional_text(
            "reason", request.reason, max_length=MAX_REASON_LENGTH
        )

        principal = await self._principal()
        # The store authorizes SET_AVAILABILITY inside the transaction that
        # locks the staff row, and records the source the caller's role implies.
        change = await self.store.set_availability(
            staff_id, status, until, reason, principal
        )
        self._committed()
        return availability_pb2.SetAvailabilityResponse(
            staff=convert.staff(change.staff)
        )

    async def ScheduleLeave(
        self,
        request: availability_pb2.ScheduleLeaveRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.ScheduleLeaveResponse:
        parsed = leave_requests.parse_schedule_leave(request)

        principal = await self._principal()
        # The store authorizes SET_AVAILABILITY inside the transaction that
        # locks the staff row.
        change = await self.leave_store.schedule_leave(
            parsed.staff_id, parsed.starts_at, parsed.ends_at, parsed.reason, principal
        )
        if change.effect is not None:
            self._committed()
        self.on_leave_changed()
        return availability_pb2.ScheduleLeaveResponse(leave=convert.leave(change.leave))

    async def CancelLeave(
        self,
        request: availability_pb2.CancelLeaveRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.CancelLeaveResponse:
        leave_id = validation.require_uuid("leave_id", request.leave_id)

        principal = await self._principal()
        # The store authorizes SET_AVAILABILITY on the leave's staff member
        # inside the transaction that locks their staff row.
        change = await self.leave_store.cancel_leave(leave_id, principal)
        if change.effect is not None:
            self._committed()
        return availability_pb2.CancelLeaveResponse(leave=convert.leave(change.leave))

    async def ListLeave(
        self,
        request: availability_pb2.ListLeaveRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.ListLeaveResponse:
        staff_id = validation.require_id("staff_id", request.staff_id)

        principal = await self._principal()
        principal.require(Action.READ_DIRECTORY)

        rows = await self.leave_store.list_leave(staff_id)
        return availability_pb2.ListLeaveResponse(
            leave=[convert.leave(row) for row in rows]
        )

    async def RecordHrEvent(
        self,
        request: availability_pb2.RecordHrEventRequest,
        context: grpc.aio.ServicerContext,
    ) -> availability_pb2.RecordHrEventResponse:
        event = leave_requests.parse_hr_event(request)

        principal = await self._principal()
        principal.require(Action.RECORD_HR_EVENT)

        outcome = await self.hr_store.record(event)
        if outcome.effects:
            self._committed()
        if outcome.pending:
            self.on_leave_changed()
        return hr_event_response(outcome)
