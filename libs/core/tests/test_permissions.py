"""The permission matrix: its rules, and the README table that documents it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assignment_engine.core.errors import PermissionDenied
from assignment_engine.core.permissions import Action, Principal, Scope, matrix_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme__shows_the_enforced_matrix() -> None:
    assert matrix_markdown() in README.read_text()


def test_require__own_scope_allows_only_the_owner() -> None:
    staff = Principal("ana", "staff", "desk")

    assert (
        staff.require(Action.WORK_ON_ASSIGNMENT, owner_id="ana", unit_ids=["desk"])
        is Scope.OWN
    )
    with pytest.raises(PermissionDenied) as raised:
        staff.require(Action.WORK_ON_ASSIGNMENT, owner_id="bob", unit_ids=["desk"])
    assert "other than their own" in raised.value.message


def test_require__unit_scope_stops_at_the_unit_boundary() -> None:
    supervisor = Principal("boss", "supervisor", "desk")

    assert (
        supervisor.require(Action.REASSIGN, owner_id="ana", unit_ids=["desk"])
        is Scope.UNIT
    )
    with pytest.raises(PermissionDenied) as raised:
        supervisor.require(Action.REASSIGN, owner_id="zed", unit_ids=["field"])
    assert "outside their unit" in raised.value.message


def test_require__no_scope_denies_everyone_of_the_role() -> None:
    service = Principal("intake", "service", None)

    with pytest.raises(PermissionDenied):
        service.require(Action.WORK_ON_ASSIGNMENT, owner_id="intake")


def test_require__admin_may_do_all_but_service_only_actions() -> None:
    admin = Principal("root", "admin", "ops")
    allowed = [action for action in Action if admin.scope(action) is Scope.ALL]

    assert set(Action) - set(allowed) == {Action.OFFER_QUEUED, Action.RECORD_HR_EVENT}
