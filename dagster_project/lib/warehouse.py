"""DDL of the warehouse's raw layer: typed, append-only history tables, the quarantine and the ledger."""

from __future__ import annotations

import duckdb

from vipwh.contract import EXTRACT_FILES, ExtractFile

# The fingerprint of the published snapshot's inputs (dagster_project/lib/inputs.py), created below.
PUBLISHED_INPUTS = "raw.published_inputs"

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


def _add_columns(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    """Columns added to the ledger after its first version (older warehouses get them here)."""
    for name, sql_type in columns:
        con.execute(f"alter table {table} add column if not exists {name} {sql_type}")
