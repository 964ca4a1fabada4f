"""Publishing: a consistent, read-only snapshot of the marts for readers, swapped in atomically.

For a warehouse ``data/warehouse.duckdb`` snapshots live in ``data/warehouse.published/``:

* ``<build_id>.duckdb`` — the schemas readers need (marts, rules, quality, scenarios);
* ``<build_id>/<schema>/<table>.parquet`` — the same tables as Parquet;
* ``<build_id>/tables.json`` — each table's digest (its columns, row count and the sum of its rows' hashes);
* ``CURRENT`` — one line, the file name of the latest snapshot, replaced with ``os.replace`` (atomic).

A new snapshot costs what changed: it starts as a copy of the current snapshot's file (one sequential file
copy), and only the tables whose digest differs from the current snapshot's are written; an unchanged table's
Parquet file is a hard link to the current snapshot's. After a build by holder (dagster_project/lib/by_holder.py)
a changed table with a ``holder_id`` first gets only the touched holders' rows replaced in the copy (the new ones
read from the merge's first-pass table, ``by_holder.MERGED_TABLE``, when it has one); its digest
must then equal the warehouse table's, else (the copy was of an older state) it is dropped and written anew.
Without a usable current snapshot (the first build, a missing digest file, a copy more than half free space)
every table is written. A copied table whose deleted rows pass ``by_holder.COMPACT_AT`` of its stored rows is
written anew too (replacing rows leaves the deleted ones stored; DuckDB's vacuum is off, settings.duckdb_config).

Readers resolve ``CURRENT`` once and open that file read-only, so they never see a half-built
warehouse, never hold the writer's file, and a build never waits for them. The two newest snapshots
are kept (a reader still on the previous one keeps it open even after it is unlinked). The current
snapshot is only ever read by a publish, never written: the new one is a separate file.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.lib import by_holder

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


DIGESTS = "tables.json"


@dataclass
class Published:
    """What one publish did: the snapshot, and which tables it wrote and which it kept from the last one."""

    snapshot: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # of the written: only the touched holders' rows replaced


def _digest(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> str:
    """Columns, row count and the sum of the rows' hashes: equal digests mean the same rows (a multiset).

    Of the open warehouse's table, or of the one in the attached ``catalog``.
    """
    columns = con.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = coalesce(?, current_database()) and table_schema = ? and table_name = ?
           order by ordinal_position""",
        [catalog, schema, table],
    ).fetchall()
    relation = f'"{schema}"."{table}"' if catalog is None else f'"{catalog}"."{schema}"."{table}"'
    rows, hashes = con.execute(
        f"select count(*), coalesce(sum(cast(hash(t) as hugeint)), 0) from {relation} as t"
    ).fetchone()
    return json.dumps({"columns": columns, "rows": rows, "hashes": str(hashes)})


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every table of the open warehouse that a snapshot holds."""
    return con.execute(
        f"""select table_schema, table_name from information_schema.tables
            where table_catalog = current_database()
              and table_schema in ({", ".join("'" + s + "'" for s in PUBLISHED_SCHEMAS)})
            order by 1, 2"""
    ).fetchall()


def table_digests(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> dict[str, str]:
    """The digest of each table, by ``schema.table``."""
    return {f"{schema}.{table}": _digest(con, schema, table) for schema, table in tables}


def _digests_of(folder: Path, previous: Path | None) -> dict[str, str]:
    """The digests of the current snapshot (nothing when there is none, or its digest file is unreadable)."""
    if previous is None or not previous.exists():
        return {}
    try:
        return json.loads((folder / previous.stem / DIGESTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _mostly_free(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    used, free = con.execute(
        "select used_blocks, free_blocks from pragma_database_size() where database_name = ?", [database]
    ).fetchone()
    return free > used


def _touched_holders(con: duckdb.DuckDBPyConnection) -> str | None:
    """The relation of this build's touched holders when it built by holder (None: it built whole)."""
    return by_holder.SCOPE_TABLE if by_holder.exists_here(con, by_holder.SCOPE_TABLE) else None


