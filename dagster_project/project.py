"""Paths of the project and the dbt manifest (settings are in dagster_project/settings.py)."""

from __future__ import annotations

import fcntl
import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


# the dbt of this Python environment (the venv's bin/): vipwh's entry point to it, which reuses the last build's
# parse for another warehouse (vipwh/dbt_cli.py), when installed
OWN_DBT = Path(sys.executable).with_name("vipwh-dbt")
if not OWN_DBT.exists():
    OWN_DBT = OWN_DBT.with_name("dbt")


def dbt_executable() -> str:
    """The dbt of this Python environment, else whatever is on PATH."""
    return str(OWN_DBT) if OWN_DBT.exists() else "dbt"


def files_under(root: Path, skip: frozenset[str] | set[str], patterns: tuple[str, ...] = ("*",)) -> list[Path]:
    """The files under ``root`` matching any of ``patterns``, sorted, in one walk that does not descend into a folder
    named in ``skip`` (and takes no file so named): dbt's ``target/`` holds a folder per invocation, tens of thousands
    of files in a checkout that ran the tests, which walking took seconds of every build's start."""
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in skip]
        found += [
            Path(folder, name)
            for name in files
            if name not in skip and any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
        ]
    return sorted(found)


def _dbt_sources() -> list[Path]:
    return files_under(DBT_PROJECT_DIR, {"target", "dbt_packages"}, ("*.sql", "*.yml", "*.yaml", "*.csv"))


def ensure_dbt_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file.

    The manifest defines the dbt assets; a build's own ``dbt build`` parses again with the build's profile
    environment, reusing the partial parse that ``keep_partial_parse`` saved from the last build when that
    environment renders the same profile (dbt re-parses in full when it does not).
    """
    DBT_MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with (DBT_MANIFEST.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several builds (or test workers) may start at once
        if not force and DBT_MANIFEST.exists():
            built = DBT_MANIFEST.stat().st_mtime
            if all(path.stat().st_mtime <= built for path in _dbt_sources()):
                return DBT_MANIFEST
        parsed = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            cwd=DBT_PROJECT_DIR,  # where the profile's defaults are relative to
            capture_output=True,
            text=True,
        )
    if parsed.returncode != 0:
        raise DbtParseError("the dbt project does not parse:\n" + (parsed.stdout + parsed.stderr).strip())
    return DBT_MANIFEST


def keep_partial_parse(invocation_target: Path) -> None:
    """Save a finished dbt invocation's partial parse as the project's, for the next invocation to start from.

    dagster-dbt copies ``target/partial_parse.msgpack`` into each invocation's own target folder; dbt reuses it
    only when the profile renders the same (the same warehouse, limits, …), so the last build's parse is the
    one the next build of the same warehouse can reuse. Replaced atomically: builds may run side by side.
    """
    source = invocation_target / "partial_parse.msgpack"
    if not source.exists():
        return
    destination = DBT_MANIFEST.parent / "partial_parse.msgpack"
    staging = destination.with_name(f".partial_parse.{invocation_target.name}.tmp")
    with (DBT_MANIFEST.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # not while `ensure_dbt_manifest` parses
        shutil.copyfile(source, staging)
        os.replace(staging, destination)


class DbtParseError(RuntimeError):
    """`dbt parse` failed: the project has an error (message from dbt)."""
