"""Compare the marts of two warehouses row for row: EXCEPT ALL both ways, table by table.

    .venv/bin/python scripts/compare_marts.py REFERENCE.duckdb CANDIDATE.duckdb [--schemas marts,rules]

Reads each warehouse's latest published snapshot when there is one (else the file itself). Tables present
on one side only are listed; a table compares equal when both EXCEPT ALL directions are empty (over the
columns both sides have, with a note when the column lists differ). Exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from dagster_project.lib.publish import current_snapshot

SKIP = {("marts", "build_info")}  # one row per build: differs by construction (build id, time)


def _source(path: Path) -> Path:
    snapshot = current_snapshot(path)
    return snapshot if snapshot and snapshot.exists() else path


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schemas: list[str]) -> dict[tuple[str, str], list[str]]:
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = ? and table_schema in (select unnest(?)) order by table_schema, table_name, "
        "ordinal_position",
        [catalog, schemas],
    ).fetchall()
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), []).append(column)
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--schemas", default="marts")
    args = parser.parse_args(argv)
    schemas = args.schemas.split(",")
    con = duckdb.connect()
    con.execute(f"attach '{_source(Path(args.reference))}' as ref (read_only)")
    con.execute(f"attach '{_source(Path(args.candidate))}' as cand (read_only)")
    ref, cand = _tables(con, "ref", schemas), _tables(con, "cand", schemas)
    differing = 0
    for key in sorted(set(ref) | set(cand)):
        name = ".".join(key)
        if key in SKIP:
            continue
        if key not in ref or key not in cand:
            print(f"{name:<55} only in {'reference' if key in ref else 'candidate'}")
            differing += key in ref  # a new table is not a difference in the old ones
            continue
        columns = [c for c in ref[key] if c in cand[key]]
        cols = ", ".join(f'"{c}"' for c in columns)
        left = con.execute(
            f"select count(*) from (select {cols} from ref.{name} except all select {cols} from cand.{name})"
        ).fetchone()[0]
        right = con.execute(
            f"select count(*) from (select {cols} from cand.{name} except all select {cols} from ref.{name})"
        ).fetchone()[0]
        rows = con.execute(f"select count(*) from ref.{name}").fetchone()[0]
        note = (
            ""
            if ref[key] == cand[key]
            else (
                f" (columns: reference only {sorted(set(ref[key]) - set(cand[key]))}, "
                f"candidate only {sorted(set(cand[key]) - set(ref[key]))}, order same: {columns == cand[key]})"
            )
        )
        status = "equal" if left == right == 0 else f"DIFFERENT: {left} only in reference, {right} only in candidate"
        differing += status != "equal"
        print(f"{name:<55} {rows:>10,} rows  {status}{note}")
    print("all equal" if not differing else f"{differing} table(s) differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
