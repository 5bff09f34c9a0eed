"""The demo report's ordering of units."""

from __future__ import annotations

from assignment_engine.devstack.demo_report import _natural_order


def test_units__numbers_sort_by_value() -> None:
    units = [("group-10", 0.5), ("other", 0.1), ("group-2", 0.3), ("group-1", 0.2)]

    ordered = [unit for unit, _ in sorted(units, key=_natural_order)]

    assert ordered == ["group-1", "group-2", "group-10", "other"]


def test_units__leading_digits_and_letters_compare() -> None:
    units = [("b", 0.0), ("10a", 0.0), ("2a", 0.0), ("a2", 0.0), ("a10", 0.0)]

    ordered = [unit for unit, _ in sorted(units, key=_natural_order)]

    assert ordered == ["2a", "10a", "a2", "a10", "b"]
