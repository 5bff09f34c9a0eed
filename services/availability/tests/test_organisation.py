"""Units, staff profiles and ImportOrganisation against a real database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TypeAlias

import asyncpg
import grpc
import pytest

from assignment_engine.api.v1 import (
    availability_pb2,
    availability_pb2_grpc,
    common_pb2,
    events_pb2,
)
from assignment_engine.devstack.testing import ROOT_ADMIN_ID, ROOT_UNIT_ID

Stub: TypeAlias = availability_pb2_grpc.AvailabilityServiceStub


def unit(unit_id: str, **fields: object) -> common_pb2.Unit:
    values: dict[str, object] = {"id": unit_id, "name": f"Unit {unit_id}"}
    values.update(fields)
    return common_pb2.Unit(**values)  # type: ignore[arg-type]


def staff(staff_id: str, unit_id: str, **fields: object) -> common_pb2.Staff:
    values: dict[str, object] = {
        "id": staff_id,
        "unit_id": unit_id,
        "role": common_pb2.ROLE_STAFF,
        "wip_limit": 5,
    }
    values.update(fields)
    return common_pb2.Staff(**values)  # type: ignore[arg-type]


async def upsert_unit(
    stub: Stub, message: common_pb2.Unit
) -> availability_pb2.UpsertUnitResponse:
    return await stub.UpsertUnit(availability_pb2.UpsertUnitRequest(unit=message))


async def upsert_staff(
    stub: Stub, message: common_pb2.Staff
) -> availability_pb2.UpsertStaffResponse:
    return await stub.UpsertStaff(availability_pb2.UpsertStaffRequest(staff=message))


async def capacity_events(
    database: asyncpg.Connection,
) -> list[events_pb2.CapacityFreed]:
    rows = await database.fetch(
        "SELECT payload FROM outbox WHERE subject = 'capacity.freed' ORDER BY id"
    )
    return [events_pb2.CapacityFreed.FromString(row["payload"]) for row in rows]


# Every test database starts with the admin tests call as, in a unit of their
# own: the column and value of that row in each table counted.
BASELINE_ROWS = {
    "units": ("id", ROOT_UNIT_ID),
    "staff": ("id", ROOT_ADMIN_ID),
    "staff_load": ("staff_id", ROOT_ADMIN_ID),
}


async def count_rows(database: asyncpg.Connection, table: str) -> int:
    """Count the rows of `table` other than the admin's baseline rows."""
    if table not in BASELINE_ROWS:
        return await database.fetchval(f"SELECT count(*) FROM {table}")
    column, baseline = BASELINE_ROWS[table]
    return await database.fetchval(
        f"SELECT count(*) FROM {table} WHERE {column} <> $1", baseline
    )


def without_root_unit(units: Sequence[common_pb2.Unit]) -> list[common_pb2.Unit]:
    return [unit for unit in units if unit.id != ROOT_UNIT_ID]


def without_root_admin(staff: Sequence[common_pb2.Staff]) -> list[common_pb2.Staff]:
    return [member for member in staff if member.id != ROOT_ADMIN_ID]


def organisation(
    units: int, staff_per_unit: int
) -> availability_pb2.ImportOrganisationRequest:
    """Units u00.. each supervised by their first member, s0000.. staff in unit order."""
    request = availability_pb2.ImportOrganisationRequest()
    for unit_number in range(units):
        unit_id = f"u{unit_number:02d}"
        first = unit_number * staff_per_unit
        request.units.append(
            unit(unit_id, supervisor_id=f"s{first:04d}", timezone="Asia/Riyadh")
        )
        for offset in range(staff_per_unit):
            number = first + offset
            request.staff.append(
                staff(
                    f"s{number:04d}",
                    unit_id,
                    display_name=f"Person {number}",
                    role=common_pb2.ROLE_SUPERVISOR
                    if offset == 0
                    else common_pb2.ROLE_STAFF,
                    skills=[
                        common_pb2.Skill(name="network", level=number % 11),
                        common_pb2.Skill(name=f"skill-{number % 7}"),
                    ],
                    hr_employee_id=f"HR-{number}",
                    escalates_to_id="" if offset == 0 else f"s{first:04d}",
                )
            )
    return request


