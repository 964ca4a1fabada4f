"""DDL of the warehouse's raw layer: typed, append-only history tables, the quarantine and the ledger."""

from __future__ import annotations

import duckdb

from vipwh.contract import EXTRACT_FILES, ExtractFile

# The fingerprint of the published snapshot's inputs (dagster_project/lib/inputs.py), created below.
PUBLISHED_INPUTS = "raw.published_inputs"
BUILT_INPUTS = "raw.built_inputs"

SQL_TYPES = {
    "varchar": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "integer": "INTEGER",
    "decimal": "DECIMAL(18,2)",
    "flag": "BOOLEAN",
}

META_COLUMNS = (
    ("_extract_date", "DATE NOT NULL"),
    ("_source_line", "BIGINT NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"),
)


# ledger columns added by the hardening of ingestion: which build did it, what it saw, with which key
BATCH_COLUMNS = (
    ("build_id", "VARCHAR"),
    ("folder_signature", "VARCHAR"),
    ("id_key_fingerprint", "VARCHAR"),
    ("note", "VARCHAR"),
)
BATCH_FILE_COLUMNS = (("build_id", "VARCHAR"), ("note", "VARCHAR"))
REJECTION_COLUMNS = (("build_id", "VARCHAR"), ("manifest_sha256", "VARCHAR"))

# Rulebooks adopted with `vipwh rulebook adopt` (vipwh/rulebook.py): the rule rows of each, typed as the seeds of
# the same name (dbt_project/seeds/rating/, seeds/benefits/), which the stg_rules__ models union them with.
# raw.adopted_rulebooks also records the adoption (when, from which file, the proposal's text).
ADOPTED_RULE_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "rulebooks": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("effective_from", "DATE NOT NULL"),
        ("effective_until", "DATE"),
        ("description", "VARCHAR"),
        ("base_rulebook_id", "VARCHAR NOT NULL"),
        ("adopted_at", "TIMESTAMP NOT NULL"),
        ("source_file", "VARCHAR"),
        ("proposal_text", "VARCHAR"),
    ),
    "tier_thresholds": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("tier_code", "VARCHAR"),
        ("tier_rank", "INTEGER"),
        ("tier_name_zh", "VARCHAR"),
        ("lower_bound", "DECIMAL(18,2)"),
        ("upper_bound", "DECIMAL(18,2)"),
    ),
    "rating_coefficients": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("rule_no", "INTEGER"),
        ("policy_type_zh", "VARCHAR"),
        ("coverage_kind", "VARCHAR"),
        ("payment_modes", "VARCHAR"),
        ("min_payment_years", "INTEGER"),
        ("max_payment_years", "INTEGER"),
        ("product_categories", "VARCHAR"),
        ("slice_kind", "VARCHAR"),
        ("base_zh", "VARCHAR"),
        ("coefficient", "DECIMAL(9,4)"),
        ("coefficient_per_payment_year", "DECIMAL(9,4)"),
        ("window_anchor", "VARCHAR"),
        ("window_basis", "VARCHAR"),
        ("window_years", "INTEGER"),
        ("window_end_reason", "VARCHAR"),
    ),
    "rating_coverage_kinds": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("coverage_kind", "VARCHAR"),
        ("term_months_lower_bound", "INTEGER"),
        ("term_months_upper_bound", "INTEGER"),
        ("includes_whole_life", "BOOLEAN"),
        ("description", "VARCHAR"),
    ),
    "rating_exclusions": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("excluded_reason", "VARCHAR"),
        ("applies_to", "VARCHAR"),
        ("match_value", "VARCHAR"),
        ("priority", "INTEGER"),
        ("description_zh", "VARCHAR"),
    ),
    "entitlements": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("service_code", "VARCHAR"),
        ("tier_code", "VARCHAR"),
        ("variant", "VARCHAR"),
        ("quota_kind", "VARCHAR"),
        ("quota", "DECIMAL(18,2)"),
        ("quota_group", "VARCHAR"),
    ),
    "unit_costs": (
        ("rulebook_id", "VARCHAR NOT NULL"),
        ("service_code", "VARCHAR"),
        ("variant", "VARCHAR"),
        ("unit_cost", "DECIMAL(18,2)"),
        ("assumption", "VARCHAR"),
    ),
}


# Proposals of `vipwh scenario run` (vipwh/scenarios/, docs/scenarios.md), stored by the Dagster asset
# scenarios/proposal: each rule table's rows of a proposal's rulebook (rulebook_id = scenario_id), typed as the
# adopted ones, under the scenario's id; the services it adds, with their usage assumption; and the run (file,
# text, as-of date). The stg_rules__ models union the rule rows with their scenario_id (null for the rulebooks
# in force), so the rating and benefit models compute each scenario as a ruleset beside the rulebooks in force.
PROPOSAL_RULE_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    table: (("scenario_id", "VARCHAR NOT NULL"), *(columns[:4] if table == "rulebooks" else columns))
    for table, columns in ADOPTED_RULE_TABLES.items()
}
PROPOSAL_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    **PROPOSAL_RULE_TABLES,
    "services": (
        ("scenario_id", "VARCHAR NOT NULL"),
        ("service_code", "VARCHAR NOT NULL"),
        ("service_group", "VARCHAR"),
        ("name_zh", "VARCHAR"),
        ("name_en", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("like_service_code", "VARCHAR"),
        ("take_up", "DECIMAL(9,6)"),
        ("units_per_member_year", "DECIMAL(18,6)"),
    ),
    "runs": (
        ("scenario_id", "VARCHAR NOT NULL"),
        ("description", "VARCHAR"),
        ("base_rulebook_id", "VARCHAR NOT NULL"),
        ("effective_from", "DATE"),
        ("as_of_date", "DATE NOT NULL"),
        ("proposal_file", "VARCHAR"),
        ("proposal_yaml", "VARCHAR"),
        ("run_at", "TIMESTAMP NOT NULL"),
    ),
}


