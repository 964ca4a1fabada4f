"""Time publishing: everything written, nothing changed, one large mart changed (docs/benchmarks.md).

Run from the repository root, on a warehouse `vipwh build` has published:

    .venv/bin/python scripts/bench_publish.py WAREHOUSE WORKDIR [--repeat 3]

The source is a copy of WAREHOUSE's current snapshot in WORKDIR (it holds exactly the published tables;
the warehouse and its snapshots are left alone). Each round publishes it into a fresh folder: first with
no current snapshot (every table written, as every publish did before digests), then with nothing
changed (every table kept), then with marts.fct_benefit_usage (the largest mart) one row fewer. It also
times the digests alone. Prints one line per measurement, then the medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dagster_project.lib import publish as publish_lib  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    args.workdir.mkdir(parents=True, exist_ok=True)
    copy = args.workdir / "source.duckdb"
    shutil.copyfile(publish_lib.current_snapshot(args.warehouse), copy)
    source = duckdb.connect(str(copy))
    for round_ in range(args.repeat):
        target = args.workdir / f"round-{round_}" / "wh.duckdb"
        shutil.rmtree(target.parent, ignore_errors=True)
        target.parent.mkdir(parents=True)
        started = time.monotonic()
        tables = publish_lib.published_tables(source)
        publish_lib.table_digests(source, tables)
        timed = {"digests alone": time.monotonic() - started}
        for label, build_id in (("first: all written", "a"), ("nothing changed", "b"), ("one mart changed", "c")):
            if build_id == "c":
                source.execute(
                    "create or replace table marts.fct_benefit_usage as "
                    "select * from marts.fct_benefit_usage order by random() offset 1"
                )
            started = time.monotonic()
            done = publish_lib.publish(source, target, build_id=build_id)
            timed[label] = time.monotonic() - started
            print(f"round {round_}: {label}: {timed[label]:.1f} s, {len(done.written)} written, {len(done.kept)} kept")
        source.execute("checkpoint")
        print(f"round {round_}: digests alone: {timed['digests alone']:.1f} s ({len(tables)} tables)")
        for label, seconds in timed.items():
            times.setdefault(label, []).append(seconds)
    for label, values in times.items():
        print(f"median {label}: {statistics.median(values):.1f} s ({', '.join(f'{v:.1f}' for v in values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
