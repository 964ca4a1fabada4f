"""Leftovers of interrupted builds, removed by the next build (which holds the warehouse's lock).

* in ``<warehouse>.published/``: ``.*.duckdb.tmp`` (a snapshot being written), ``*.wal`` files, ``CURRENT.tmp``,
  and Parquet folders that belong to no snapshot file (an interrupted publish);
* dbt's per-invocation target folders ``dbt_project/target/vipwh_dbt-*``: the newest ``KEEP_DBT_TARGETS`` kept,
  and any written to in the last ``IDLE_HOURS`` (another warehouse's build may be using it);
* after a whole dbt build, the tables and views of a model or seed the project no longer has (dbt never drops
  them: a renamed model would otherwise stay, stale, and be published under its old name).

Snapshots themselves are pruned by ``publish`` as before.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib import build_info
from dagster_project.lib.publish import current_snapshot, published_dir
from dagster_project.lib.quality.results import RESULTS_TABLE

KEEP_DBT_TARGETS = 3
IDLE_HOURS = 12.0


def clean_published(warehouse: Path) -> list[str]:
    """Remove what an interrupted publish left; returns the names removed."""
    folder = published_dir(warehouse)
    if not folder.is_dir():
        return []
    current = current_snapshot(warehouse)
    keep = {p.stem for p in folder.glob("*.duckdb")}
    removed: list[str] = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if path.is_dir():
            if name not in keep:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(name + "/")
        elif name.endswith((".duckdb.tmp", ".duckdb.tmp.wal", ".wal")) or name == "CURRENT.tmp":
            if current is not None and name == current.name:
                continue
            path.unlink(missing_ok=True)
            removed.append(name)
    return removed


def prune_dbt_targets(target_dir: Path, keep: int = KEEP_DBT_TARGETS, idle_hours: float = IDLE_HOURS) -> list[str]:
    """Remove the ``vipwh_dbt-*`` folders of dbt's target directory but the ``keep`` newest and the busy ones.

    The target directory is the dbt project's, shared by every warehouse built from this checkout: a build of
    another warehouse may be running its dbt invocation in one of these folders right now. A folder is removed
    only when nothing in it has been written for ``idle_hours`` (dbt writes a compiled and a run file per model,
    so a folder in use is never idle that long).

    Another build of this checkout may be pruning at the same time: a folder that vanishes while this looks at it
    was removed by that build, and is passed over.
    """
    if not target_dir.is_dir():
        return []
    dated = [(mtime, p) for p in target_dir.glob("vipwh_dbt-*") if (mtime := _modified(p)) is not None]
    folders = [p for _, p in sorted(dated, key=lambda dated_folder: dated_folder[0], reverse=True)]
    idle_since = time.time() - idle_hours * 3600
    removed = []
    for old in folders[keep:]:
        last = _last_written(old)
        if last is not None and last < idle_since:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old.name)
    return removed


def _modified(folder: Path) -> float | None:
    """The folder's own modification time (None: it is not a folder, or is gone)."""
    try:
        status = folder.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime if stat.S_ISDIR(status.st_mode) else None


def _last_written(folder: Path) -> float | None:
    """The newest modification time of the folder and of everything under it (None: the folder is gone)."""
    newest = _modified(folder)
    if newest is None:
        return None
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:  # removed meanwhile
                continue
    return newest


# tables in the dbt project's schemas that Python writes (dagster_project/defs/publish.py), not dbt
WRITTEN_BY_PYTHON = frozenset({build_info.TABLE, RESULTS_TABLE})


def drop_retired_relations(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> list[str]:
    """Drop the tables and views, in the schemas the dbt project builds into, that are no model or seed of it.

    ``manifest`` is the dbt manifest of the build that just ran (its enabled and disabled nodes both count as
    the project's). Schemas the project does not build into (raw, scenarios, …) are not looked at. Returns the
    relations dropped, as ``schema.name``.
    """
    nodes = list(manifest["nodes"].values())
    nodes += [node for versions in manifest.get("disabled", {}).values() for node in versions]
    built = [node for node in nodes if node.get("resource_type") in ("model", "seed", "snapshot")]
    known = {f"{node['schema']}.{node.get('alias') or node['name']}".lower() for node in built}
    schemas = sorted({node["schema"].lower() for node in built if node.get("config", {}).get("enabled", True)})
    if not schemas:
        return []
    relations = con.execute(
        f"""select table_schema, table_name, table_type from information_schema.tables
            where table_catalog = current_database() and lower(table_schema) in ({", ".join("?" for _ in schemas)})
            order by 1, 2""",
        schemas,
    ).fetchall()
    dropped = []
    for schema, name, kind in relations:
        qualified = f"{schema}.{name}"
        if qualified.lower() in known or qualified.lower() in WRITTEN_BY_PYTHON:
            continue
        con.execute(f'drop {"view" if kind == "VIEW" else "table"} if exists "{schema}"."{name}"')
        dropped.append(qualified)
    return dropped
