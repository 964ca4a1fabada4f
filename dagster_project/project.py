"""Paths of the project and the dbt manifest (settings are in dagster_project/settings.py)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> str:
    """The dbt of this Python environment (the venv's bin/), else whatever is on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def _dbt_sources() -> list[Path]:
    patterns = ("*.sql", "*.yml", "*.yaml", "*.csv")
    return [
        path
        for pattern in patterns
        for path in DBT_PROJECT_DIR.rglob(pattern)
        if "target" not in path.parts and "dbt_packages" not in path.parts
    ]


def ensure_dbt_manifest(force: bool = False, env: Mapping[str, str] | None = None) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file.

    ``env``: the whole environment of the dbt run to come (the profile reads its ``VIPWH_*`` variables).
    dbt's partial parse is only reused
    by a run whose profile renders the same, so a different ``env`` than the last parse's re-parses with it;
    without ``env`` (loading the definitions) the manifest's age alone decides.
    """
    DBT_MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    profile_env = sorted((name, value) for name, value in (env or {}).items() if name.startswith("VIPWH_"))
    fingerprint = hashlib.sha256(json.dumps(profile_env).encode()).hexdigest()
    stamp = DBT_MANIFEST.parent / ".parse_env"
    with (DBT_MANIFEST.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several builds (or test workers) may start at once
        if not force and DBT_MANIFEST.exists():
            built = DBT_MANIFEST.stat().st_mtime
            same_env = env is None or (stamp.exists() and stamp.read_text() == fingerprint)
            if same_env and all(path.stat().st_mtime <= built for path in _dbt_sources()):
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
            env=env,  # None: this process's environment
            capture_output=True,
            text=True,
        )
        if parsed.returncode == 0:
            stamp.write_text(fingerprint)
    if parsed.returncode != 0:
        raise DbtParseError("the dbt project does not parse:\n" + (parsed.stdout + parsed.stderr).strip())
    return DBT_MANIFEST


class DbtParseError(RuntimeError):
    """`dbt parse` failed: the project has an error (message from dbt)."""
