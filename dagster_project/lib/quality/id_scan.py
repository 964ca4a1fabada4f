"""A blocking check: no text column of the dbt-built schemas holds a mainland national ID in clear.

A value is an ID when, trimmed and upper-cased, it is 18 characters, 17 digits and a digit or ``X``, and its
ISO 7064 MOD 11-2 check character is right (GB 11643-1999) — a random 18-digit number passes one time in
eleven, a real ID always. Hashes (64 hex characters) never match.

The columns to scan are listed from ``information_schema`` of the connection the check runs on (the
warehouse file, or on Spark the in-memory DuckDB whose views read Spark's Parquet), and scanned in one
query. Offending values are reported masked (region code only), so the check's own sample in
``quality.dq_check_results`` never holds the ID it found.
"""

from __future__ import annotations

import duckdb

from dagster_project.lib.quality.framework import BLOCKING, Check, Settings
from dagster_project.lib.quality.gx import gx_module

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
    return (
        f"(length({value}) = 18 and regexp_full_match({value}, '[0-9]{{17}}[0-9X]') "
        f"and substr('{CHECK_CHARACTERS}', (({weighted}) % 11) + 1, 1) = substr({value}, 18, 1))"
    )


def text_columns(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = SCANNED_SCHEMAS
) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every VARCHAR column of ``schemas``, tables and views alike."""
    placeholders = ", ".join("?" for _ in schemas)
    return con.execute(
        f"""select table_schema, table_name, column_name from information_schema.columns
            where table_catalog = current_database() and table_schema in ({placeholders})
              and data_type = 'VARCHAR'
            order by 1, 2, ordinal_position""",
        list(schemas),
    ).fetchall()


def scan_sql(settings: Settings, con: duckdb.DuckDBPyConnection) -> str:
    """Every offending value of every text column (masked), one row each."""
    parts = []
    for schema, table, column in text_columns(con):
        value = f"upper(trim({_quote(column)}))"
        parts.append(
            f"select {_literal(schema)} as table_schema, {_literal(table)} as table_name, "
            f"{_literal(column)} as column_name, substr({value}, 1, 6) || '************' as masked_value "
            f"from {_quote(schema)}.{_quote(table)} where {is_id_sql(value)}"
        )
    if not parts:
        return (
            "select null::varchar as table_schema, null::varchar as table_name, null::varchar as column_name, "
            "null::varchar as masked_value where false"
        )
    return "\nunion all\n".join(parts)


def _no_rows_expectations(settings: Settings) -> list:
    return [gx_module().expectations.ExpectTableRowCountToEqual(value=0)]


CHECK = Check(
    name=NAME,
    asset_key=("marts", "dim_member"),
    severity=BLOCKING,
    description="No text column of the marts, rules, scenarios or staging schemas holds a value shaped like a "
    "mainland national ID (17 digits and a digit or X, MOD 11-2 check character valid); IDs "
    "reach the warehouse only as their keyed hash.",
    reads=(),  # whatever of the scanned schemas exists
    sql=scan_sql,
    expectations=_no_rows_expectations,
    shape="violations",
)
