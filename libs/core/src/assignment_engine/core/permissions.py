"""The permission matrix, enforced here and nowhere else.

Each action maps each role to a scope: `all`, `unit` (the target belongs to the
caller's unit), `own` (the caller is the target: the assignee, the staff member,
the escalation's recipient), or nothing. The caller's unit and role are read from
the database on every call, so a token cannot claim a unit, and a token whose role
differs from the staff record is refused. README.md shows this matrix as a table;
a test keeps the two equal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.auth import Caller, current_caller
from assignment_engine.core.errors import PermissionDenied

logger = logging.getLogger(__name__)


class Scope(StrEnum):
    NONE = "no"
    OWN = "own"
    UNIT = "unit"
    ALL = "all"


class Action(StrEnum):
    SUBMIT_WORK = "submit work items"
    READ_WORK = "read work items, assignments and SLA status"
    WORK_ON_ASSIGNMENT = "start and complete assignments"
    CANCEL_WORK = "cancel work items"
    REASSIGN = "reassign assignments"
    SET_AVAILABILITY = "set availability and leave"
    READ_ESCALATIONS = "read escalations"
    HANDLE_ESCALATION = "acknowledge and resolve escalations"
    READ_DIRECTORY = (
        "read units, staff, SLA policies, calendars, capacity and the queue"
    )
    ADMINISTER = "administer units, staff and SLA policies"
    DRAIN_QUEUE = "drain the queue now"
    OFFER_QUEUED = "offer queued items to the assigner"
    RECORD_HR_EVENT = "record HR system events"


NO, OWN, UNIT, ALL = Scope.NONE, Scope.OWN, Scope.UNIT, Scope.ALL
ROLE_ORDER = ("staff", "supervisor", "admin", "service")
# Rows: action; columns: staff, supervisor, admin, service.
MATRIX: dict[Action, tuple[Scope, Scope, Scope, Scope]] = {
    Action.SUBMIT_WORK: (NO, ALL, ALL, ALL),
    Action.READ_WORK: (OWN, UNIT, ALL, ALL),
    Action.WORK_ON_ASSIGNMENT: (OWN, UNIT, ALL, NO),
    Action.CANCEL_WORK: (NO, UNIT, ALL, ALL),
    Action.REASSIGN: (NO, UNIT, ALL, NO),
    Action.SET_AVAILABILITY: (OWN, UNIT, ALL, NO),
    Action.READ_ESCALATIONS: (OWN, UNIT, ALL, ALL),
    Action.HANDLE_ESCALATION: (OWN, UNIT, ALL, NO),
    Action.READ_DIRECTORY: (ALL, ALL, ALL, ALL),
    Action.ADMINISTER: (NO, NO, ALL, NO),
    Action.DRAIN_QUEUE: (NO, NO, ALL, ALL),
    Action.OFFER_QUEUED: (NO, NO, NO, ALL),
    Action.RECORD_HR_EVENT: (NO, NO, NO, ALL),
}


@dataclass(frozen=True)
class Principal:
    """A verified caller with the unit the database records for them."""

    subject: str
    role: str
    unit_id: str | None

    def scope(self, action: Action) -> Scope:
        return MATRIX[action][ROLE_ORDER.index(self.role)]

    def require(
        self,
        action: Action,
        *,
        owner_id: str | None = None,
        unit_ids: Iterable[str | None] = (),
    ) -> Scope:
        """Raise PermissionDenied unless this principal may do `action` on the target.

        `owner_id` is the staff member the target belongs to (assignee, profile,
        recipient); `unit_ids` are the units it belongs to.
        """
        scope = self.scope(action)
        units = {unit for unit in unit_ids if unit}
        allowed = (
            scope is Scope.ALL
            or (scope is Scope.OWN and owner_id == self.subject)
            or (
                scope is Scope.UNIT
                and (owner_id == self.subject or (self.unit_id in units))
            )
        )
        if not allowed:
            where = {
                Scope.NONE: "",
                Scope.OWN: " other than their own",
                Scope.UNIT: " outside their unit",
            }.get(scope, "")
            logger.info(
                "denied %s %s: %s%s",
                self.role,
                self.subject,
                action.value,
                where,
                extra=logs.fields(
                    event="permission_denied", staff_id=self.subject, action=action.name
                ),
            )
            raise PermissionDenied(
                f"{self.role} {self.subject} may not {action.value}{where}"
            )
        return scope


async def resolve(
    conn: asyncpg.Connection | asyncpg.Pool, caller: Caller | None = None
) -> Principal:
    """Look up the current caller's unit, and check their role against their record."""
    caller = caller or current_caller()
    if caller.role == "service":
        return Principal(caller.subject, caller.role, None)
    row = await conn.fetchrow(
        "SELECT role, unit_id FROM staff WHERE id = $1", caller.subject
    )
    if row is None:
        raise PermissionDenied(f"caller {caller.subject} has no staff record")
    if row["role"] != caller.role:
        raise PermissionDenied(
            f"caller {caller.subject} presents role {caller.role}, but their staff record says {row['role']}"
        )
    return Principal(caller.subject, caller.role, row["unit_id"])


def matrix_markdown() -> str:
    """Render the matrix as the Markdown table that README.md contains."""
    lines = [
        "| action | staff | supervisor | admin | service |",
        "|---|---|---|---|---|",
    ]
    for action, scopes in MATRIX.items():
        lines.append(
            f"| {action.value} | " + " | ".join(scope.value for scope in scopes) + " |"
        )
    return "\n".join(lines)
