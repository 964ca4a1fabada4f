"""Load validated extract files into the raw layer, batch by batch, all or nothing.

The life of a batch in ``raw.batches``:

* ``pending``  — its manifest and checksums verified; its files are being loaded;
* ``loaded``   — every file of its manifest loaded, rows reconciled; staging now sees it;
* ``rejected`` — a file disagreed with the manifest; nothing of it is kept (re-verified next run).

Each file of a batch is loaded in one transaction that first deletes what an earlier attempt left,
so a retry after a crash is safe. Staging reads only ``loaded`` batches, so a batch is never visible
half-loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.lib import batches as batch_lib
from dagster_project.lib.parse import LINE, REASON, TYPED, MissingColumnsError, read_extract, validate
from dagster_project.lib.warehouse import raw_columns
from vipwh.contract import EXTRACT_FILES, ExtractFile, service_codes


@dataclass(frozen=True)
class FileLoad:
    extract_date: str
    file_name: str
    rows_in_manifest: int
    rows_in_file: int
    rows_loaded: int
    rows_quarantined: int
    problem: str | None = None


@dataclass(frozen=True)
class BatchOutcome:
    extract_date: str
    status: str  # loaded, rejected, skipped
    message: str = ""


def register(con: duckdb.DuckDBPyConnection, landing: Path, now: datetime) -> list[BatchOutcome]:
    """Verify every complete batch not yet loaded; mark it pending or rejected (with the reasons)."""
    outcomes: list[BatchOutcome] = []
    loaded = {
        str(row[0]): row[1]
        for row in con.execute(
            "select extract_date, manifest_sha256 from raw.batches where status = 'loaded'"
        ).fetchall()
    }
    for batch in batch_lib.discover(landing):
        key = batch.extract_date.isoformat() if batch.extract_date else batch.label
        if key in loaded:
            if loaded[key] != batch.manifest_sha256:
                outcomes.append(BatchOutcome(key, "skipped",
                                             f"batch {key} is already loaded; its manifest has changed since "
                                             "and is ignored (batches are immutable once loaded)"))
            continue
        problems = batch_lib.verify(batch)
        if batch.extract_date is None:
            outcomes.append(BatchOutcome(key, "rejected", f"batch {batch.label} rejected: " + "; ".join(problems)))
            continue
        with _transaction(con):
            con.execute("delete from raw.batches where extract_date = ?", [batch.extract_date])
            status = "rejected" if problems else "pending"
            message = ("; ".join(problems)) if problems else None
            con.execute(
                """insert into raw.batches (extract_date, status, encoding, manifest_sha256, files, folder,
                                            rows_in, loaded_at, message)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [batch.extract_date, status, batch.encoding, batch.manifest_sha256, len(batch.files),
                 str(batch.folder.resolve()), sum(f.rows for f in batch.files.values()), now, message],
            )
            if problems:
                outcomes.append(_record_rejection(con, batch.extract_date, problems, now))
    return outcomes


def _record_rejection(con: duckdb.DuckDBPyConnection, extract_date, problems: list[str], now: datetime
                      ) -> BatchOutcome:
    """One raw.batch_rejections row per problem (inside the caller's transaction); the batch's outcome."""
    for problem in problems:
        con.execute("insert into raw.batch_rejections values (?, ?, ?, ?)",
                    [extract_date, _file_of(problem), problem, now])
    key = extract_date.isoformat()
    return BatchOutcome(key, "rejected", f"batch {key} rejected: " + "; ".join(problems))


def _file_of(problem: str) -> str | None:
    head = problem.split(" ", 1)[0].rstrip(":")
    return head if head.endswith(".csv") or head.endswith(".json") else None


def pending_batches(con: duckdb.DuckDBPyConnection) -> list[batch_lib.Batch]:
    rows = con.execute(
        "select folder from raw.batches where status = 'pending' order by extract_date"
    ).fetchall()
    return [batch_lib.read_manifest(Path(folder)) for (folder,) in rows]


def load_file(
    con: duckdb.DuckDBPyConnection, batch: batch_lib.Batch, extract: ExtractFile, salt: str, now: datetime
) -> FileLoad | None:
    """Parse, validate and load one file of a pending batch. ``None`` when the batch has no such file."""
    spec = batch.files.get(extract.name)
    if spec is None or batch.extract_date is None:
        return None
    extract_date = batch.extract_date
    problem: str | None = None
    try:
        checked = validate(read_extract(batch.folder / extract.name, extract, batch.encoding), extract,
                           service_codes())
    except MissingColumnsError as exc:
        checked, problem = None, str(exc)
    except (UnicodeDecodeError, pl.exceptions.ComputeError) as exc:
        checked, problem = None, f"{extract.name} cannot be read as {batch.encoding} CSV ({exc})"
    rows_in_file = checked.height if checked is not None else 0
    if checked is not None and rows_in_file != spec.rows:
        problem = f"{extract.name} has {rows_in_file} rows, manifest says {spec.rows}"
    good = bad = None
    if checked is not None and problem is None:
        good = checked.filter(pl.col(REASON).is_null())
        bad = checked.filter(pl.col(REASON).is_not_null())
    with _transaction(con):
        con.execute(f"delete from raw.{extract.table} where _extract_date = ?", [extract_date])
        con.execute("delete from raw.quarantine where extract_date = ? and file_name = ?",
                    [extract_date, extract.name])
        con.execute("delete from raw.batch_files where extract_date = ? and file_name = ?",
                    [extract_date, extract.name])
        if good is not None and bad is not None:
            _insert_loaded(con, extract, good, extract_date, salt, now)
            _insert_quarantine(con, extract, bad, extract_date, salt, now)
        loaded = good.height if good is not None else 0
        quarantined = bad.height if bad is not None else 0
        con.execute(
            "insert into raw.batch_files values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [extract_date, extract.name, spec.sha256, spec.rows, rows_in_file, loaded, quarantined, now, problem],
        )
    return FileLoad(extract_date.isoformat(), extract.name, spec.rows, rows_in_file, loaded, quarantined, problem)


