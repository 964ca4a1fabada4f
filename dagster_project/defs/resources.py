"""The warehouse connection every asset opens, from the run's settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from dagster_project.lib.warehouse import create_raw_tables
from dagster_project.settings import Settings


@contextmanager
def connect(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the run's DuckDB file, with the raw layer's tables in place."""
    target = settings.warehouse_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target), config=settings.duckdb_config())
    try:
        create_raw_tables(con)
        yield con
    finally:
        con.close()