def _merged(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``schema.table`` → the first pass's table of the rows this build's merge put in (by_holder.MERGED_TABLE)."""
    return {relation: computed for relation, computed, _ in by_holder.merged_tables(con)}


def _replace_holders(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, holders: str, digest: str, merged: dict[str, str]
) -> bool:
    """Replace the touched holders' rows of the snapshot's copy of a table; True when it then equals the table.

    The new rows are read from the first pass's table when the merge left one (``merged``): the touched holders'
    rows of the warehouse's, without reading the whole table for them.
    """
    has_holder = con.execute(
        "select count(*) from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? and column_name = 'holder_id'",
        [schema, table],
    ).fetchone()[0]
    copied = con.execute(
        "select count(*) from information_schema.tables where table_catalog = 'vipwh_snapshot' "
        "and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    if not (has_holder and copied):
        return False
    scope = f"holder_id in (select holder_id from {holders})"
    copy = f'vipwh_snapshot."{schema}"."{table}"'
    computed = merged.get(f"{schema}.{table}")
    if computed:
        computed_schema, computed_table = computed.split(".")
        new_rows = f'select * from "{computed_schema}"."{computed_table}"'
    else:
        new_rows = f'select * from "{schema}"."{table}" where {scope}'
    try:
        con.execute(f"delete from {copy} where {scope}")
        con.execute(f"insert into {copy} by name {new_rows}")
    except duckdb.Error:
        return False  # its columns changed: written anew
    if by_holder.compaction_due(con, f"{schema}.{table}", catalog="vipwh_snapshot"):
        return False  # its tombstones pass the share at which a table is rewritten whole
    return _digest(con, schema, table, catalog="vipwh_snapshot") == digest


def publish(con: duckdb.DuckDBPyConnection, warehouse: Path, build_id: str | None = None) -> Published:
    """Make a new snapshot of the published schemas of the open warehouse, and make it current."""
    build_id = build_id or datetime.now().strftime("%Y%m%dT%H%M%S%f")
    folder = published_dir(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = folder / f"{build_id}.duckdb"
    staging = folder / f".{build_id}.duckdb.tmp"
    parquet_root = folder / build_id
    tables = published_tables(con)
    digests = table_digests(con, tables)
    previous = current_snapshot(warehouse)
    before = _digests_of(folder, previous)
    holders = _touched_holders(con)
    merged = _merged(con) if holders else {}
    if before:
        shutil.copyfile(previous, staging)
        old_parquet = folder / previous.stem
    result = Published(snapshot)
    # a table's rows have no order: without keeping the warehouse's, DuckDB writes Parquet on every thread (a
    # quarter faster at 1M, docs/benchmarks.md)
    con.execute("set preserve_insertion_order = false")
    con.execute(f"attach '{staging}' as vipwh_snapshot")
    if before and _mostly_free(con, "vipwh_snapshot"):
        # dropped tables leave free blocks that later writes reuse; a copy mostly free is written afresh
        con.execute("detach vipwh_snapshot")
        staging.unlink()
        before = {}
        con.execute(f"attach '{staging}' as vipwh_snapshot")
    try:
        for name in sorted(set(before) - set(digests)):  # a table gone since
            schema, table = name.split(".", 1)
            con.execute(f'drop table if exists vipwh_snapshot."{schema}"."{table}"')
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f'create schema if not exists vipwh_snapshot."{schema}"')
        for schema, table in tables:
            name = f"{schema}.{table}"
            target = parquet_root / schema / f"{table}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            if before.get(name) == digests[name] and _link(old_parquet / schema / f"{table}.parquet", target):
                if by_holder.compaction_due(con, name, catalog="vipwh_snapshot"):
                    _write_copy(con, schema, table)  # the same rows, without the tombstones of earlier replacements
                result.kept.append(name)
                continue
            if before and holders and _replace_holders(con, schema, table, holders, digests[name], merged):
                result.replaced.append(name)
            else:
                _write_copy(con, schema, table)
            con.execute(f'copy "{schema}"."{table}" to \'{target}\' (format parquet)')
            result.written.append(name)
    finally:
        con.execute("detach vipwh_snapshot")
        con.execute("reset preserve_insertion_order")
    (parquet_root / DIGESTS).write_text(json.dumps(digests, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(staging, snapshot)
    pointer_tmp = folder / "CURRENT.tmp"
    pointer_tmp.write_text(snapshot.name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, folder / "CURRENT")
    _prune(folder, keep={snapshot.name})
    return result


def _write_copy(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Write the snapshot's copy of a table anew from the warehouse's."""
    con.execute(f'drop table if exists vipwh_snapshot."{schema}"."{table}"')
    con.execute(f'create table vipwh_snapshot."{schema}"."{table}" as select * from "{schema}"."{table}"')


def _link(source: Path, target: Path) -> bool:
    """Hard-link the last snapshot's Parquet file of an unchanged table (False: it must be written)."""
    try:
        target.unlink(missing_ok=True)
        os.link(source, target)
    except OSError:
        return False
    return True


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