# Units ------------------------------------------------------------------------


async def test_upsert_unit__creates_then_updates(stub: Stub) -> None:
    created = await upsert_unit(stub, unit("ops", timezone="Asia/Riyadh"))

    updated = await upsert_unit(stub, unit("ops", name="Operations"))

    assert created.created
    assert created.unit.timezone == "Asia/Riyadh"
    assert not updated.created
    assert updated.unit.name == "Operations"
    assert updated.unit.timezone == "UTC"


async def test_upsert_unit__unknown_supervisor_is_not_found(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_unit(stub, unit("ops", supervisor_id="nobody"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "unit.supervisor_id" in caught.value.details()


async def test_upsert_unit__supervisor_of_another_unit_fails_precondition(
    stub: Stub, alice: str
) -> None:
    await upsert_unit(stub, unit("field"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_unit(stub, unit("field", supervisor_id=alice))

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "unit.supervisor_id" in caught.value.details()


async def test_upsert_unit__accepts_a_member_as_supervisor(
    stub: Stub, alice: str
) -> None:
    response = await upsert_unit(stub, unit("ops", supervisor_id=alice))

    listed = await stub.ListUnits(availability_pb2.ListUnitsRequest())

    assert response.unit.supervisor_id == alice
    assert [u.supervisor_id for u in without_root_unit(listed.units)] == [alice]


async def test_list_units__returns_every_unit_by_id(stub: Stub) -> None:
    for unit_id in ("b", "c", "a"):
        await upsert_unit(stub, unit(unit_id))

    response = await stub.ListUnits(availability_pb2.ListUnitsRequest())

    assert [u.id for u in without_root_unit(response.units)] == ["a", "b", "c"]


# Staff ------------------------------------------------------------------------


async def test_upsert_staff__round_trips_the_profile(
    stub: Stub, database: asyncpg.Connection
) -> None:
    await upsert_unit(stub, unit("ops"))
    await upsert_staff(stub, staff("lead", "ops"))
    profile = staff(
        "alice",
        "ops",
        display_name="Alice Example",
        role=common_pb2.ROLE_SUPERVISOR,
        skills=[
            common_pb2.Skill(name="network", level=4),
            common_pb2.Skill(name="billing"),
        ],
        wip_limit=7,
        hr_employee_id="HR 0042",
        escalates_to_id="lead",
        availability=common_pb2.AVAILABILITY_STATUS_ON_LEAVE,
        active_assignments=9,
    )

    response = await upsert_staff(stub, profile)
    fetched = await stub.GetStaff(availability_pb2.GetStaffRequest(staff_id="alice"))

    expected = common_pb2.Staff()
    expected.CopyFrom(profile)
    expected.availability = common_pb2.AVAILABILITY_STATUS_AVAILABLE
    expected.availability_source = common_pb2.AVAILABILITY_SOURCE_MANUAL
    expected.active_assignments = 0
    assert response.created
    assert response.staff == expected
    assert fetched.staff == expected
    row = await database.fetchrow(
        "SELECT skills, skill_levels FROM staff WHERE id = 'alice'"
    )
    assert list(row["skills"]) == ["network", "billing"]
    assert row["skill_levels"] == '{"network": 4}'
    load = await database.fetchval(
        "SELECT active_count FROM staff_load WHERE staff_id = 'alice'"
    )
    assert load == 0


async def test_upsert_staff__update_keeps_availability_and_load(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await stub.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id=alice,
            status=common_pb2.AVAILABILITY_STATUS_UNAVAILABLE,
            reason="training",
        )
    )
    await database.execute(
        "UPDATE staff_load SET active_count = 2 WHERE staff_id = $1", alice
    )
    created_at = await database.fetchval(
        "SELECT created_at FROM staff WHERE id = $1", alice
    )

    response = await upsert_staff(
        stub, staff(alice, "ops", display_name="Alice", wip_limit=4)
    )

    assert not response.created
    assert response.staff.display_name == "Alice"
    assert response.staff.availability == common_pb2.AVAILABILITY_STATUS_UNAVAILABLE
    assert response.staff.availability_reason == "training"
    assert response.staff.active_assignments == 2
    after = await database.fetchval("SELECT created_at FROM staff WHERE id = $1", alice)
    assert after == created_at


async def test_get_staff__unknown_id_is_not_found(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetStaff(availability_pb2.GetStaffRequest(staff_id="nobody"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_upsert_staff__unknown_unit_is_not_found(
    stub: Stub, database: asyncpg.Connection
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_staff(stub, staff("alice", "nowhere"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "staff.unit_id" in caught.value.details()
    assert await count_rows(database, "staff") == 0


async def test_upsert_staff__unknown_escalation_target_is_not_found(
    stub: Stub, alice: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_staff(stub, staff("bob", "ops", escalates_to_id="nobody"))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "staff.escalates_to_id" in caught.value.details()


async def test_upsert_staff__taken_hr_id_already_exists(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await upsert_staff(stub, staff(alice, "ops", hr_employee_id="HR-1"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_staff(stub, staff("bob", "ops", hr_employee_id="HR-1"))

    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "staff.hr_employee_id" in caught.value.details()
    assert await count_rows(database, "staff") == 1


async def test_upsert_staff__moving_a_supervisor_away_fails_precondition(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await upsert_unit(stub, unit("ops", supervisor_id=alice))
    await upsert_unit(stub, unit("field"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert_staff(stub, staff(alice, "field"))

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "staff.unit_id" in caught.value.details()
    assert (
        await database.fetchval("SELECT unit_id FROM staff WHERE id = $1", alice)
        == "ops"
    )


async def test_upsert_staff__concurrent_creates_make_one_person(
    stub: Stub, database: asyncpg.Connection
) -> None:
    await upsert_unit(stub, unit("ops"))
    requests = [
        upsert_staff(stub, staff("alice", "ops", wip_limit=n)) for n in range(1, 13)
    ]

    responses = await asyncio.gather(*requests)

    assert sum(response.created for response in responses) == 1
    assert await count_rows(database, "staff") == 1
    assert await count_rows(database, "staff_load") == 1


async def test_upsert_staff__creating_writes_capacity_freed(
    stub: Stub, database: asyncpg.Connection
) -> None:
    await upsert_unit(stub, unit("ops"))

    await upsert_staff(stub, staff("alice", "ops", wip_limit=2))

    events = await capacity_events(database)
    assert [(e.staff_id, e.unit_id, e.reason) for e in events] == [
        ("alice", "ops", "wip_limit_raised")
    ]


async def test_upsert_staff__zero_limit_writes_no_event(
    stub: Stub, database: asyncpg.Connection
) -> None:
    await upsert_unit(stub, unit("ops"))

    await upsert_staff(stub, staff("alice", "ops", wip_limit=0))

    assert await capacity_events(database) == []


async def test_upsert_staff__raising_wip_limit_writes_capacity_freed(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await database.execute("DELETE FROM outbox")

    await upsert_staff(stub, staff(alice, "ops", wip_limit=4))

    events = await capacity_events(database)
    assert [(e.staff_id, e.reason) for e in events] == [(alice, "wip_limit_raised")]


async def test_upsert_staff__limit_below_load_is_accepted(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await database.execute("DELETE FROM outbox")
    await database.execute(
        "UPDATE staff_load SET active_count = 3 WHERE staff_id = $1", alice
    )

    response = await upsert_staff(stub, staff(alice, "ops", wip_limit=1))

    assert response.staff.wip_limit == 1
    assert response.staff.active_assignments == 3
    assert await capacity_events(database) == []


async def test_upsert_staff__raise_while_on_leave_writes_no_event(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await stub.SetAvailability(
        availability_pb2.SetAvailabilityRequest(
            staff_id=alice, status=common_pb2.AVAILABILITY_STATUS_ON_LEAVE
        )
    )
    await database.execute("DELETE FROM outbox")

    await upsert_staff(stub, staff(alice, "ops", wip_limit=10))

    assert await capacity_events(database) == []


# ListStaff --------------------------------------------------------------------


async def test_list_staff__pages_visit_everyone_once(stub: Stub) -> None:
    await upsert_unit(stub, unit("a"))
    await upsert_unit(stub, unit("b"))
    request = availability_pb2.ImportOrganisationRequest(
        staff=[staff(f"p{n:02d}", "a" if n % 3 else "b") for n in range(47)]
    )
    await stub.ImportOrganisation(request)
    seen: list[str] = []
    token = ""

    for _ in range(20):
        page = await stub.ListStaff(
            availability_pb2.ListStaffRequest(page_size=10, page_token=token)
        )
        seen.extend(member.id for member in without_root_admin(page.staff))
        token = page.next_page_token
        if not token:
            break

    assert seen == sorted(f"p{n:02d}" for n in range(47))
    assert token == ""


async def test_list_staff__unit_filter_pages_within_the_unit(stub: Stub) -> None:
    await upsert_unit(stub, unit("a"))
    await upsert_unit(stub, unit("b"))
    request = availability_pb2.ImportOrganisationRequest(
        staff=[staff(f"p{n:02d}", "a" if n % 3 else "b") for n in range(30)]
    )
    await stub.ImportOrganisation(request)
    seen: list[str] = []
    token = ""

    for _ in range(20):
        page = await stub.ListStaff(
            availability_pb2.ListStaffRequest(
                unit_id="b", page_size=4, page_token=token
            )
        )
        seen.extend(member.id for member in page.staff)
        token = page.next_page_token
        if not token:
            break

    assert seen == [f"p{n:02d}" for n in range(0, 30, 3)]


async def test_list_staff__reports_active_assignments(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await database.execute(
        "UPDATE staff_load SET active_count = 2 WHERE staff_id = $1", alice
    )

    page = await stub.ListStaff(availability_pb2.ListStaffRequest())

    assert [member.active_assignments for member in without_root_admin(page.staff)] == [
        2
    ]


# ImportOrganisation -----------------------------------------------------------


async def test_import__creates_500_staff_with_supervisors(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=20, staff_per_unit=25)

    started = time.perf_counter()
    response = await stub.ImportOrganisation(request)
    elapsed = time.perf_counter() - started

    assert response.units_created == 20
    assert response.units_updated == 0
    assert response.staff_created == 500
    assert response.staff_updated == 0
    # A local run against PostgreSQL 15 on loopback took about 0.1 s, so 1 s
    # leaves room for slower CI hosts.
    assert elapsed < 1.0
    supervisors = await database.fetch(
        "SELECT id, supervisor_id FROM units WHERE id <> $1 ORDER BY id", ROOT_UNIT_ID
    )
    assert [row["supervisor_id"] for row in supervisors] == [
        f"s{n * 25:04d}" for n in range(20)
    ]
    assert await count_rows(database, "staff_load") == 500
    assert len(await capacity_events(database)) == 500
    fetched = await stub.GetStaff(availability_pb2.GetStaffRequest(staff_id="s0026"))
    expected = common_pb2.Staff()
    expected.CopyFrom(request.staff[26])
    expected.availability = common_pb2.AVAILABILITY_STATUS_AVAILABLE
    expected.availability_source = common_pb2.AVAILABILITY_SOURCE_MANUAL
    assert fetched.staff == expected


async def test_import__again_counts_updates(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=3, staff_per_unit=4)
    await stub.ImportOrganisation(request)
    await database.execute("DELETE FROM outbox")

    response = await stub.ImportOrganisation(request)

    assert response.units_created == 0
    assert response.units_updated == 3
    assert response.staff_created == 0
    assert response.staff_updated == 12
    assert await capacity_events(database) == []


async def test_import__rolls_back_when_one_entry_is_invalid(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=20, staff_per_unit=25)
    request.staff[400].skills[1].name = "not a skill"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("staff[400].skills[1].name=")
    assert await count_rows(database, "units") == 0
    assert await count_rows(database, "staff") == 0
    assert await count_rows(database, "outbox") == 0


async def test_import__unknown_unit_rolls_back(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=20, staff_per_unit=25)
    request.staff[400].unit_id = "nowhere"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "staff[400].unit_id" in caught.value.details()
    assert await count_rows(database, "units") == 0
    assert await count_rows(database, "staff") == 0


async def test_import__outside_supervisor_rolls_back(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=4, staff_per_unit=5)
    request.units[2].supervisor_id = "s0000"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "units[2].supervisor_id" in caught.value.details()
    assert await count_rows(database, "units") == 0
    assert await count_rows(database, "staff") == 0
    assert await count_rows(database, "staff_load") == 0


async def test_import__missing_supervisor_rolls_back(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=4, staff_per_unit=5)
    request.units[3].supervisor_id = "nobody"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "units[3].supervisor_id" in caught.value.details()
    assert await count_rows(database, "units") == 0


async def test_import__missing_escalation_target_rolls_back(
    stub: Stub, database: asyncpg.Connection
) -> None:
    request = organisation(units=2, staff_per_unit=5)
    request.staff[7].escalates_to_id = "nobody"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "staff[7].escalates_to_id" in caught.value.details()
    assert await count_rows(database, "staff") == 0


async def test_import__rejects_moving_a_supervisor_of_another_unit(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await upsert_unit(stub, unit("ops", supervisor_id=alice))
    request = availability_pb2.ImportOrganisationRequest(
        units=[unit("field")],
        staff=[staff("bob", "field"), staff(alice, "field")],
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "staff[1].unit_id" in caught.value.details()
    assert await count_rows(database, "units") == 1


async def test_import__moves_supervisor_with_unit(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await upsert_unit(stub, unit("ops", supervisor_id=alice))
    request = availability_pb2.ImportOrganisationRequest(
        units=[unit("field", supervisor_id=alice), unit("ops")],
        staff=[staff(alice, "field")],
    )

    await stub.ImportOrganisation(request)

    rows = await database.fetch(
        "SELECT id, supervisor_id FROM units WHERE id <> $1 ORDER BY id", ROOT_UNIT_ID
    )
    assert [(row["id"], row["supervisor_id"]) for row in rows] == [
        ("field", alice),
        ("ops", None),
    ]


async def test_import__taken_hr_id_already_exists(
    stub: Stub, database: asyncpg.Connection, alice: str
) -> None:
    await upsert_staff(stub, staff(alice, "ops", hr_employee_id="HR-1"))
    request = availability_pb2.ImportOrganisationRequest(
        staff=[staff("bob", "ops"), staff("carol", "ops", hr_employee_id="HR-1")]
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request)

    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "staff[1].hr_employee_id" in caught.value.details()
    assert await count_rows(database, "staff") == 1


async def test_import__swaps_hr_employee_ids_between_two_people(
    stub: Stub, database: asyncpg.Connection
) -> None:
    await upsert_unit(stub, unit("ops"))
    await upsert_staff(stub, staff("alice", "ops", hr_employee_id="HR-1"))
    await upsert_staff(stub, staff("bob", "ops", hr_employee_id="HR-2"))
    request = availability_pb2.ImportOrganisationRequest(
        staff=[
            staff("alice", "ops", hr_employee_id="HR-2"),
            staff("bob", "ops", hr_employee_id="HR-1"),
        ]
    )

    await stub.ImportOrganisation(request)

    rows = await database.fetch(
        "SELECT id, hr_employee_id FROM staff WHERE id <> $1 ORDER BY id",
        ROOT_ADMIN_ID,
    )
    assert [(row["id"], row["hr_employee_id"]) for row in rows] == [
        ("alice", "HR-2"),
        ("bob", "HR-1"),
    ]


@pytest.mark.parametrize(
    ("request_message", "field"),
    [
        pytest.param(
            availability_pb2.ImportOrganisationRequest(
                units=[unit("a"), unit("b"), unit("a")]
            ),
            "units[2].id",
            id="unit id",
        ),
        pytest.param(
            availability_pb2.ImportOrganisationRequest(
                units=[unit("a")], staff=[staff("x", "a"), staff("x", "a")]
            ),
            "staff[1].id",
            id="staff id",
        ),
        pytest.param(
            availability_pb2.ImportOrganisationRequest(
                units=[unit("a")],
                staff=[
                    staff("x", "a", hr_employee_id="HR-1"),
                    staff("y", "a"),
                    staff("z", "a", hr_employee_id="HR-1"),
                ],
            ),
            "staff[2].hr_employee_id",
            id="hr employee id",
        ),
    ],
)
async def test_import__duplicate_names_the_second_occurrence(
    stub: Stub,
    database: asyncpg.Connection,
    request_message: availability_pb2.ImportOrganisationRequest,
    field: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ImportOrganisation(request_message)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}=")
    assert await count_rows(database, "units") == 0
