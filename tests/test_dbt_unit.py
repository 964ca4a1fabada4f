"""Every dbt unit test (model logic against hand-worked expectations) passes, and the project's SQL
compiles. Runs on an empty warehouse: unit tests need only the relations to exist."""

from __future__ import annotations

import json

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
    # run_results, not the summary line: the on-run-start hook (empty on DuckDB) counts there as a PASS
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert sorted(statuses) == sorted(unit_tests)
    assert set(statuses.values()) == {"pass"}, statuses
