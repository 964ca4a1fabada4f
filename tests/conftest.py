"""Shared fixtures: hand-made landing batches and a warehouse per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import load
from dagster_project.lib.warehouse import create_raw_tables
from dagster_project.project import PARTIAL_PARSE
from vipwh.contract import EXTRACT_FILES

REPO_ROOT = Path(__file__).resolve().parent.parent
KEY = "test-id-key"  # the national-ID key of every test (VIPWH_ID_KEY, set for each test below)


@pytest.fixture(autouse=True, scope="session")
def _id_key():
    """Hand-made books are not generated demo books: every build needs an ID key, as in production.

    Session-scoped, so that module-scoped warehouses (built before any function-scoped fixture) have it too.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIPWH_ID_KEY", KEY)
        patch.delenv("VIPWH_ID_KEY_FILE", raising=False)
        yield


def ingest(landing: Path, warehouse: Path) -> tuple[list[load.BatchOutcome], list[load.BatchOutcome]]:
    """The ingest stage without Dagster: register, load every file of pending batches, finalize."""
    now = datetime.now()
    with duckdb.connect(str(warehouse)) as con:
        create_raw_tables(con)
        load.check_key(con, KEY.encode())
        registered = load.register(con, landing, now, key=KEY.encode())
        for batch in load.pending_batches(con):
            for extract in EXTRACT_FILES:
                load.load_file(con, batch, extract, KEY.encode(), now)
        finalized = load.finalize(con, now)
    return registered, finalized


# The saved parse of this worker's last `dbt` run per (warehouse name, as-of date, command): the next warehouse of
# that name starts from it instead of parsing the whole project (7 s), as a build does (`project.keep_partial_parse`).
# dbt checks the saved parse against the project, the profile and the variables, and parses again what differs.
_SAVED_PARSES: dict[tuple[str, str, str], Path] = {}


def dbt(warehouse: Path, *args: str, as_of: str = "", command: str = "vipwh-dbt") -> subprocess.CompletedProcess:
    """Run dbt on a warehouse file (own target dir so tests never share dbt state).

    ``command`` is the builds' dbt (``vipwh-dbt``, which reuses a parse across warehouse folders) unless a test runs
    what a person runs by hand (``dbt``).
    """
    # the DuckDB target, whatever an in-process `vipwh build --engine spark` left in the environment
    env = {**os.environ, "VIPWH_WAREHOUSE": str(warehouse), "VIPWH_DBT_TARGET": "duckdb"}
    target = warehouse.parent / "dbt_target"
    saved, kept = (warehouse.stem, as_of, command), target / PARTIAL_PARSE
    if not kept.exists() and saved in _SAVED_PARSES and _SAVED_PARSES[saved].exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_SAVED_PARSES[saved], kept)
    cmd = [
        str(Path(sys.executable).with_name(command)),
        *args,
        "--project-dir",
        str(REPO_ROOT / "dbt_project"),
        "--profiles-dir",
        str(REPO_ROOT / "dbt_project"),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    if as_of:
        cmd += ["--vars", f'{{"as_of_date": "{as_of}"}}']
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    if kept.exists():
        _SAVED_PARSES[saved] = kept
    return done


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path


def install_or_skip(script: str, what: str) -> None:
    """Run ``scripts/<script>`` to install a system prerequisite (CI is root).

    When it fails: on CI the test fails, elsewhere it is skipped, with the script's error either way.
    """
    installed = subprocess.run(["bash", str(REPO_ROOT / "scripts" / script)], capture_output=True, text=True)
    if installed.returncode != 0:
        message = f"could not install {what}: {installed.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def ensure_java() -> None:
    """Java for the Spark builds (scripts/ensure_java.sh installs it when missing)."""
    if not shutil.which("java"):
        install_or_skip("ensure_java.sh", "Java for Spark")


ENGINES = ("duckdb", "spark")


def build_on(engine: str, landing: Path, root: Path, as_of: str | None = None) -> Path:
    """`vipwh build` of ``landing`` on ``engine`` under ``root``; returns the DuckDB file to query.

    On Spark that is the control file of the Spark warehouse directory (views on Spark's Parquet).
    """
    from vipwh.cli import main

    if engine == "spark":
        ensure_java()
        target = root / "spark"
    else:
        target = root / "wh.duckdb"
    args = ["build", "--landing", str(landing), "--warehouse", str(target), "--engine", engine, "--quiet"]
    if as_of:
        args += ["--as-of", as_of]
    assert main(args) == 0
    return target / "warehouse.duckdb" if engine == "spark" else target


# Files that build warehouses (on Spark above all) take minutes; the rest take seconds. The test workers
# (`make test`: pytest-xdist, one file per worker at a time, `--no-loadscope-reorder`) take files in
# collection order, so the long ones go first and the short ones fill in at the end, instead of one
# worker still building on Spark while the other idles. Measured per file (seconds, sum of setup and call,
# CI of 2026-12-01); an unlisted file comes after these, in its usual order. `test_by_holder.py` (124 s) comes
# last of them: listed third (beside the Spark build), the suite took 15 min 11 s and 15 min 01 s against 13 min
# 34 s and 13 min 22 s with it last (docs/benchmarks.md, session 24; a noisy machine, one run each).
SLOW_FILES = (
    "test_e2e_rules.py",
    "test_hardening.py",
    "test_launchers.py",
    "test_as_displayed.py",
    "test_scenarios.py",
    "test_rulebook.py",
    "test_ingest.py",
    "test_definitions.py",
    "test_quality.py",
    "test_blocking.py",
    "test_lint_sql.py",
    "test_readme.py",
    "test_batch_invariance.py",
    "test_publish.py",
    "test_by_holder.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))  # stable: order within a file kept
