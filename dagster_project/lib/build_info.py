"""``marts.build_info``: the one row describing the build a snapshot comes from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from dagster_project.lib import quality

TABLE = "marts.build_info"
COLUMNS = (
    "build_id",
    "built_at",
    "as_of_date",
    "engine",
    "batches_loaded",
    "latest_extract_date",
    "rulebook_ids",
    "checks_run",
    "checks_failed",
)


def write(
    con: duckdb.DuckDBPyConnection, *, build_id: str, built_at: datetime, as_of: date | None, engine: str
) -> dict[str, Any]:
    """Replace ``marts.build_info`` with this build's row; returns it.

    as_of_date is the valuation date the models used: the one given, else the latest extract date among
    loaded batches (the rule of the dbt macro ``as_of_date``). rulebook_ids: every rulebook of
    ``marts.dim_rulebook``, in effective order, joined with ``, ``.
    """
    batches_loaded, latest = con.execute(
        "select count(*), max(extract_date) from raw.batches where status = 'loaded'"
    ).fetchone()
    rulebooks = [
        name
        for (name,) in con.execute(
            "select rulebook_id from marts.dim_rulebook order by effective_from, rulebook_id"
        ).fetchall()
    ]
    checks_run, checks_failed = quality.results_of_build(con, build_id)
    row = {
        "build_id": build_id,
        "built_at": built_at,
        "as_of_date": as_of or latest,
        "engine": engine,
        "batches_loaded": batches_loaded,
        "latest_extract_date": latest,
        "rulebook_ids": ", ".join(rulebooks),
        "checks_run": checks_run,
        "checks_failed": checks_failed,
    }
    con.execute("create schema if not exists marts")
    con.execute(f"""create or replace table {TABLE} (
        build_id varchar not null, built_at timestamp not null, as_of_date date, engine varchar not null,
        batches_loaded bigint not null, latest_extract_date date, rulebook_ids varchar not null,
        checks_run bigint not null, checks_failed bigint not null)""")
    con.execute(f"insert into {TABLE} values ({', '.join('?' for _ in COLUMNS)})", [row[c] for c in COLUMNS])
    return row
