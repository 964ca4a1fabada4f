"""Paths of the project and the dbt manifest (settings are in dagster_project/settings.py)."""

from __future__ import annotations

import fcntl
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import time
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


PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's saved parse, in a target folder
# the first pass of a build by holder's saved parse, beside the project's (its var renames every schema)
BY_HOLDER_PARSE = "partial_parse.by_holder.msgpack"


def keep_partial_parse(invocation_target: Path, kept_as: str = PARTIAL_PARSE) -> None:
    """Save a finished dbt invocation's partial parse as the project's, for the next invocation to start from.

    dagster-dbt copies ``target/partial_parse.msgpack`` into each invocation's own target folder; dbt reuses it
    when the profile renders the same but for the warehouse's folder and limits (``vipwh-dbt``, vipwh/dbt_cli.py),
    so the last build's parse is the one the next build of a warehouse of the same name can reuse. The first pass of
    a build by holder keeps its own (``BY_HOLDER_PARSE``, ``start_from_kept_parse``). Replaced atomically: builds may
    run side by side.
    """
    source = invocation_target / PARTIAL_PARSE
    if not source.exists():
        return
    destination = DBT_MANIFEST.parent / kept_as
    _copy_locked(source, destination, destination.with_name(f".{kept_as}.{invocation_target.name}.tmp"))


def start_from_kept_parse(invocation_target: Path, kept_as: str) -> bool:
    """Give an invocation's own target folder the parse kept as ``kept_as``, when it has none of its own (its own is
    its warehouse's last); True when it was given. dagster-dbt would give it the project's main parse instead."""
    source = DBT_MANIFEST.parent / kept_as
    destination = invocation_target / PARTIAL_PARSE
    if destination.exists() or not source.exists():
        return False
    invocation_target.mkdir(parents=True, exist_ok=True)
    _copy_locked(source, destination, destination.with_name(f".{PARTIAL_PARSE}.tmp"))
    return True


def _copy_locked(source: Path, destination: Path, staging: Path) -> None:
    """Copy a saved parse through ``staging`` and replace ``destination`` atomically, holding the project's parse
    lock: not while `ensure_dbt_manifest` parses, nor while another build keeps or takes a parse."""
    with (DBT_MANIFEST.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.copyfile(source, staging)
        os.replace(staging, destination)


# dagster-dbt gives each dbt invocation its own target folder under the project's, named
# ``<op>-<run id's first 7>-<7 hex>``; nothing else removes them (13 MB and 690 files for a small build)
INVOCATION_TARGET = re.compile(r"[A-Za-z0-9_]+-[0-9a-f]{7}-[0-9a-f]{7}")
KEEP_INVOCATION_TARGETS_DAYS = 7


def prune_invocation_targets(now: float | None = None) -> list[str]:
    """Remove the dbt invocations' own target folders untouched for ``KEEP_INVOCATION_TARGETS_DAYS``; their names.

    Builds of other warehouses share the project's target folder and may be running, so only folders far older than
    any build are removed; a week of builds' compiled and run SQL stays for whoever looks into one.
    """
    cutoff = (now if now is not None else time.time()) - KEEP_INVOCATION_TARGETS_DAYS * 86400
    removed = []
    try:
        entries = list(os.scandir(DBT_MANIFEST.parent))
    except OSError:
        return removed
    for entry in entries:
        try:
            if not (entry.is_dir(follow_symlinks=False) and INVOCATION_TARGET.fullmatch(entry.name)):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return sorted(removed)


class DbtParseError(RuntimeError):
    """`dbt parse` failed: the project has an error (message from dbt)."""
