"""The SlaMonitorService servicer: validate, authorize, call the store, convert.

Each RPC validates its request, resolves the caller against their staff record,
checks the permission matrix of `assignment_engine.core.permissions`, and only
then reads or changes data. A caller without the `all` scope gets
PERMISSION_DENIED, not NOT_FOUND, for an unknown work item or escalation, so
ids cannot be probed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
from google.protobuf.duration_pb2 import Duration

from assignment_engine.api.v1 import common_pb2, sla_monitor_pb2, sla_monitor_pb2_grpc
from assignment_engine.core import paging, permissions, validation
from assignment_engine.core.errors import FailedPrecondition, InvalidArgument
from assignment_engine.core.permissions import Action, Principal, Scope
from assignment_engine.sla_monitor import convert
from assignment_engine.sla_monitor.calendar_requests import (
    parse_day,
    validate_calendar,
)
from assignment_engine.sla_monitor.store import NewPolicy, SlaMonitorStore

FALLBACK_TYPE = "*"
MIN_RESOLUTION_TARGET = timedelta(seconds=1)
MAX_RESOLUTION_TARGET = timedelta(days=365)
DEFAULT_WARNING_FRACTION = 0.75
DEFAULT_RE_ESCALATION_INTERVAL = timedelta(hours=1)
MIN_RE_ESCALATION_INTERVAL = timedelta(seconds=1)
MAX_RE_ESCALATION_INTERVAL = timedelta(days=30)
MAX_NOTE_LENGTH = 2000
# Characters a note may contain besides printable ones.
NOTE_WHITESPACE = frozenset("\n\t")
NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MICROSECOND = 1_000

PRIORITY_NAMES = {value: name for name, value in common_pb2.Priority.items()}
VALID_PRIORITIES = [value for value in PRIORITY_NAMES if value != 0]
ESCALATION_STATE_NAMES = {
    value: name for name, value in sla_monitor_pb2.EscalationState.items()
}
VALID_ESCALATION_STATES = [value for value in ESCALATION_STATE_NAMES if value != 0]
ESCALATIONS_LISTING = "escalations"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CAPACITY_RANGE_DAYS = 366
# Most snapshots one GetCapacity returns, so that the response stays well below
# the default gRPC message limit (16 MiB) even with 64-character unit ids.
MAX_SNAPSHOTS = 20_000


def _duration_nanos(field: str, value: Duration) -> int:
    """Return a Duration as whole nanoseconds, rejecting a malformed one."""
    seconds, nanos = value.seconds, value.nanos
    if (
        not -NANOS_PER_SECOND < nanos < NANOS_PER_SECOND
        or (seconds > 0 and nanos < 0)
        or (seconds < 0 and nanos > 0)
    ):
        raise InvalidArgument(
            field,
            f"seconds={seconds} nanos={nanos}",
            "a Duration whose nanos are below one second and have the sign of seconds",
        )
    return seconds * NANOS_PER_SECOND + nanos


def _bounded_duration(
    field: str, value: Duration, minimum: timedelta, maximum: timedelta, expected: str
) -> timedelta:
    total = _duration_nanos(field, value)
    low = minimum // timedelta(microseconds=1) * NANOS_PER_MICROSECOND
    high = maximum // timedelta(microseconds=1) * NANOS_PER_MICROSECOND
    if not low <= total <= high:
        raise InvalidArgument(field, f"{total / NANOS_PER_SECOND:g}s", expected)
    # Intervals in PostgreSQL have microsecond resolution.
    return timedelta(microseconds=total // NANOS_PER_MICROSECOND)


def _policy(request: sla_monitor_pb2.SetSlaPolicyRequest) -> NewPolicy:
    if not request.HasField("policy"):
        raise InvalidArgument("policy", None, "a required SlaPolicy")
    policy = request.policy

    work_item_type = policy.work_item_type
    if work_item_type != FALLBACK_TYPE:
        if not work_item_type:
            raise InvalidArgument(
                "policy.work_item_type",
                work_item_type,
                f"'*' or a required type of {validation.ID_EXPECTED}",
            )
        if not validation.ID_PATTERN.match(work_item_type):
            raise InvalidArgument(
                "policy.work_item_type",
                work_item_type,
                f"'*' or {validation.ID_EXPECTED}",
            )

    priority = validation.require_enum(
        "policy.priority", policy.priority, VALID_PRIORITIES, PRIORITY_NAMES
    )

    if not policy.HasField("resolution_target"):
        raise InvalidArgument(
            "policy.resolution_target",
            None,
            "a required duration of 1 second to 365 days",
        )
    resolution_target = _bounded_duration(
        "policy.resolution_target",
        policy.resolution_target,
        MIN_RESOLUTION_TARGET,
        MAX_RESOLUTION_TARGET,
        "a duration of 1 second to 365 days",
    )

    fraction = policy.warning_fraction
    if fraction == 0:
        fraction = DEFAULT_WARNING_FRACTION
    elif not 0 < fraction < 1:
        raise InvalidArgument(
            "policy.warning_fraction",
            fraction,
            f"a number above 0 and below 1, or 0 for {DEFAULT_WARNING_FRACTION}",
        )

    interval = policy.re_escalation_interval
    if _duration_nanos("policy.re_escalation_interval", interval) == 0:
        re_escalation_interval = DEFAULT_RE_ESCALATION_INTERVAL
    else:
        re_escalation_interval = _bounded_duration(
            "policy.re_escalation_interval",
            interval,
            MIN_RE_ESCALATION_INTERVAL,
            MAX_RE_ESCALATION_INTERVAL,
            "a duration of 1 second to 30 days, or 0 for 1 hour",
        )

    return NewPolicy(
        work_item_type=work_item_type,
        priority=priority,
        resolution_target=resolution_target,
        warning_fraction=fraction,
        re_escalation_interval=re_escalation_interval,
        calendar_id=validation.optional_id("policy.calendar_id", policy.calendar_id),
    )


def _day_range(request: sla_monitor_pb2.GetCapacityRequest) -> tuple[date, date] | None:
    """Return the inclusive snapshot days of a request, or None when both are empty."""
    if not request.from_day and not request.to_day:
        return None
    first = parse_day("from_day", request.from_day)
    last = parse_day("to_day", request.to_day)
    if last < first:
        raise InvalidArgument(
            "to_day", request.to_day, f"a date on or after from_day {request.from_day}"
        )
    if (last - first).days > MAX_CAPACITY_RANGE_DAYS:
        raise InvalidArgument(
            "to_day",
            request.to_day,
            f"a date at most {MAX_CAPACITY_RANGE_DAYS} days after from_day "
            f"{request.from_day}",
        )
    return first, last


def _note(field: str, value: str) -> str:
    """Validate a free-text note, which unlike other text may span lines."""
    validation.optional_text(field, value, max_length=MAX_NOTE_LENGTH, printable=False)
    if any(not (ch.isprintable() or ch in NOTE_WHITESPACE) for ch in value):
        raise InvalidArgument(
            field, value, "printable characters, newlines and tabs only"
        )
    return value


def _page_key(token: str) -> tuple[datetime, uuid.UUID] | None:
    key = paging.decode_token("page_token", token, ESCALATIONS_LISTING, 2)
    if key is None:
        return None
    try:
        return (
            EPOCH + timedelta(microseconds=int(key[0])),
            uuid.UUID(str(key[1])),
        )
    except (ValueError, OverflowError):
        raise InvalidArgument(
            "page_token", token, "a page token from a previous response"
        ) from None


def _escalation_filters(
    principal: Principal, recipient: str | None
) -> tuple[str | None, str | None]:
    """Return the recipient and unit filters that `principal` may list with.

    Staff (`own`) list only escalations addressed to them: no recipient means
    themselves, and another recipient is denied. Supervisors (`unit`) list only
    their unit's escalations, narrowed by any recipient. `all` adds no filter.
    """
    scope = principal.scope(Action.READ_ESCALATIONS)
    if scope is Scope.OWN:
        principal.require(
            Action.READ_ESCALATIONS, owner_id=recipient or principal.subject
        )
        return principal.subject, None
    if scope is Scope.UNIT:
        return recipient, principal.unit_id
    principal.require(Action.READ_ESCALATIONS)
    return recipient, None


class SlaMonitorServicer(sla_monitor_pb2_grpc.SlaMonitorServiceServicer):
    def __init__(self, store: SlaMonitorStore, org_timezone: str) -> None:
        self.store = store
        # The zone in which capacity snapshot days begin and end.
        self.org_timezone = org_timezone

    async def GetSlaStatus(
        self,
        request: sla_monitor_pb2.GetSlaStatusRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.GetSlaStatusResponse:
        work_item_id = validation.require_uuid("work_item_id", request.work_item_id)

        principal = await permissions.resolve(self.store.pool)
        access = await self.store.work_item_access(work_item_id)
        if access is None:
            principal.require(Action.READ_WORK)
        else:
            principal.require(
                Action.READ_WORK,
                owner_id=access["assignee_id"],
                unit_ids=[access["assignee_unit_id"], access["target_unit_id"]],
            )

        row, calendar = await self.store.get_status(work_item_id)
        try:
            status = convert.sla_status(row, calendar)
        except ValueError as exc:
            # A calendar with almost no working hours cannot cover the span.
            raise FailedPrecondition(
                f"cannot count the working time of work item {work_item_id} in "
                f"calendar {row['calendar_id']}: {exc}"
            ) from exc
        return sla_monitor_pb2.GetSlaStatusResponse(status=status)

    async def SetSlaPolicy(
        self,
        request: sla_monitor_pb2.SetSlaPolicyRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.SetSlaPolicyResponse:
        policy = _policy(request)

        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.ADMINISTER)

        row = await self.store.set_policy(policy)
        return sla_monitor_pb2.SetSlaPolicyResponse(policy=convert.policy(row))

    async def ListSlaPolicies(
        self,
        request: sla_monitor_pb2.ListSlaPoliciesRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.ListSlaPoliciesResponse:
        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.READ_DIRECTORY)

        rows = await self.store.list_policies()
        return sla_monitor_pb2.ListSlaPoliciesResponse(
            policies=[convert.policy(row) for row in rows]
        )

    async def SetCalendar(
        self,
        request: sla_monitor_pb2.SetCalendarRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.SetCalendarResponse:
        calendar = validate_calendar(request)

        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.ADMINISTER)

        row = await self.store.set_calendar(calendar)
        return sla_monitor_pb2.SetCalendarResponse(calendar=convert.calendar(row))

    async def ListCalendars(
        self,
        request: sla_monitor_pb2.ListCalendarsRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.ListCalendarsResponse:
        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.READ_DIRECTORY)

        rows = await self.store.list_calendars()
        return sla_monitor_pb2.ListCalendarsResponse(
            calendars=[convert.calendar(row) for row in rows]
        )

    async def GetCapacity(
        self,
        request: sla_monitor_pb2.GetCapacityRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.GetCapacityResponse:
        unit_id = validation.optional_id("unit_id", request.unit_id)
        days = _day_range(request)

        principal = await permissions.resolve(self.store.pool)
        principal.require(Action.READ_DIRECTORY)

        now, snapshots = await self.store.capacity(unit_id, days, MAX_SNAPSHOTS + 1)
        if len(snapshots) > MAX_SNAPSHOTS:
            raise InvalidArgument(
                "to_day",
                request.to_day,
                f"a range with at most {MAX_SNAPSHOTS} snapshots; narrow the days "
                "or set unit_id",
            )
        return sla_monitor_pb2.GetCapacityResponse(
            now=[convert.unit_capacity(row) for row in now],
            snapshots=[convert.capacity_snapshot(row) for row in snapshots],
            timezone=self.org_timezone,
        )

    async def ListEscalations(
        self,
        request: sla_monitor_pb2.ListEscalationsRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.ListEscalationsResponse:
        recipient = validation.optional_id("recipient_id", request.recipient_id)
        states = sorted(
            {
                convert.STATE_NAMES[
                    validation.require_enum(
                        f"states[{index}]",
                        state,
                        VALID_ESCALATION_STATES,
                        ESCALATION_STATE_NAMES,
                    )
                ]
                for index, state in enumerate(request.states)
            }
        )
        work_item_id = (
            validation.require_uuid("work_item_id", request.work_item_id)
            if request.work_item_id
            else None
        )
        limit = validation.page_size("page_size", request.page_size)
        after = _page_key(request.page_token)

        principal = await permissions.resolve(self.store.pool)
        recipient, unit = _escalation_filters(principal, recipient)

        rows = await self.store.list_escalations(
            recipient, states or None, work_item_id, after, limit + 1, unit
        )
        response = sla_monitor_pb2.ListEscalationsResponse(
            escalations=[convert.escalation(row) for row in rows[:limit]]
        )
        if len(rows) > limit:
            last = rows[limit - 1]
            micros = (last["escalated_at"] - EPOCH) // timedelta(microseconds=1)
            response.next_page_token = paging.encode_token(
                ESCALATIONS_LISTING, [micros, str(last["id"])]
            )
        return response

    async def AcknowledgeEscalation(
        self,
        request: sla_monitor_pb2.AcknowledgeEscalationRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.AcknowledgeEscalationResponse:
        escalation_id = validation.require_uuid("escalation_id", request.escalation_id)
        note = _note("note", request.note)

        principal = await permissions.resolve(self.store.pool)
        # The store checks HANDLE_ESCALATION inside the transaction that locks
        # the escalation row, and records the caller as acknowledged_by.
        row = await self.store.acknowledge(escalation_id, note, principal)
        return sla_monitor_pb2.AcknowledgeEscalationResponse(
            escalation=convert.escalation(row)
        )

    async def ResolveEscalation(
        self,
        request: sla_monitor_pb2.ResolveEscalationRequest,
        context: grpc.aio.ServicerContext,
    ) -> sla_monitor_pb2.ResolveEscalationResponse:
        escalation_id = validation.require_uuid("escalation_id", request.escalation_id)
        note = _note("note", request.note)

        principal = await permissions.resolve(self.store.pool)
        # The store checks HANDLE_ESCALATION inside the transaction that locks
        # the escalation row, and records the caller as resolved_by (and as
        # acknowledged_by when resolving acknowledges).
        row = await self.store.resolve(escalation_id, note, principal)
        return sla_monitor_pb2.ResolveEscalationResponse(
            escalation=convert.escalation(row)
        )
