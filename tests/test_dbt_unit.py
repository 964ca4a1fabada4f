"""Every dbt unit test (model logic against hand-worked expectations) passes, and the project's SQL
compiles. Runs on an empty warehouse: unit tests need only the relations to exist."""

from __future__ import annotations

import re

import duckdb

from dagster_project.lib.warehouse import create_raw_tables
from tests.conftest import dbt


def test_dbt_unit_tests_pass(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        create_raw_tables(con)
    built = dbt(warehouse, "build", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test")
    assert built.returncode == 0, built.stdout[-4000:]
    listed = dbt(warehouse, "ls", "--resource-type", "unit_test", "--output", "name", "--quiet")
    unit_tests = [line for line in listed.stdout.splitlines() if line.strip()]
    assert len(unit_tests) >= 10, listed.stdout
    result = dbt(warehouse, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-6000:]
    summary = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", result.stdout)
    assert summary is not None, result.stdout[-2000:]
    assert summary.groups() == (str(len(unit_tests)), "0", "0", "0")
