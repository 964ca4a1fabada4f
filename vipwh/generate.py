"""``vipwh generate``: a realistic, seeded synthetic book of business as dated extract batches.

The book is simulated in chunks of holders (``vipwh.generator.book``), each chunk from its own random
streams, so memory stays flat, chunks can run in parallel processes, and the same seed always gives the
same bytes. Every batch folder gets the six files of CONTRACT §1 (a delta batch omits a file it has no
rows for) and, last, its ``_manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import polars as pl

from vipwh.contract import EXTRACT_FILES
from vipwh.generator.book import Chunk, Plan
from vipwh.generator.days import day_number
from vipwh.generator.dirty import dirty_rows
from vipwh.generator.output import csv_rows, header, utf8_to_single_bytes

CHUNK_HOLDERS = 25_000  # part of the seed: changing it changes the book
ENCODINGS = ("utf-8", "gb18030")
MANIFEST = "_manifest.json"
GENERATOR_MARK = "vipwh generate"  # = dagster_project.lib.id_hash.GENERATOR_MARK

ChunkBytes = dict[tuple[int, str], tuple[bytes, int]]  # (batch, file name) -> (file bytes, data rows)


def generate_book(
    out: Path,
    holders: int,
    seed: int,
    start: date = date(2022, 1, 1),
    end: date = date(2026, 11, 23),
    batches: int = 1,
    dirty_rate: float = 0.001,
    encoding: str = "utf-8",
    *,
    workers: int | None = None,
) -> dict:
    """Write ``batches`` extract batches of a book of ``holders`` policyholders under ``out``.

    Batch 1 (extract date ``end - batches + 1``) is a full load of everything recorded up to its date;
    each later batch, one a day up to ``end``, carries what was recorded that day. ``dirty_rate`` is the
    share of rows, in every file, that break the contract. Returns rows per file per batch and seconds.

    A book of more than one chunk (``CHUNK_HOLDERS``) renders in ``workers`` spawned processes (default:
    up to 2), so a script calling this must keep its top level under ``if __name__ == "__main__":``;
    ``workers=1`` stays in this process. The bytes do not depend on ``workers``.
    """
    began = time.perf_counter()
    _check(holders, start, end, batches, dirty_rate, encoding)
    out = Path(out)
    extract_dates = [end - timedelta(days=batches - 1 - i) for i in range(batches)]
    plan = Plan(
        seed=seed,
        holders=holders,
        start=day_number(start),
        end=day_number(end),
        batch_days=tuple(day_number(d) for d in extract_dates),
        gb18030=encoding == "gb18030",
    )
    folders = [_fresh_folder(out / d.isoformat()) for d in extract_dates]
    sinks = {
        (b, f.name): _Sink(folders[b] / f.name, header(f.column_names)) for b in range(batches) for f in EXTRACT_FILES
    }
    chunks = [(no, lo, min(lo + CHUNK_HOLDERS, holders)) for no, lo in enumerate(range(0, holders, CHUNK_HOLDERS))]
    _run_chunks(plan, chunks, dirty_rate, workers, lambda key, data, rows: sinks[key].write(data, rows))
    summary_batches = []
    for b, extract_date in enumerate(extract_dates):
        files = {f.name: sinks[(b, f.name)] for f in EXTRACT_FILES if sinks[(b, f.name)].rows > 0}
        manifest = {
            # the mark of a synthetic book: it may be built without an ID key (docs/decisions.md)
            "generator": GENERATOR_MARK,
            "extract_date": extract_date.isoformat(),
            "encoding": encoding,
            "files": {name: {"rows": sink.rows, "sha256": sink.digest.hexdigest()} for name, sink in files.items()},
        }
        pending = folders[b] / (MANIFEST + ".tmp")
        pending.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(pending, folders[b] / MANIFEST)  # last: the batch is complete from here on
        summary_batches.append(
            {"extract_date": extract_date.isoformat(), "files": {name: sink.rows for name, sink in files.items()}}
        )
    totals = {f.name: sum(b["files"].get(f.name, 0) for b in summary_batches) for f in EXTRACT_FILES}
    return {
        "out": str(out),
        "holders": holders,
        "seed": seed,
        "encoding": encoding,
        "batches": summary_batches,
        "rows": totals,
        "seconds": round(time.perf_counter() - began, 2),
    }


def _check(holders: int, start: date, end: date, batches: int, dirty_rate: float, encoding: str) -> None:
    if holders < 1:
        raise ValueError("holders must be at least 1")
    if batches < 1:
        raise ValueError("batches must be at least 1")
    if end - timedelta(days=batches - 1) <= start:
        raise ValueError(f"the first extract date must fall after start {start}: fewer batches or a later end")
    if not 0 <= dirty_rate < 0.5:
        raise ValueError("dirty_rate must be in [0, 0.5)")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")


def _fresh_folder(folder: Path) -> Path:
    """The batch folder, without what an earlier run wrote there (the manifest goes first)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (MANIFEST, MANIFEST + ".tmp", *(f.name for f in EXTRACT_FILES)):
        (folder / name).unlink(missing_ok=True)
    return folder