def proposal_table(table: str) -> str:
    """The raw table holding every stored proposal's rows of ``table`` (a rule seed's name, services or runs)."""
    return f"raw.proposal_{table}"


def adopted_table(rule_table: str) -> str:
    """The raw table holding the adopted rulebooks' rows of a rule table (a seed's name)."""
    return f"raw.adopted_{rule_table}"


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[dict]) -> None:
    """Insert ``rows`` (dicts; a column a row lacks is null) into ``table``'s ``columns``, in the caller's
    transaction."""
    if rows:
        marks = ", ".join("?" for _ in columns)
        con.executemany(
            f"insert into {table} ({', '.join(columns)}) values ({marks})",
            [[row.get(column) for column in columns] for row in rows],
        )


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``schema.name`` exists in the connection's database."""
    schema, name = table.split(".", 1)
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


def raw_columns(extract: ExtractFile) -> list[tuple[str, str]]:
    """Warehouse columns of a raw table: the extract's columns, typed, ID numbers hashed, then meta."""
    cols: list[tuple[str, str]] = []
    for col in extract.columns:
        if col.name == "id_number":
            cols.append(("id_number_hash", "VARCHAR"))
        else:
            cols.append((col.name, SQL_TYPES[col.type]))
    return cols + list(META_COLUMNS)


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema's tables when missing (idempotent)."""
    con.execute("create schema if not exists raw")
    for extract in EXTRACT_FILES:
        body = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in raw_columns(extract))
        con.execute(f"create table if not exists raw.{extract.table} (\n    {body}\n)")
    con.execute(
        """
        create table if not exists raw.quarantine (
            extract_date DATE NOT NULL,
            file_name VARCHAR NOT NULL,
            source_line BIGINT NOT NULL,
            reason VARCHAR NOT NULL,
            raw_record VARCHAR,
            loaded_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        create table if not exists raw.batches (
            extract_date DATE PRIMARY KEY,
            status VARCHAR NOT NULL,
            encoding VARCHAR,
            manifest_sha256 VARCHAR,
            files INTEGER,
            folder VARCHAR,
            rows_in BIGINT,
            rows_loaded BIGINT,
            rows_quarantined BIGINT,
            loaded_at TIMESTAMP,
            message VARCHAR
        )
        """
    )
    _add_columns(con, "raw.batches", BATCH_COLUMNS)
    con.execute(
        """
        create table if not exists raw.batch_files (
            extract_date DATE NOT NULL,
            file_name VARCHAR NOT NULL,
            sha256 VARCHAR,
            rows_in_manifest BIGINT,
            rows_in_file BIGINT,
            rows_loaded BIGINT,
            rows_quarantined BIGINT,
            loaded_at TIMESTAMP,
            problem VARCHAR,
            PRIMARY KEY (extract_date, file_name)
        )
        """
    )
    _add_columns(con, "raw.batch_files", BATCH_FILE_COLUMNS)
    con.execute(
        """
        create table if not exists raw.batch_rejections (
            extract_date DATE NOT NULL,
            file_name VARCHAR,
            message VARCHAR NOT NULL,
            rejected_at TIMESTAMP NOT NULL
        )
        """
    )
    _add_columns(con, "raw.batch_rejections", REJECTION_COLUMNS)
    for rule_table, columns in ADOPTED_RULE_TABLES.items():
        body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
        con.execute(f"create table if not exists {adopted_table(rule_table)} ({body})")
    for table, columns in PROPOSAL_TABLES.items():
        body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
        con.execute(f"create table if not exists {proposal_table(table)} ({body})")
    # The inputs of the published snapshot (dagster_project/lib/inputs.py): at most one row.
    con.execute(
        f"""
        create table if not exists {PUBLISHED_INPUTS} (
            fingerprint VARCHAR NOT NULL,
            build_id VARCHAR NOT NULL,
            snapshot VARCHAR NOT NULL,
            published_at TIMESTAMP NOT NULL
        )
        """
    )
    # The inputs the warehouse's tables were last built from, whole (dagster_project/lib/by_holder.py): at
    # most one row, deleted before the tables change and written when the dbt step has succeeded.
    con.execute(f"create table if not exists {BUILT_INPUTS} (inputs VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL)")


def _add_columns(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    """Columns added to the ledger after its first version (older warehouses get them here)."""
    for name, sql_type in columns:
        con.execute(f"alter table {table} add column if not exists {name} {sql_type}")
