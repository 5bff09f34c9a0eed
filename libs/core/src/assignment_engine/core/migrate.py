"""Versioned SQL migrations, applied in order under an advisory lock.

Each file in `migrations/` is named `NNNN_what_it_changes.sql` and runs in its own
transaction. Several replicas may start at once: the advisory lock makes the others
wait, and they then find nothing left to apply.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from assignment_engine.core import logs
from assignment_engine.core.config import env_str

logger = logging.getLogger(__name__)

# An arbitrary constant shared by every migrator of this schema.
MIGRATION_LOCK_KEY = 0x41_45_4D_49  # "AEMI"
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Return the packaged migrations sorted by version."""
    found = []
    for entry in resources.files("assignment_engine.core.migrations").iterdir():
        match = FILE_PATTERN.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions in {versions}")
    return found


async def apply_migrations(dsn: str) -> list[str]:
    """Apply every pending migration to the database at `dsn`; return their names."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            rows = await conn.fetch("SELECT version FROM schema_migrations")
            done = {row["version"] for row in rows}
            applied = []
            for migration in load_migrations():
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                label = f"{migration.version:04d}_{migration.name}"
                logger.info(
                    "applied migration %s",
                    label,
                    extra=logs.fields(event="migration_applied", migration=label),
                )
                applied.append(label)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Apply the Assignment Engine's database migrations."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL; defaults to AE_DATABASE_URL",
    )
    args = parser.parse_args()
    logs.setup("migrate")
    dsn = args.database_url or env_str("AE_DATABASE_URL")
    applied = asyncio.run(apply_migrations(dsn))
    print(
        f"applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else "")
    )
