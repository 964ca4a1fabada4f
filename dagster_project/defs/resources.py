"""The warehouse connection as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project import project
from dagster_project.lib.warehouse import create_raw_tables


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file and the landing folder (empty = from VIPWH_* environment variables)."""

    path: str = ""
    landing: str = ""

    def warehouse_file(self) -> Path:
        return Path(self.path).resolve() if self.path else project.warehouse_path()

    def landing_dir(self) -> Path:
        return Path(self.landing).resolve() if self.landing else project.landing_path()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        target = self.warehouse_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(target))
        try:
            create_raw_tables(con)
            yield con
        finally:
            con.close()
