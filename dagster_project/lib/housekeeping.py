"""Leftovers of interrupted builds, removed by the next build (which holds the warehouse's lock).

* in ``<warehouse>.published/``: ``.*.duckdb.tmp`` (a snapshot being written), ``*.wal`` files, ``CURRENT.tmp``,
  and Parquet folders that belong to no snapshot file (an interrupted publish);
* dbt's per-invocation target folders ``dbt_project/target/vipwh_dbt-*``: the newest ``KEEP_DBT_TARGETS`` kept.

Snapshots themselves are pruned by ``publish`` as before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster_project.lib.publish import current_snapshot, published_dir

KEEP_DBT_TARGETS = 3


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


def prune_dbt_targets(target_dir: Path, keep: int = KEEP_DBT_TARGETS) -> list[str]:
    """Keep the ``keep`` newest ``vipwh_dbt-*`` folders of dbt's target directory."""
    if not target_dir.is_dir():
        return []
    folders = sorted(
        (p for p in target_dir.glob("vipwh_dbt-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    removed = []
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed
