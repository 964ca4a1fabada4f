"""A build's inputs (lib/inputs.py): what makes a build with nothing new skip, and what makes it compute.

The whole skip, on a real build (the snapshot kept, then a full refresh), is in
test_definitions.py::test_vipwh_build_twice_changes_nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project import project
from dagster_project.lib import inputs
from dagster_project.lib.warehouse import PUBLISHED_INPUTS, create_raw_tables
from dagster_project.settings import Settings

BATCH = "insert into raw.batches (extract_date, status, manifest_sha256) values (?, ?, ?)"


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        create_raw_tables(con)
        con.execute(BATCH, ["2026-01-05", "loaded", "a"])
        yield con


def _settings(tmp_path: Path, **fields) -> Settings:
    return Settings(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "wh"), **fields)


def test_the_same_inputs_give_the_same_fingerprint_and_each_input_changes_it(con, tmp_path: Path):
    base = inputs.fingerprint(con, _settings(tmp_path))
    assert inputs.fingerprint(con, _settings(tmp_path)) == base
    # the latest extract date is the valuation date when none is given: naming it changes nothing
    assert inputs.fingerprint(con, _settings(tmp_path, as_of="2026-01-05")) == base
    assert inputs.fingerprint(con, _settings(tmp_path, as_of="2026-01-04")) != base
    assert inputs.fingerprint(con, _settings(tmp_path, engine="spark")) != base
    assert inputs.fingerprint(con, _settings(tmp_path, quarantine_rate_max="0.5")) != base

    con.execute(BATCH, ["2026-01-06", "rejected", "b"])
    assert inputs.fingerprint(con, _settings(tmp_path)) == base  # a rejected batch adds no rows
    con.execute("update raw.batches set status = 'loaded' where extract_date = '2026-01-06'")
    assert inputs.fingerprint(con, _settings(tmp_path)) != base


def test_a_changed_seed_or_model_changes_the_fingerprint_and_build_output_does_not(con, tmp_path: Path, monkeypatch):
    copy = tmp_path / "dbt_project"
    shutil.copytree(project.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(project, "DBT_PROJECT_DIR", copy)
    base = inputs.fingerprint(con, _settings(tmp_path))

    (copy / "target").mkdir()
    (copy / "target" / "manifest.json").write_text("{}")
    (copy / "logs").mkdir()
    (copy / "logs" / "dbt.log").write_text("a log line")
    assert inputs.fingerprint(con, _settings(tmp_path)) == base

    seed = next((copy / "seeds").rglob("*.csv"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed_seed = inputs.fingerprint(con, _settings(tmp_path))
    assert changed_seed != base

    model = next((copy / "models").rglob("*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- a comment\n", encoding="utf-8")
    assert inputs.fingerprint(con, _settings(tmp_path)) not in (base, changed_seed)


def test_published_inputs_are_forgotten_before_the_tables_change(con):
    assert inputs.published(con) is None
    inputs.record(con, "f1", "run-1", "/snapshots/one.duckdb")
    assert inputs.published(con)["fingerprint"] == "f1"
    assert inputs.published(con)["build_id"] == "run-1"
    inputs.record(con, "f2", "run-2", "/snapshots/two.duckdb")
    assert con.execute(f"select fingerprint from {PUBLISHED_INPUTS}").fetchall() == [("f2",)]  # one row
    inputs.forget(con)
    assert inputs.published(con) is None
