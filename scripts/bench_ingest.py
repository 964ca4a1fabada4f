"""Time ingestion alone (verify, load every file of every batch, finalize) into fresh warehouses, one run
per block size, each in its own process, side by side (docs/benchmarks.md, "Ingestion in blocks").

Run from the repository root:

    .venv/bin/python scripts/bench_ingest.py LANDING WORKDIR [--chunk-rows 500000 1000000000 …]

A block of 10^9 rows is the whole file at once, as ingestion read it before blocks. Each run loads the
landing into ``WORKDIR/ingest-<rows>.duckdb`` (removed first) exactly as the ingest assets do, file after
file, with the build's DuckDB settings; prints wall seconds, peak RSS and the rows loaded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb


def ingest_once(landing: Path, warehouse: Path, chunk_rows: int) -> int:
    from dagster_project.lib import batches, id_hash, load, parse
    from dagster_project.lib.warehouse import create_raw_tables
    from dagster_project.settings import Settings
    from vipwh.contract import EXTRACT_FILES

    parse.CHUNK_ROWS = chunk_rows
    settings = Settings(landing=str(landing), warehouse=str(warehouse))
    key = id_hash.resolve_key(settings.id_key_bytes(), batches.scan(landing).manifests, landing)
    now = datetime.now()
    with duckdb.connect(str(warehouse), config=settings.duckdb_config()) as con:
        create_raw_tables(con)
        load.check_key(con, key)
        load.register(con, landing, now, key=key)
        for extract in EXTRACT_FILES:  # as the assets run: one file of every pending batch after another
            for batch in load.pending_batches(con):
                load.load_file(con, batch, extract, key, now)
        load.finalize(con, now)
        return con.execute("select coalesce(sum(rows_loaded), 0) from raw.batches where status = 'loaded'").fetchone()[
            0
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--chunk-rows", type=int, nargs="+", default=[500_000, 1_000_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        warehouse = args.workdir / f"ingest-{args.child}.duckdb"
        print(ingest_once(args.landing.resolve(), warehouse, args.child))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("| rows per block | wall (s) | peak RSS (GiB) | rows loaded |\n|---:|---:|---:|---:|")
    for rows in args.chunk_rows:
        warehouse = args.workdir / f"ingest-{rows}.duckdb"
        for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            leftover.unlink(missing_ok=True)
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, __file__, str(args.landing), str(args.workdir), "--child", str(rows)],
            stdout=subprocess.PIPE,
            text=True,
        )
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        loaded = out.strip().splitlines()[-1] if out.strip() else f"exit {os.waitstatus_to_exitcode(status)}"
        print(f"| {rows:,} | {seconds:.1f} | {usage.ru_maxrss / 2**20:.2f} | {loaded} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