def _id_hash_sql(salt_param: str = "$salt") -> str:
    return (f"case when id_number is null then null "
            f"else sha256({salt_param} || upper(trim(id_number))) end")


def _insert_loaded(con, extract: ExtractFile, good: pl.DataFrame, extract_date, salt: str, now) -> None:
    if good.height == 0:
        return
    incoming = good.select(
        [pl.col(TYPED + name).alias(name) for name in extract.column_names] + [pl.col(LINE).cast(pl.Int64)]
    ).to_arrow()
    select_list = []
    for name, sql_type in raw_columns(extract):
        if name == "id_number_hash":
            select_list.append(_id_hash_sql())
        elif name == "_extract_date":
            select_list.append("cast($extract_date as date)")
        elif name == "_source_line":
            select_list.append(LINE)
        elif name == "_loaded_at":
            select_list.append("cast($now as timestamp)")
        else:
            select_list.append(f"cast({name} as {sql_type})")
    sql = f"insert into raw.{extract.table} select {', '.join(select_list)} from vipwh_incoming"
    params = {"extract_date": extract_date, "now": now}
    if "$salt" in sql:
        params["salt"] = salt
    con.register("vipwh_incoming", incoming)
    try:
        con.execute(sql, params)
    finally:
        con.unregister("vipwh_incoming")


def _insert_quarantine(con, extract: ExtractFile, bad: pl.DataFrame, extract_date, salt: str, now) -> None:
    if bad.height == 0:
        return
    text_columns = [name for name in extract.column_names if name in bad.columns]
    incoming = bad.select([pl.col(LINE).cast(pl.Int64), pl.col(REASON), *text_columns]).to_arrow()
    fields = []
    for name in text_columns:
        if name == "id_number":
            fields.append(f"id_number_hash := {_id_hash_sql()}")
        else:
            fields.append(f"{name} := {name}")
    params = {"extract_date": extract_date, "file_name": extract.name, "now": now}
    if "id_number" in text_columns:
        params["salt"] = salt
    con.register("vipwh_rejected", incoming)
    try:
        con.execute(
            f"""insert into raw.quarantine
                select cast($extract_date as date), $file_name, {LINE}, {REASON},
                       cast(to_json(struct_pack({', '.join(fields)})) as varchar), cast($now as timestamp)
                from vipwh_rejected""",
            params,
        )
    finally:
        con.unregister("vipwh_rejected")


def finalize(con: duckdb.DuckDBPyConnection, now: datetime) -> list[BatchOutcome]:
    """Publish pending batches whose every file reconciles; reject (and wipe) the others."""
    outcomes: list[BatchOutcome] = []
    for batch in pending_batches(con):
        assert batch.extract_date is not None
        files = {
            row[0]: row[1:]
            for row in con.execute(
                """select file_name, rows_in_manifest, rows_in_file, rows_loaded, rows_quarantined, problem
                   from raw.batch_files where extract_date = ?""",
                [batch.extract_date],
            ).fetchall()
        }
        problems = []
        for name in batch.files:
            if name not in files:
                problems.append(f"{name} was not loaded")
                continue
            rows_in_manifest, rows_in_file, rows_loaded, rows_quarantined, problem = files[name]
            if problem:
                problems.append(problem)
            elif rows_in_file != rows_loaded + rows_quarantined or rows_in_file != rows_in_manifest:
                problems.append(f"{name}: {rows_in_file} rows in file, {rows_loaded} loaded + "
                                f"{rows_quarantined} quarantined, manifest says {rows_in_manifest}")
        key = batch.extract_date.isoformat()
        with _transaction(con):
            if problems:
                for extract in EXTRACT_FILES:
                    con.execute(f"delete from raw.{extract.table} where _extract_date = ?", [batch.extract_date])
                con.execute("delete from raw.quarantine where extract_date = ?", [batch.extract_date])
                con.execute("delete from raw.batch_files where extract_date = ?", [batch.extract_date])
                con.execute("update raw.batches set status = 'rejected', message = ? where extract_date = ?",
                            ["; ".join(problems), batch.extract_date])
                outcomes.append(_record_rejection(con, batch.extract_date, problems, now))
            else:
                con.execute(
                    """update raw.batches set status = 'loaded', loaded_at = ?, message = null,
                           rows_loaded = (select sum(rows_loaded) from raw.batch_files where extract_date = ?),
                           rows_quarantined = (select sum(rows_quarantined) from raw.batch_files
                                               where extract_date = ?)
                       where extract_date = ?""",
                    [now, batch.extract_date, batch.extract_date, batch.extract_date],
                )
                outcomes.append(BatchOutcome(key, "loaded"))
    return outcomes


class _transaction:
    """``with _transaction(con):`` — begin, then commit, or roll back on any error."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self):
        self.con.execute("begin transaction")
        return self.con

    def __exit__(self, exc_type, exc, tb):
        self.con.execute("rollback" if exc_type else "commit")
        return False
