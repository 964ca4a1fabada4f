"""Every way of starting the build builds the same warehouse: `vipwh build`, `dagster job execute` with only
the two documented environment variables (no virtual environment on PATH, a relative warehouse path), and a
run launched through `dagster dev`'s GraphQL API (what the UI's Materialize button sends).

Each must ingest, build, check, record its own check results and publish: the snapshot's build_info names
the run, its quality.dq_check_results holds that run's outcomes, and every mart equals `vipwh build`'s.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from vipwh.cli import main

BIN = Path(sys.executable).parent
BARE_PATH = "/usr/bin:/bin"  # no venv: dagster is started by its full path, dbt must be found without PATH


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, Path]:
    """A generated 150-holder book in two batches, and the warehouse `vipwh build` makes of it."""
    root = tmp_path_factory.mktemp("launchers")
    landing = root / "landing"
    assert main(["generate", "--out", str(landing), "--holders", "150", "--seed", "5", "--batches", "2"]) == 0
    reference = root / "reference" / "wh.duckdb"
    assert main(["build", "--landing", str(landing), "--warehouse", str(reference), "--quiet"]) == 0
    return landing, reference


def _compare(reference: Path, candidate: Path) -> str:
    compared = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "compare_marts.py"),
            str(reference),
            str(candidate),
            "--schemas",
            "marts,rules",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert compared.returncode == 0, compared.stdout + compared.stderr
    return compared.stdout


def _assert_published_with_own_results(warehouse: Path, run_id: str | None = None) -> None:
    from dagster_project.lib.publish import connect_snapshot

    with connect_snapshot(warehouse) as con:
        build_id, checks_run, checks_failed = con.execute(
            "select build_id, checks_run, checks_failed from marts.build_info"
        ).fetchone()
        recorded = con.execute(
            "select count(*) from quality.dq_check_results where build_id = ?", [build_id]
        ).fetchone()[0]
    if run_id is not None:
        assert build_id == run_id
    assert checks_run > 150 and checks_failed == 0
    assert recorded == checks_run


def test_dagster_job_execute_with_only_the_documented_variables(book, tmp_path: Path):
    landing, reference = book
    env = {
        "HOME": str(tmp_path),
        "PATH": BARE_PATH,
        "VIPWH_LANDING": str(landing),
        "VIPWH_WAREHOUSE": "built/wh.duckdb",
    }  # relative: resolved against where the command runs
    done = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            "-m",
            "dagster_project.definitions",
            "-j",
            "vipwh_build",
            "--working-directory",
            str(REPO_ROOT),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    warehouse = tmp_path / "built" / "wh.duckdb"
    assert warehouse.exists()
    _assert_published_with_own_results(warehouse)
    assert "all equal" in _compare(reference, warehouse)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_run_launched_from_dagster_dev_builds_checks_records_and_publishes(book, tmp_path: Path):
    from dagster_graphql import DagsterGraphQLClient

    landing, reference = book
    port = _free_port()
    (tmp_path / "home").mkdir()
    env = {
        "HOME": str(tmp_path),
        "PATH": BARE_PATH,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "VIPWH_LANDING": str(landing),
        "VIPWH_WAREHOUSE": "data/wh.duckdb",
    }
    server = subprocess.Popen(
        [
            str(BIN / "dagster"),
            "dev",
            "-m",
            "dagster_project.definitions",
            "-p",
            str(port),
            "--working-directory",
            str(REPO_ROOT),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        deadline = time.monotonic() + 180
        while True:
            try:
                run_id = client.submit_job_execution("vipwh_build")
                break
            except Exception:  # noqa: BLE001 - the webserver is still starting
                assert time.monotonic() < deadline, "dagster dev did not start in 180 s"
                time.sleep(2)
        deadline = time.monotonic() + 900
        while (status := client.get_run_status(run_id).value) not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert time.monotonic() < deadline, "the run did not finish in 900 s"
            time.sleep(3)
        assert status == "SUCCESS"
    finally:
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    warehouse = tmp_path / "data" / "wh.duckdb"
    _assert_published_with_own_results(warehouse, run_id)
    assert "all equal" in _compare(reference, warehouse)
