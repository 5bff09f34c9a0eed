"""`ae-bootstrap-admin`: create the first admin, so someone may administer.

Every RPC that creates units and staff needs an admin caller, so a new database
gets one admin (with WIP limit 0, in a unit of their own) by this command, run
once after `ae-migrate`. Running it again changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio

import asyncpg

from assignment_engine.core.config import env_str
from assignment_engine.core.validation import ID_PATTERN

DEFAULT_ADMIN_ID = "root"
DEFAULT_UNIT_ID = "engine-ops"


async def ensure_admin(
    dsn: str, admin_id: str = DEFAULT_ADMIN_ID, unit_id: str = DEFAULT_UNIT_ID
) -> bool:
    """Create the admin and their unit unless the admin exists; return whether created."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO units (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING",
                unit_id,
            )
            created = await conn.fetchval(
                """
                INSERT INTO staff (id, unit_id, display_name, role, wip_limit)
                VALUES ($1, $2, $1, 'admin', 0)
                ON CONFLICT (id) DO NOTHING
                RETURNING true
                """,
                admin_id,
                unit_id,
            )
            await conn.execute(
                "INSERT INTO staff_load (staff_id) VALUES ($1) ON CONFLICT (staff_id) DO NOTHING",
                admin_id,
            )
        return bool(created)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Create the first admin of an Assignment Engine database."
    )
    parser.add_argument(
        "--id",
        default=DEFAULT_ADMIN_ID,
        help=f"the admin's staff id (default {DEFAULT_ADMIN_ID})",
    )
    parser.add_argument(
        "--unit",
        default=DEFAULT_UNIT_ID,
        help=f"their unit, created if missing (default {DEFAULT_UNIT_ID})",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL; defaults to AE_DATABASE_URL",
    )
    args = parser.parse_args()
    for flag, value in (("--id", args.id), ("--unit", args.unit)):
        if not ID_PATTERN.match(value):
            parser.error(
                f"{flag} {value!r} is invalid; expected 1 to 64 letters, digits, '.', '_' or '-'"
            )
    created = asyncio.run(
        ensure_admin(
            args.database_url or env_str("AE_DATABASE_URL"), args.id, args.unit
        )
    )
    print(
        f"admin {args.id} {'created' if created else 'already exists'} in unit {args.unit}"
    )
