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

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.lib import batches as batch_lib
from dagster_project.lib import id_hash
from dagster_project.lib.parse import (
    LINE,
    RAGGED_FIELDS,
    REASON,
    TYPED,
    MissingColumnsError,
    UndecodableError,
    read_extract_chunks,
    validate,
)
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
    note: str | None = None


@dataclass(frozen=True)
class BatchOutcome:
    extract_date: str
    status: str  # see register() and finalize()
    message: str = ""


def register(
    con: duckdb.DuckDBPyConnection, landing: Path, now: datetime, build_id: str = "", key: bytes | None = None
) -> list[BatchOutcome]:
    """Judge every entry of the landing; mark each new complete batch pending or rejected (with the reasons).

    Outcomes (one per entry of the landing): ``pending`` (verified, to load now), ``already_loaded``,
    ``refused`` (a re-send of a loaded extract date with a different manifest: never loaded, never
    skipped silently), ``rejected`` (now), ``rejected_before`` (the same folder was rejected by an earlier
    build and has not changed: not recorded again), ``waiting`` (no manifest yet) and ``ignored`` (not a
    batch name).
    """
    outcomes: list[BatchOutcome] = []
    ledger = {
        str(row[0]): row[1:]
        for row in con.execute(
            "select extract_date, status, manifest_sha256, folder_signature, message from raw.batches"
        ).fetchall()
    }
    refusals = {
        (str(row[0]), row[1])
        for row in con.execute(
            "select extract_date, manifest_sha256 from raw.batch_rejections where manifest_sha256 is not null"
        ).fetchall()
    }
    found = batch_lib.scan(landing)
    for name in found.ignored:
        outcomes.append(BatchOutcome(name, "ignored", f"{name} is not a batch folder (a batch is named YYYY-MM-DD)"))
    for name in found.waiting:
        outcomes.append(BatchOutcome(name, "waiting", f"{name} has no {batch_lib.MANIFEST} yet"))
    fingerprint = id_hash.fingerprint(key) if key else None
    for batch in found.batches:
        assert batch.extract_date is not None  # a batch-named folder
        key_date = batch.extract_date.isoformat()
        status, manifest_sha, signature, message = ledger.get(key_date, (None, None, None, None))
        if status == "loaded":
            if manifest_sha == batch.manifest_sha256:
                outcomes.append(BatchOutcome(key_date, "already_loaded"))
                continue
            text = (
                f"batch {key_date} was re-sent with a different manifest than the one loaded: refused "
                "(a loaded extract date is never replaced; send changes in a later batch)"
            )
            if (key_date, batch.manifest_sha256) not in refusals:
                with _transaction(con):
                    con.execute(
                        """insert into raw.batch_rejections (extract_date, file_name, message, rejected_at,
                                                             build_id, manifest_sha256) values (?, ?, ?, ?, ?, ?)""",
                        [batch.extract_date, batch_lib.MANIFEST, text, now, build_id, batch.manifest_sha256],
                    )
            outcomes.append(BatchOutcome(key_date, "refused", text))
            continue
        signature_now = batch_lib.folder_signature(batch)
        if status == "rejected" and signature == signature_now:
            outcomes.append(
                BatchOutcome(
                    key_date,
                    "rejected_before",
                    f"batch {key_date} rejected by an earlier build, unchanged since: {message}",
                )
            )
            continue
        problems = batch_lib.verify(batch)
        with _transaction(con):
            con.execute("delete from raw.batches where extract_date = ?", [batch.extract_date])
            con.execute(
                """insert into raw.batches (extract_date, status, encoding, manifest_sha256, files, folder,
                                            rows_in, loaded_at, message, build_id, folder_signature,
                                            id_key_fingerprint)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    batch.extract_date,
                    "rejected" if problems else "pending",
                    batch.encoding,
                    batch.manifest_sha256,
                    len(batch.files),
                    str(batch.folder.resolve()),
                    sum(f.rows for f in batch.files.values()),
                    now,
                    "; ".join(problems) if problems else None,
                    build_id,
                    signature_now,
                    fingerprint,
                ],
            )
            if problems:
                outcomes.append(_record_rejection(con, batch.extract_date, problems, now, build_id))
            else:
                outcomes.append(BatchOutcome(key_date, "pending"))
    return outcomes


class KeyMismatch(RuntimeError):
    """The warehouse's loaded batches were hashed with another national-ID key."""


def check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Refuse to add hashes made with ``key`` to a warehouse whose loaded batches used another key."""
    fingerprint = id_hash.fingerprint(key)
    others = [
        row[0]
        for row in con.execute(
            """select distinct id_key_fingerprint from raw.batches
           where status = 'loaded' and id_key_fingerprint is not null and id_key_fingerprint <> ?
           order by 1""",
            [fingerprint],
        ).fetchall()
    ]
    if others:
        raise KeyMismatch(
            f"the batches loaded in this warehouse were hashed with another national-ID key (fingerprint "
            f"{', '.join(others)}; this key's is {fingerprint}): hashes of two keys never mix in one warehouse. "
            "Build with the same key, or rebuild from the landing into a fresh warehouse file to rotate it "
            "(docs/decisions.md, 'National ID key')"
        )


def _record_rejection(
    con: duckdb.DuckDBPyConnection, extract_date, problems: list[str], now: datetime, build_id: str = ""
) -> BatchOutcome:
    """One raw.batch_rejections row per problem (inside the caller's transaction); the batch's outcome."""
    for problem in problems:
        con.execute(
            """insert into raw.batch_rejections (extract_date, file_name, message, rejected_at, build_id)
                       values (?, ?, ?, ?, ?)""",
            [extract_date, _file_of(problem), problem, now, build_id],
        )
    key = extract_date.isoformat()
    return BatchOutcome(key, "rejected", f"batch {key} rejected: " + "; ".join(problems))


def _file_of(problem: str) -> str | None:
    head = problem.split(" ", 1)[0].rstrip(":").rstrip(",")
    return head if head.endswith(".csv") or head.endswith(".json") else None


def pending_batches(con: duckdb.DuckDBPyConnection) -> list[batch_lib.Batch]:
    rows = con.execute("select folder from raw.batches where status = 'pending' order by extract_date").fetchall()
    return [batch_lib.read_manifest(Path(folder)) for (folder,) in rows]


def load_file(
    con: duckdb.DuckDBPyConnection,
    batch: batch_lib.Batch,
    extract: ExtractFile,
    key: bytes,
    now: datetime,
    build_id: str = "",
) -> FileLoad | None:
    """Parse, validate and load one file of a pending batch. ``None`` when the batch has no such file.

    National IDs are hashed here with ``key`` (HMAC-SHA-256, in Python): DuckDB only ever receives the hash.
    A file whose data DuckDB refuses all the same (a gap in the checks above) is recorded as the file's
    problem, so the batch is rejected whole instead of staying pending for ever.
    """
    spec = batch.files.get(extract.name)
    if spec is None or batch.extract_date is None:
        return None
    extract_date = batch.extract_date
    problem: str | None = None
    stored = _Stored()
    try:
        _store(con, extract, batch, spec.rows, stored, key, now)
    except MissingColumnsError as exc:
        problem = str(exc)
    except UndecodableError as exc:
        problem = str(exc)
    except (UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
        problem = f"{extract.name} cannot be read as {batch.encoding} CSV ({exc})"
    except _RowCountDisagrees:
        problem = f"{extract.name} has {stored.rows_in_file} rows, manifest says {spec.rows}"
    except (duckdb.DataError, duckdb.IntegrityError) as exc:
        # the data itself (a value the checks above let through): reject the batch. Operational faults (disk
        # full, a lock, memory) are not the batch's fault: they fail the step, and the next build retries.
        problem = f"{extract.name} could not be stored ({type(exc).__name__}: {str(exc).splitlines()[0][:300]})"
    if problem is not None:
        # nothing of the file is kept (its transaction was rolled back); nor what an earlier attempt left
        _wipe(con, extract, extract_date)
        stored.rows_loaded = stored.rows_quarantined = 0
    rows_in_file, loaded, quarantined, note = (
        stored.rows_in_file,
        stored.rows_loaded,
        stored.rows_quarantined,
        stored.note,
    )
    with _transaction(con):
        con.execute(
            "delete from raw.batch_files where extract_date = ? and file_name = ?", [extract_date, extract.name]
        )
        con.execute(
            """insert into raw.batch_files (extract_date, file_name, sha256, rows_in_manifest, rows_in_file,
                                            rows_loaded, rows_quarantined, loaded_at, problem, build_id, note)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                extract_date,
                extract.name,
                spec.sha256,
                spec.rows,
                rows_in_file,
                loaded,
                quarantined,
                now,
                problem,
                build_id,
                note,
            ],
        )
    return FileLoad(extract_date.isoformat(), extract.name, spec.rows, rows_in_file, loaded, quarantined, problem, note)


