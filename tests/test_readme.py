"""Every command of the README's shell blocks is run here as written (on a small book), or names the test
that runs it; a command the README gains without either fails this test.

`make demo` runs with a 300-holder book into a temporary folder (the Makefile's variables), from the repo
root as the README says; the Python one-liner then reads that warehouse.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# commands run by another test (or by CI itself), with the test that runs them
COVERED_ELSEWHERE = {
    "make test": "CI's .ci/run (this very suite)",
    "make dev": "tests/test_launchers.py::test_a_run_launched_from_dagster_dev_builds_checks_records_and_publishes",
    "make demo-spark": "tests/test_e2e_rules.py (the same `vipwh build --engine spark`, a generated book in it)",
}


def readme_commands() -> list[str]:
    """The commands of the README's ```sh blocks: continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_readme_lists_its_commands():
    commands = readme_commands()
    assert "make demo" in commands and "make test" in commands


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    warehouse = root / "warehouse.duckdb"
    done = subprocess.run(
        [
            "make",
            "demo",
            "DEMO_HOLDERS=300",
            "DEMO_BATCHES=2",
            f"LANDING={root / 'landing'}",
            f"WAREHOUSE={warehouse}",
            f"BIN={Path(sys.executable).parent}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "published:" in done.stdout
    return warehouse


def test_every_readme_command_runs_or_is_covered(demo: Path):
    for command in readme_commands():
        if command in COVERED_ELSEWHERE or command == "make demo":
            continue  # make demo: the fixture ran it
        if command.startswith(".venv/bin/python -c "):
            script = command.removeprefix(".venv/bin/python -c ").strip()[1:-1]  # the quoted program
            assert "data/warehouse.duckdb" in script
            done = subprocess.run(
                [sys.executable, "-c", script.replace("data/warehouse.duckdb", str(demo))],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            # tier counts of the demo book: a table of tier codes with their member counts
            assert "family" in done.stdout and "star1" in done.stdout
            continue
        pytest.fail(f"README command not run by any test: {command!r}")
