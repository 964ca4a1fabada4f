"""A blocking check: no text column of the dbt-built schemas holds a mainland national ID in clear.

A value is an ID when, trimmed and upper-cased, it is 18 characters, 17 digits and a digit or ``X``, and its
ISO 7064 MOD 11-2 check character is right (GB 11643-1999) — a random 18-digit number passes one time in
eleven, a real ID always. Hashes (64 hex characters) never match.

The columns to scan are listed from ``information_schema`` of the connection the check runs on (the
warehouse file, or on Spark the in-memory DuckDB whose views read Spark's Parquet), and scanned in one
query. After a build by holder, a table its merge changed is scanned on the rows the merge put in (the
first pass's table, ``by_holder.MERGED_TABLE``) when this check's last result passed after the tables last
changed before (``_changed_rows``): its other rows were scanned then. Every other table is scanned whole.
Offending values are reported masked (region code only), so the check's own sample in
``quality.dq_check_results`` never holds the ID it found.
"""

from __future__ import annotations

import duckdb

from dagster_project.lib import by_holder
from dagster_project.lib.quality.framework import BLOCKING, Check, Settings, table_exists
from dagster_project.lib.quality.gx import gx_module
from dagster_project.lib.quality.results import RESULTS_TABLE

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


def _changed_rows(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """The tables of which only some rows need scanning: (schema, table) → the relation holding those rows.

    A build by holder's merge deletes the touched holders' rows of a table and inserts the first pass's
    (lib/by_holder.py); the rest are as they were when the tables last changed before (``base_built_at``, the end of
    the last build's dbt step). When this check's latest result passed and was judged after that, those rows held no
    ID: the first pass's rows are all that is new. Otherwise — a first build, a build whole, a scan failed, not run
    or not recorded since — nothing is narrowed. Whole, this scan reads every text column of every row (6.4 s at
    1M holders); filtering the merged tables by holder spared nothing, as the filter reads the columns too.
    """
    merged = by_holder.merged_tables(con)
    if not merged or any(base is None for _, _, base in merged) or not table_exists(con, RESULTS_TABLE):
        return {}
    last = con.execute(
        f"select passed, checked_at from {RESULTS_TABLE} where check_name = ? order by checked_at desc limit 1",
        [NAME],
    ).fetchone()
    if last is None or not last[0] or last[1] <= max(base for _, _, base in merged):
        return {}
    changed = {}
    for relation, computed, _ in merged:
        if not table_exists(con, computed):
            return {}  # the first pass's table is gone: scan whole
        schema, table = relation.split(".")
        changed[(schema, table)] = computed
    return changed


def _relation(schema: str, table: str) -> str:
    return f"{_quote(schema)}.{_quote(table)}"


def scan_sql(settings: Settings, con: duckdb.DuckDBPyConnection) -> str:
    """Every offending value of every text column (masked), one row each."""
    changed = _changed_rows(con)
    parts = []
    for schema, table, column in text_columns(con):
        value = f"upper(trim({_quote(column)}))"
        source = _relation(*changed[(schema, table)].split(".")) if (schema, table) in changed else None
        parts.append(
            f"select {_literal(schema)} as table_schema, {_literal(table)} as table_name, "
            f"{_literal(column)} as column_name, substr({value}, 1, 6) || '************' as masked_value "
            f"from {source or _relation(schema, table)} where {is_id_sql(value)}"
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
