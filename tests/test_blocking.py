"""A blocking check failure fails `vipwh build` and leaves readers on the last good snapshot.

The wrong rule is put into a *copy* of the project (its coefficient seed), as a product owner's typo
would be; the repository itself is never touched. The first, good build is the repository's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.lib.publish import current_snapshot
from dagster_project.project import DBT_MANIFEST, PARTIAL_PARSE
from tests.conftest import REPO_ROOT, query
from tests.test_e2e_rules import POLICIES, _customer, _new_business
from vipwh.cli import main
from vipwh.landing import write_batch


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "data",
        "target",
        "logs",
        "__pycache__",
        "*.duckdb",
        ".pytest_cache",
        ".ruff_cache",
        "__marimo__",
    )
    shutil.copytree(REPO_ROOT, target, ignore=ignore)
    # the repository's last parse, as a checkout that has built before has it: dbt then parses again only the
    # files that differ (the altered seed), not the whole project
    saved = DBT_MANIFEST.parent / PARTIAL_PARSE
    if saved.exists():
        copied = target / saved.relative_to(REPO_ROOT)
        copied.parent.mkdir()
        shutil.copy2(saved, copied)
    return target


def _build(project: Path, landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "vipwh.cli",
            "build",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--quiet",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_wrong_coefficient_seed_fails_the_build_and_is_not_published(tmp_path: Path, capsys):
    project = _copy_project(tmp_path / "project")
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    # H1 of RULES §7 example 2: a monthly policy with Y = 5 years, coefficient Y/10 = 0.5
    write_batch(
        landing,
        "2026-11-20",
        {
            "customers.csv": [_customer("H1")],
            "policies.csv": POLICIES[:2],
            "policy_transactions.csv": [
                _new_business(f"T{p['policy_no']}", p["policy_no"], p["modal_premium"], p["effective_date"])
                for p in POLICIES[:2]
            ],
        },
    )
    # the good build: the repository's own project, in this process (only the wrong seed needs the copy)
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    first_snapshot = current_snapshot(warehouse)
    assert first_snapshot is not None

    seed = project / "dbt_project" / "seeds" / "rating" / "rating_coefficients.csv"
    lines = seed.read_text(encoding="utf-8").splitlines()
    # the "< 10 years" rows multiply by 0.1 per payment year; make it 0.2 per year (Y/5 instead of Y/10)
    altered = [line.replace(",,0.1,effective_date", ",,0.2,effective_date") for line in lines]
    assert altered != lines
    seed.write_text("\n".join(altered) + "\n", encoding="utf-8")

    write_batch(landing, "2026-11-21", {"customers.csv": [{**_customer("H1"), "city": "苏州市"}]})
    bad = _build(project, landing, warehouse)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAILED (blocking) marts/fct_policy_rating · coefficients" in bad.stderr
    assert "NOT published" in bad.stderr
    assert current_snapshot(warehouse) == first_snapshot  # readers keep the last good numbers
    # the altered project was parsed once, before the build, with the build's profile; its dbt reused that parse
    bad_log = sorted((tmp_path / "logs").glob("build-*.log"))[-1].read_text(encoding="utf-8")
    assert "Running with dbt" in bad_log
    assert "Unable to do partial parsing" not in bad_log
    results = query(
        warehouse,
        """select check_name, passed from quality.dq_check_results
                                  where check_name = 'coefficients' order by checked_at""",
    )
    assert results == [("coefficients", True), ("coefficients", False)]

    # a scenario run on that warehouse stores and rates the scenario, and publishes nothing either: the
    # warehouse's marts are not the published ones
    capsys.readouterr()
    proposal = REPO_ROOT / "data" / "scenarios" / "raise_star1_35000.yaml"
    assert main(["scenario", "run", str(proposal), "--warehouse", str(warehouse)]) == 0
    assert "NOT published" in capsys.readouterr().err
    assert current_snapshot(warehouse) == first_snapshot
    assert query(warehouse, "select scenario_id from scenarios.scenario_runs") == [("raise_star1_35000",)]


def test_a_project_that_does_not_parse_is_said_before_anything_is_touched(tmp_path: Path):
    project = _copy_project(tmp_path / "project")
    # a model naming a model that does not exist, as a half-finished edit would
    (project / "dbt_project" / "models" / "marts" / "mart_draft.sql").write_text(
        "select * from {{ ref('no_such_model') }}\n", encoding="utf-8"
    )
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_batch(landing, "2026-11-20", {"customers.csv": [_customer("H1")]})
    done = _build(project, landing, warehouse)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the dbt project does not parse" in done.stderr
    assert "no_such_model" in done.stderr  # dbt's own words: which reference is missing
    assert not warehouse.exists()  # no batch was loaded, nothing was created