class _RowCountDisagrees(Exception):
    """The file holds another number of records than its manifest says (nothing of it is kept)."""


@dataclass
class _Stored:
    """What ``_store`` got through, block by block: still known when it stops on a bad file."""

    rows_in_file: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    note: str | None = None


def _store(con, extract: ExtractFile, batch: batch_lib.Batch, rows_in_manifest: int, stored: _Stored, key, now) -> None:
    """Replace what an earlier attempt left of this file with its good and bad rows, in one transaction.

    The file is parsed, judged and inserted ``parse.CHUNK_ROWS`` records at a time, so memory does not grow
    with the file; the transaction makes the blocks one load (any error rolls all of them back). A file
    whose records disagree in number with its manifest is rolled back too (``_RowCountDisagrees``).
    """
    assert batch.extract_date is not None
    extract_date = batch.extract_date
    with _transaction(con):
        con.execute(f"delete from raw.{extract.table} where _extract_date = ?", [extract_date])
        con.execute("delete from raw.quarantine where extract_date = ? and file_name = ?", [extract_date, extract.name])
        for frame in read_extract_chunks(batch.folder / extract.name, extract, batch.encoding):
            if stored.rows_in_file == 0:
                extra = [
                    name for name in frame.columns if name not in extract.column_names and not name.startswith("_")
                ]
                if extra:
                    stored.note = f"{extract.name}: column(s) beyond the contract ignored: {', '.join(extra)}"
            checked = validate(frame, extract, service_codes())
            stored.rows_in_file += checked.height
            if stored.rows_in_file > rows_in_manifest:
                continue  # the file is rejected whole: count its rows, store none
            good = checked.filter(pl.col(REASON).is_null())
            bad = checked.filter(pl.col(REASON).is_not_null())
            _insert_loaded(con, extract, good, extract_date, key, now)
            _insert_quarantine(con, extract, bad, extract_date, key, now)
            stored.rows_loaded += good.height
            stored.rows_quarantined += bad.height
        if stored.rows_in_file != rows_in_manifest:
            raise _RowCountDisagrees


