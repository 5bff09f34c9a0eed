"""The permission check for changing a staff member's availability, and the source it records."""

from __future__ import annotations

from assignment_engine.core.permissions import Action, Principal


def availability_source(principal: Principal, staff_id: str, unit_id: str) -> str:
    """Authorize SET_AVAILABILITY on a staff member and return the source to record.

    Raises PermissionDenied unless the matrix allows it. The source is `manual`
    when callers act on themselves, `admin` for an admin acting on someone else,
    and `supervisor_override` for a supervisor acting on a member of their unit.
    """
    principal.require(Action.SET_AVAILABILITY, owner_id=staff_id, unit_ids=[unit_id])
    if principal.subject == staff_id:
        return "manual"
    if principal.role == "admin":
        return "admin"
    return "supervisor_override"
