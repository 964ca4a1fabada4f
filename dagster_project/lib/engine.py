"""The engine dbt runs on, and the hand-offs around it when that engine is Spark.

DuckDB (the default): every layer is a schema of one DuckDB file, ``--warehouse FILE``.

Spark (``vipwh build --engine spark --warehouse DIR``): ``DIR`` is Spark's warehouse directory.

* ``DIR/warehouse.duckdb`` holds what stays on the single machine: ingestion's raw tables and ledger, the
  quality results, and one view per dbt relation reading Spark's Parquet (so the great-expectations checks,
  the summary and the publish step run unchanged, reading what Spark built);
* ``DIR/raw.db/<table>/`` is each raw table as Parquet, exported from the control file before dbt runs and
  declared as an external table by the ``register_raw_tables`` hook;
* ``DIR/<schema>.db/<table>/`` is every dbt model and seed, written by Spark as Parquet
  (``DIR/marts.db/<table>/`` for the marts);
* ``DIR/metastore_db`` is the local Hive metastore (Derby) of the session; a cluster uses its own.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import duckdb

from dagster_project.settings import CONTROL_FILE

# the schema ingestion writes; like every schema it is a Spark database `<schema>.db` under the directory
RAW_SCHEMA = "raw"
# the one Parquet file of each exported raw table
RAW_FILE = "part-00000.parquet"


def export_raw(con: duckdb.DuckDBPyConnection, root: Path) -> dict[str, int]:
    """Write every raw table of the control file as Parquet to ``root/raw.db/<table>/``; returns row counts.

    Each table is written to a fresh directory that then replaces the old one, so Spark never reads a
    half-written table. Types carry over (DECIMAL(18,2), DATE, BIGINT, BOOLEAN, TIMESTAMP).
    """
    base = root / f"{RAW_SCHEMA}.db"
    base.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in _raw_tables(con):
        fresh = base / f".{table}.{uuid.uuid4().hex[:8]}.tmp"
        fresh.mkdir()
        # COPY answers with the number of rows it wrote
        counts[table] = con.execute(
            f"copy {RAW_SCHEMA}.\"{table}\" to '{fresh / RAW_FILE}' (format parquet)"
        ).fetchone()[0]
        final = base / table
        old = base / f".{table}.{uuid.uuid4().hex[:8]}.old"
        if final.exists():
            final.rename(old)
        fresh.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    return counts


def raw_exported(con: duckdb.DuckDBPyConnection, root: Path) -> bool:
    """Every raw table of the control file has its exported Parquet under ``root/raw.db/``."""
    base = root / f"{RAW_SCHEMA}.db"
    return all((base / table / RAW_FILE).is_file() for table in _raw_tables(con))


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The raw tables of the control file, by name."""
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? order by 1",
            [RAW_SCHEMA],
        ).fetchall()
    ]


def dbt_relations(manifest_path: Path) -> list[tuple[str, str]]:
    """(schema, table) of every enabled dbt model and seed that Spark writes as Parquet, from the manifest.

    Views (int_benefit__usage_judged) hold no data of their own: Spark writes no Parquet for them, and the
    tables that read them are here.
    """
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    relations = set()
    for node in manifest["nodes"].values():
        config = node["config"]
        if (
            node["resource_type"] in ("model", "seed")
            and config.get("enabled", True)
            and config.get("materialized") not in ("view", "ephemeral")
        ):
            relations.add((node["schema"], node.get("alias") or node["name"]))
    return sorted(relations)


def attach_spark_relations(
    con: duckdb.DuckDBPyConnection, root: Path, relations: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """One view per dbt relation in the control file, reading the Parquet Spark wrote; returns those missing.

    The views pass Spark's columns through as they are; the project casts where the engines' types would
    differ (tests/test_spark.py compares the column types of every mart).
    """
    missing = []
    for schema, table in relations:
        folder = root / f"{schema}.db" / table
        if not any(folder.glob("*.parquet")):
            missing.append((schema, table))
            continue
        con.execute(f'create schema if not exists "{schema}"')
        con.execute(f"""create or replace view "{schema}"."{table}" as
                        select * from read_parquet('{folder}/*.parquet')""")
    return missing


def spark_check_connection(
    control_file: Path, root: Path, relations: list[tuple[str, str]]
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for the checks on Spark: the control file's raw and quality tables attached
    read-only, and each dbt relation a view over the Parquet Spark wrote (nothing is written anywhere)."""
    con = duckdb.connect()
    con.execute(f"attach '{control_file}' as control (read_only)")
    for schema in (RAW_SCHEMA, "quality"):
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'control' "
            "and table_schema = ? and table_type = 'BASE TABLE'",
            [schema],
        ).fetchall()
        con.execute(f'create schema if not exists "{schema}"')
        for (table,) in tables:
            con.execute(f'create view "{schema}"."{table}" as select * from control."{schema}"."{table}"')
    for schema, table in relations:
        folder = root / f"{schema}.db" / table
        if any(folder.glob("*.parquet")):
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f"""create view "{schema}"."{table}" as select * from read_parquet('{folder}/*.parquet')""")
    return con


def resolve_warehouse(path: Path) -> Path:
    """The DuckDB file behind ``--warehouse``: the file itself, or a Spark warehouse directory's control file."""
    return path / CONTROL_FILE if path.is_dir() else path