def _wipe(con, extract: ExtractFile, extract_date) -> None:
    with _transaction(con):
        con.execute(f"delete from raw.{extract.table} where _extract_date = ?", [extract_date])
        con.execute("delete from raw.quarantine where extract_date = ? and file_name = ?", [extract_date, extract.name])


def _insert_loaded(con, extract: ExtractFile, good: pl.DataFrame, extract_date, key: bytes, now) -> None:
    if good.height == 0:
        return
    columns = []
    for name in extract.column_names:
        if name == "id_number":
            columns.append(id_hash.hash_series(good[TYPED + name], key).alias("id_number_hash"))
        else:
            columns.append(good[TYPED + name].alias(name))
    incoming = pl.DataFrame([*columns, good[LINE].cast(pl.Int64)]).to_arrow()
    select_list = []
    for name, sql_type in raw_columns(extract):
        if name == "_extract_date":
            select_list.append("cast($extract_date as date)")
        elif name == "_source_line":
            select_list.append(LINE)
        elif name == "_loaded_at":
            select_list.append("cast($now as timestamp)")
        else:
            select_list.append(f"cast({name} as {sql_type})")
    sql = f"insert into raw.{extract.table} select {', '.join(select_list)} from vipwh_incoming"
    # DuckDB reads the block by its Python name (a replacement scan). Not ``con.register``: inside the file's one
    # transaction, a registered view is only dropped at commit, and it holds its Arrow block alive until then, so
    # memory grew with the file, outside DuckDB's memory limit (15 GiB for the 10 M book's usage file).
    vipwh_incoming = incoming  # noqa: F841 (read by DuckDB)
    con.execute(sql, {"extract_date": extract_date, "now": now})


