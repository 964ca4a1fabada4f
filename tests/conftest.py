"""Shared fixtures: hand-made landing batches and a warehouse per test."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import load
from dagster_project.lib.warehouse import create_raw_tables
from vipwh.contract import EXTRACT_FILES

REPO_ROOT = Path(__file__).resolve().parent.parent
SALT = "test-salt"


def ingest(landing: Path, warehouse: Path) -> tuple[list[load.BatchOutcome], list[load.BatchOutcome]]:
    """The ingest stage without Dagster: register, load every file of pending batches, finalize."""
    now = datetime.now()
    with duckdb.connect(str(warehouse)) as con:
        create_raw_tables(con)
        registered = load.register(con, landing, now)
        for batch in load.pending_batches(con):
            for extract in EXTRACT_FILES:
                load.load_file(con, batch, extract, SALT, now)
        finalized = load.finalize(con, now)
    return registered, finalized


def dbt(warehouse: Path, *args: str, as_of: str = "") -> subprocess.CompletedProcess:
    """Run dbt on a warehouse file (own target dir so tests never share dbt state)."""
    env = {**os.environ, "VIPWH_WAREHOUSE": str(warehouse)}
    target = warehouse.parent / "dbt_target"
    cmd = [str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(REPO_ROOT / "dbt_project"),
           "--profiles-dir", str(REPO_ROOT), "--target-path", str(target), "--log-path", str(target / "logs")]
    if as_of:
        cmd += ["--vars", f'{{"as_of_date": "{as_of}"}}']
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path
