"""What a build's marts are a function of, and whether the published snapshot already answers it.

The marts, checks and snapshot of a build are a function of its *inputs*: the loaded batches (each by its
extract date and manifest checksum), the valuation date the models use, the engine, the quarantine
thresholds of the checks, and the code (every file of the dbt project but its build output, and the Python
of the build's steps). When a build's inputs equal those of the build that published the current snapshot,
there is nothing new: the dbt step skips, and with it the checks on its assets, build_info and publishing,
so readers keep that snapshot (`docs/decisions.md`, "A build with nothing new").

``raw.published_inputs`` holds the fingerprint of the published snapshot's inputs, one row. The dbt step
deletes it before it changes any table (the warehouse no longer matches a snapshot until this build
publishes) and the publish step writes it after the snapshot is swapped in, so a build that fails between
the two leaves no row and the next build computes in full.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project import project
from dagster_project.lib.warehouse import PUBLISHED_INPUTS, adopted_table, proposal_table
from dagster_project.settings import Settings

# build output and local state inside the dbt project, which are not inputs
_NOT_INPUTS = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml", "package-lock.yml"}
_CODE_ROOT = Path(__file__).resolve().parent.parent  # dagster_project/


def _code_files() -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for label, root, pattern in (("dbt", project.DBT_PROJECT_DIR, "*"), ("dagster", _CODE_ROOT, "*.py")):
        for path in project.files_under(root, _NOT_INPUTS, (pattern,)):
            files.append((f"{label}/{path.relative_to(root).as_posix()}", path))
    return files


def code_digest() -> str:
    """A digest of the code the marts come from: the dbt project's files and the build's Python."""
    digest = hashlib.sha256()
    for name, path in _code_files():
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def describe(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict:
    """This build's inputs (the batches loaded so far, so: after ingestion), as a JSON-able dict."""
    batches = con.execute(
        "select cast(extract_date as varchar), manifest_sha256 from raw.batches where status = 'loaded' order by 1"
    ).fetchall()
    # a rulebook adopted since (`vipwh rulebook adopt`) re-rates the book from its date: the inputs changed
    adopted = con.execute(
        f"select rulebook_id, cast(effective_from as varchar), cast(adopted_at as varchar) "
        f"from {adopted_table('rulebooks')} order by 1"
    ).fetchall()
    # so is a scenario stored since (`vipwh scenario run`): the build re-rates every stored scenario
    scenarios = con.execute(
        f"select scenario_id, cast(run_at as varchar) from {proposal_table('runs')} order by 1"
    ).fetchall()
    as_of = settings.as_of_date()
    inputs = {
        "batches": [list(row) for row in batches],
        "adopted_rulebooks": [list(row) for row in adopted],
        "scenarios": [list(row) for row in scenarios],
        "as_of": as_of.isoformat() if as_of else (batches[-1][0] if batches else None),
        "engine": settings.engine_name(),
        "dbt_target": settings.dbt_target(),
        "quarantine": [settings.value("quarantine_rate_max"), settings.value("quarantine_min_rows")],
        "code": code_digest(),
    }
    return inputs


def fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings, described: dict | None = None) -> str:
    """The fingerprint of this build's inputs: a digest of ``describe``."""
    inputs = described if described is not None else describe(con, settings)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


def published(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The published snapshot's inputs: fingerprint, build_id, snapshot, published_at (None: none known)."""
    row = con.execute(f"select fingerprint, build_id, snapshot, published_at from {PUBLISHED_INPUTS}").fetchone()
    return dict(zip(("fingerprint", "build_id", "snapshot", "published_at"), row, strict=True)) if row else None


def unchanged(con: duckdb.DuckDBPyConnection, settings: Settings, described: dict | None = None) -> dict | None:
    """The published snapshot's inputs when this build's are the same and no full refresh is asked, else None.

    What "nothing new" means, for every step that acts on it: the dbt step, the checks on the raw layer, and
    on Spark the export of the raw tables. ``described``: this build's ``describe``, when the caller has it.
    """
    if settings.full_refresh_asked():
        return None
    last = published(con)
    return last if last is not None and last["fingerprint"] == fingerprint(con, settings, described) else None


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse is about to change: it answers no published inputs until the next publish."""
    con.execute(f"delete from {PUBLISHED_INPUTS}")


def record(con: duckdb.DuckDBPyConnection, fingerprint_: str, build_id: str, snapshot: Path | str) -> None:
    con.execute(f"delete from {PUBLISHED_INPUTS}")
    con.execute(
        f"insert into {PUBLISHED_INPUTS} values (?, ?, ?, ?)", [fingerprint_, build_id, str(snapshot), datetime.now()]
    )
