"""Publishing: a consistent, read-only snapshot of the marts for readers, swapped in atomically.

For a warehouse ``data/warehouse.duckdb`` snapshots live in ``data/warehouse.published/``:

* ``<build_id>.duckdb`` — the schemas readers need (marts, rules, quality), copied table by table;
* ``<build_id>/<schema>/<table>.parquet`` — the same tables as Parquet;
* ``CURRENT`` — one line, the file name of the latest snapshot, replaced with ``os.replace`` (atomic).

Readers resolve ``CURRENT`` once and open that file read-only, so they never see a half-built
warehouse, never hold the writer's file, and a build never waits for them. The two newest snapshots
are kept (a reader still on the previous one keeps it open even after it is unlinked).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts", "rules", "quality", "scenarios")
KEEP = 2


def published_dir(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".published")


def current_snapshot(warehouse: Path) -> Path | None:
    """The latest published snapshot of ``warehouse`` (None when nothing was published yet)."""
    pointer = published_dir(warehouse) / "CURRENT"
    if not pointer.exists():
        return None
    return published_dir(warehouse) / pointer.read_text(encoding="utf-8").strip()


def publish(con: duckdb.DuckDBPyConnection, warehouse: Path, build_id: str | None = None) -> Path:
    """Copy the published schemas of the open warehouse into a new snapshot and make it current."""
    build_id = build_id or datetime.now().strftime("%Y%m%dT%H%M%S%f")
    folder = published_dir(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = folder / f"{build_id}.duckdb"
    staging = folder / f".{build_id}.duckdb.tmp"
    parquet_root = folder / build_id
    tables = con.execute(
        f"""select table_schema, table_name from information_schema.tables
            where table_catalog = current_database()
              and table_schema in ({", ".join("'" + s + "'" for s in PUBLISHED_SCHEMAS)})
            order by 1, 2"""
    ).fetchall()
    con.execute(f"attach '{staging}' as vipwh_snapshot")
    try:
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f'create schema if not exists vipwh_snapshot."{schema}"')
        for schema, table in tables:
            con.execute(f'create table vipwh_snapshot."{schema}"."{table}" as select * from "{schema}"."{table}"')
            target = parquet_root / schema / f"{table}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f'copy "{schema}"."{table}" to \'{target}\' (format parquet)')
    finally:
        con.execute("detach vipwh_snapshot")
    os.replace(staging, snapshot)
    pointer_tmp = folder / "CURRENT.tmp"
    pointer_tmp.write_text(snapshot.name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, folder / "CURRENT")
    _prune(folder, keep={snapshot.name})
    return snapshot


def _prune(folder: Path, keep: set[str]) -> None:
    snapshots = sorted(folder.glob("*.duckdb"), key=lambda p: p.name, reverse=True)
    for old in snapshots[KEEP:]:
        if old.name in keep:
            continue
        old.unlink(missing_ok=True)
        shutil.rmtree(folder / old.stem, ignore_errors=True)


# a reader's connection can read the snapshot and nothing else: no files, no network, no extensions, no
# ATTACH, and no SET that would undo any of it
READER_CONFIG = {
    "enable_external_access": False,
    "allow_community_extensions": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


class NoWarehouse(FileNotFoundError):
    """The warehouse path names nothing (no file, no published snapshots)."""


def connect_snapshot(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the latest published snapshot of ``warehouse``."""
    snapshot = current_snapshot(warehouse)
    if snapshot is None or not snapshot.exists():
        if not Path(warehouse).exists() and not published_dir(Path(warehouse)).exists():
            raise NoWarehouse(f"no warehouse at {warehouse}")
        raise FileNotFoundError(
            f"nothing published yet for {warehouse}: run `vipwh build` (a build whose blocking checks pass "
            "publishes a snapshot)"
        )
    return duckdb.connect(str(snapshot), read_only=True, config=dict(READER_CONFIG))