def _raw_record(row: dict, extract: ExtractFile, key: bytes) -> str:
    """A quarantined row as JSON: the ID hashed, any other ID-shaped text masked (a shifted ID, a ragged line)."""
    record: dict[str, str | None] = {}
    ragged_fields = row.get(RAGGED_FIELDS)
    if ragged_fields is not None:
        fields = json.loads(ragged_fields)
        return json.dumps({"fields": [id_hash.mask_ids(value) for value in fields]}, ensure_ascii=False)
    for name in extract.column_names:
        value = row.get(name)
        if name == "id_number":
            record["id_number_hash"] = id_hash.hash_id(value, key)
        else:
            record[name] = id_hash.mask_ids(value)
    return json.dumps(record, ensure_ascii=False)


def _insert_quarantine(con, extract: ExtractFile, bad: pl.DataFrame, extract_date, key: bytes, now) -> None:
    if bad.height == 0:
        return
    records = [
        _raw_record(row, extract, key)
        for row in bad.select([*extract.column_names, RAGGED_FIELDS]).iter_rows(named=True)
    ]
    incoming = pl.DataFrame(
        [
            bad[LINE].cast(pl.Int64),
            bad[REASON].map_elements(id_hash.mask_ids, return_dtype=pl.String),
            pl.Series("raw_record", records, dtype=pl.String),
        ]
    ).to_arrow()
    vipwh_rejected = incoming  # noqa: F841 (read by DuckDB by name, as in _insert_loaded)
    con.execute(
        f"""insert into raw.quarantine
            select cast($extract_date as date), $file_name, {LINE}, {REASON}, raw_record,
                   cast($now as timestamp)
            from vipwh_rejected""",
        {"extract_date": extract_date, "file_name": extract.name, "now": now},
    )


def finalize(con: duckdb.DuckDBPyConnection, now: datetime, build_id: str = "") -> list[BatchOutcome]:
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
                problems.append(
                    f"{name}: {rows_in_file} rows in file, {rows_loaded} loaded + "
                    f"{rows_quarantined} quarantined, manifest says {rows_in_manifest}"
                )
        key = batch.extract_date.isoformat()
        with _transaction(con):
            if problems:
                for extract in EXTRACT_FILES:
                    con.execute(f"delete from raw.{extract.table} where _extract_date = ?", [batch.extract_date])
                con.execute("delete from raw.quarantine where extract_date = ?", [batch.extract_date])
                con.execute("delete from raw.batch_files where extract_date = ?", [batch.extract_date])
                con.execute(
                    "update raw.batches set status = 'rejected', message = ? where extract_date = ?",
                    ["; ".join(problems), batch.extract_date],
                )
                outcomes.append(_record_rejection(con, batch.extract_date, problems, now, build_id))
            else:
                con.execute(
                    """update raw.batches set status = 'loaded', loaded_at = ?, message = null, build_id = ?,
                           note = (select string_agg(note, '; ' order by file_name) from raw.batch_files
                                   where extract_date = ? and note is not null),
                           rows_loaded = (select sum(rows_loaded) from raw.batch_files where extract_date = ?),
                           rows_quarantined = (select sum(rows_quarantined) from raw.batch_files
                                               where extract_date = ?)
                       where extract_date = ?""",
                    [now, build_id, batch.extract_date, batch.extract_date, batch.extract_date, batch.extract_date],
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