@dataclass
class _Sink:
    """One file of one batch: created with its header on the first rows, hashed as written."""

    path: Path
    head: bytes
    rows: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def write(self, data: bytes | memoryview, rows: int) -> None:
        if rows == 0:
            return
        with self.path.open("ab" if self.rows else "wb") as fh:
            if not self.rows:
                fh.write(self.head)
                self.digest.update(self.head)
            fh.write(data)
        self.digest.update(data)
        self.rows += rows


def _run_chunks(
    plan: Plan,
    chunks: list[tuple[int, int, int]],
    dirty_rate: float,
    workers: int | None,
    emit: Callable[[tuple[int, str], bytes | memoryview, int], None],
) -> None:
    """Render every chunk and ``emit`` its bytes for each (batch, file), in chunk order.

    With more than one chunk the chunks render in worker processes, which hand their bytes over in a
    scratch file (cheaper than pickling them through a pipe)."""
    workers = workers or min(2, os.cpu_count() or 1)
    if workers <= 1 or len(chunks) <= 1:
        for no, lo, hi in chunks:
            for key, (data, rows) in render_chunk(plan, no, lo, hi, dirty_rate).items():
                emit(key, data, rows)
        return
    with (
        tempfile.TemporaryDirectory(prefix="vipwh-generate-") as scratch,
        _one_polars_thread_in_children(),
        ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool,
    ):
        pending: list[Future[tuple[str, list[tuple[int, str, int, int, int]]]]] = []
        for no, lo, hi in chunks:
            pending.append(pool.submit(_render_chunk_to_file, plan, no, lo, hi, dirty_rate, scratch))
            if len(pending) > workers:
                _drain(*pending.pop(0).result(), emit)
        while pending:
            _drain(*pending.pop(0).result(), emit)


def _render_chunk_to_file(
    plan: Plan, chunk_no: int, lo: int, hi: int, dirty_rate: float, scratch: str
) -> tuple[str, list[tuple[int, str, int, int, int]]]:
    path = Path(scratch) / f"chunk-{chunk_no:06d}.bin"
    index = []
    offset = 0
    with path.open("wb") as fh:
        for (batch, name), (data, rows) in render_chunk(plan, chunk_no, lo, hi, dirty_rate).items():
            fh.write(data)
            index.append((batch, name, offset, len(data), rows))
            offset += len(data)
    return str(path), index


def _drain(
    path: str,
    index: list[tuple[int, str, int, int, int]],
    emit: Callable[[tuple[int, str], bytes | memoryview, int], None],
) -> None:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        try:
            for batch, name, offset, length, rows in index:
                if mapped is None:
                    emit((batch, name), b"", rows)
                    continue
                with memoryview(mapped)[offset : offset + length] as data:
                    emit((batch, name), data, rows)
        finally:
            if mapped is not None:
                mapped.close()
    os.unlink(path)


@contextmanager
def _one_polars_thread_in_children() -> Iterator[None]:
    """Spawned workers inherit POLARS_MAX_THREADS=1 (the workers already use every core); this process
    builds its own polars thread pool first, so it keeps its size."""
    pl.thread_pool_size()
    before = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = before


def render_chunk(plan: Plan, chunk_no: int, lo: int, hi: int, dirty_rate: float) -> ChunkBytes:
    """The bytes one chunk of holders adds to every file of every batch (dirty rows after clean ones)."""
    chunk = Chunk(plan, chunk_no, lo, hi)
    frames = chunk.run()
    rng = chunk.rng["dirty"]
    result: ChunkBytes = {}
    for extract in EXTRACT_FILES:
        frame = frames[extract.name]
        parts = frame.partition_by("batch", as_dict=True, maintain_order=True, include_key=False)
        for (batch,), part in sorted(parts.items()):
            assert part.columns == extract.column_names, (extract.name, part.columns)
            data = csv_rows(part)
            rows = part.height
            bad = int(rng.binomial(rows, dirty_rate / (1 - dirty_rate))) if dirty_rate > 0 else 0
            if bad:
                data += csv_rows(dirty_rows(part, extract, min(bad, rows), rng, plan))
                rows += min(bad, rows)
            result[(int(batch), extract.name)] = (utf8_to_single_bytes(data) if plan.gb18030 else data, rows)
    return result
