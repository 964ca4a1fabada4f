"""A blocking check: no text column of the dbt-built schemas holds a mainland national ID in clear.

A value is an ID when, trimmed and upper-cased, it is 18 characters, 17 digits and a digit or ``X``, and its
ISO 7064 MOD 11-2 check character is right (GB 11643-1999) — a random 18-digit number passes one time in
eleven, a real ID always. Hashes (64 hex characters) never match.

The columns to scan are only known from the warehouse itself, while a ``quality.Check``'s SQL is built from
the settings alone. So the check's SQL asks the connection for its database file (``duckdb_databases()``),
and its ``prepare`` step lists every VARCHAR column of ``SCANNED_SCHEMAS`` from ``information_schema`` of
that file (read-only) and scans them in one query. Offending rows are reported masked (region code only),
so the check's own sample in ``quality.dq_check_results`` never holds the ID it found.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

if TYPE_CHECKING:  # quality imports this module at its end (to register the check): no import cycle at run time
    from dagster_project.lib.quality import Check, Settings

NAME = "no_national_id_in_clear"

SCANNED_SCHEMAS = ("marts", "rules", "scenarios", "staging")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
VIOLATION_CAP = 200
COLUMNS = ["table_schema", "table_name", "column_name", "masked_value"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def is_id_sql(value: str) -> str:
    """SQL: ``value`` (an expression, already trimmed and upper-cased) is a valid 18-character national ID."""
    weighted = " + ".join(f"(ascii(substr({value}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS))
    return (f"(length({value}) = 18 and regexp_full_match({value}, '[0-9]{{17}}[0-9X]') "
            f"and substr('{CHECK_CHARACTERS}', (({weighted}) % 11) + 1, 1) = substr({value}, 18, 1))")


def text_columns(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = SCANNED_SCHEMAS
                 ) -> list[tuple[str, str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    return con.execute(
        f"""select table_schema, table_name, column_name from information_schema.columns
            where table_catalog = current_database() and table_schema in ({placeholders})
              and data_type = 'VARCHAR'
            order by 1, 2, ordinal_position""",
        list(schemas),
    ).fetchall()


def scan_sql(columns: list[tuple[str, str, str]], cap: int = VIOLATION_CAP) -> str | None:
    """One query over every column: each offending value (masked) and their total (``violation_count``)."""
    if not columns:
        return None
    parts = []
    for schema, table, column in columns:
        value = f"upper(trim({_quote(column)}))"
        parts.append(
            f"select {_literal(schema)} as table_schema, {_literal(table)} as table_name, "
            f"{_literal(column)} as column_name, substr({value}, 1, 6) || '************' as masked_value "
            f"from {_quote(schema)}.{_quote(table)} where {is_id_sql(value)}"
        )
    union = "\nunion all\n".join(parts)
    return f"select *, count(*) over () as violation_count from (\n{union}\n) as found limit {int(cap)}"


def scan(con: duckdb.DuckDBPyConnection, cap: int = VIOLATION_CAP) -> pd.DataFrame:
    sql = scan_sql(text_columns(con), cap)
    if sql is None:
        return pd.DataFrame(columns=[*COLUMNS, "violation_count"])
    return con.execute(sql).df()


def _database_sql(settings: Settings) -> str:
    return "select path as database_path from duckdb_databases() where database_name = current_database()"


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the database's path by the offending values found in it."""
    path = frame["database_path"].iloc[0] if len(frame) else None
    if path is None or (isinstance(path, float) and pd.isna(path)):
        # an in-memory connection (the Spark engine's views): nothing of the dbt schemas to scan here
        return pd.DataFrame(columns=[*COLUMNS, "violation_count"])
    with duckdb.connect(str(path), read_only=True) as con:
        return scan(con)


@cache
def check() -> Check:
    """The check, as a ``quality.Check`` (built on first use: quality may still be importing)."""
    from dagster_project.lib.quality import BLOCKING, Check, _no_rows_expectations

    return Check(
        name=NAME,
        asset_key=("marts", "dim_member"),
        severity=BLOCKING,
        description="No text column of the marts, rules, scenarios or staging schemas holds a value shaped like a "
                    "mainland national ID (17 digits and a digit or X, MOD 11-2 check character valid); IDs "
                    "reach the warehouse only as their keyed hash.",
        reads=("marts.dim_member",),
        sql=_database_sql,
        expectations=_no_rows_expectations,
        shape="violations",
        prepare=_prepare,
    )


def register(checks: tuple[Check, ...], by_name: dict[str, Check]) -> tuple[tuple[Check, ...], dict[str, Check]]:
    """``quality.CHECKS`` and ``quality.CHECKS_BY_NAME`` with this check appended."""
    return (*checks, check()), {**by_name, NAME: check()}
