"""`vipwh bench`: generate a book and time each stage (wall seconds, peak memory), as a small table.

In one run, one process after another: the floor (DuckDB reading every extract once, as text); the full
build of every batch but the last two; the same build again with nothing new; then each of the last two
batches alone, one build after the other: a one-day delta, and the next day's. The ratios of issue 16 (full
build to floor, nothing new and each delta to the full build) are printed from these. With two batches there
is one delta; with one, none, and the full build is of that batch.

Each stage runs as its own process so its peak resident memory is its own (``os.wait4``). Stage times
inside the build come from the Dagster event log (ingest, transform, checks); dbt model times from
dbt's run_results.json, grouped by model folder.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path


def _run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB, exit status of one command."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss / 1024, proc.returncode


def _model_times(run_results: Path) -> dict[str, float]:
    if not run_results.exists():
        return {}
    totals: dict[str, float] = {}
    for result in json.loads(run_results.read_text())["results"]:
        unique_id = result["unique_id"]
        kind = unique_id.split(".")[0]
        if kind != "model":
            totals["dbt tests" if kind == "test" else f"dbt {kind}s"] = (
                totals.get("dbt tests" if kind == "test" else f"dbt {kind}s", 0.0) + result["execution_time"]
            )
            continue
        totals[f"model {unique_id.split('.')[-1]}"] = result["execution_time"]
    return totals


# the floor: every extract read once by DuckDB, every field as text, into a table of a DuckDB file
# (dropped after each file); what any load must at least do, without judging a value
_FLOOR = """
import sys, pathlib, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("set enable_progress_bar = false")
for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.csv')):
    con.execute(
        "create table extract as select * from read_csv(?, all_varchar = true, header = true, delim = ',', "
        "quote = '\\"', escape = '\\"', strict_mode = false, null_padding = true, ignore_errors = true)",
        [str(path)],
    )
    con.execute("drop table extract")
"""


def run_bench(holders: int, seed: int, batches: int, workdir: Path, report: Path | None, engine: str = "duckdb") -> int:
    vipwh = [sys.executable, "-m", "vipwh.cli"]
    root = workdir / (f"holders-{holders}" if engine == "duckdb" else f"holders-{holders}-{engine}")
    if root.exists():
        shutil.rmtree(root)
    landing, summary = root / "landing", root / "build-summary.json"
    # on Spark the warehouse is a directory (Parquet tables, the control file, its logs/)
    warehouse = root / "warehouse.duckdb" if engine == "duckdb" else root / "spark"
    logs = root / "logs" if engine == "duckdb" else warehouse / "logs"
    rows: list[tuple[str, str, str]] = []

    seconds, rss, code = _run(
        [
            *vipwh,
            "generate",
            "--out",
            str(landing),
            "--holders",
            str(holders),
            "--seed",
            str(seed),
            "--batches",
            str(batches),
        ]
    )
    if code:
        return code
    size = sum(p.stat().st_size for p in landing.rglob("*.csv")) / 2**20
    rows.append(("generate", f"{seconds:.1f}", f"{rss:,.0f}"))

    floor_seconds, rss, code = _run([sys.executable, "-c", _FLOOR, str(landing), str(root / "floor.duckdb")])
    (root / "floor.duckdb").unlink(missing_ok=True)
    if code:
        return code
    rows.append(("floor: DuckDB reads every extract as text, into a table", f"{floor_seconds:.1f}", f"{rss:,.0f}"))
    # the last two batches (the last, with two) are held back for the deltas: the full build is of the others.
    # Two deltas, one after the other: the first after a full build also parses the project for the by-holder
    # pass (dagster_project/lib/by_holder.py), which the next day's reuses.
    days = sorted(p for p in landing.iterdir() if p.is_dir())
    later = days[-2:] if len(days) >= 3 else days[-1:] if len(days) > 1 else []
    held = root / "held-back"
    if later:
        held.mkdir(parents=True)
        for day in later:
            day.rename(held / day.name)

    def build(summary_file: Path) -> tuple[float, float, int]:
        return _run(
            [
                *vipwh,
                "build",
                "--landing",
                str(landing),
                "--warehouse",
                str(warehouse),
                "--engine",
                engine,
                "--quiet",
                "--summary-json",
                str(summary_file),
            ]
        )

    seconds, rss, code = build(summary)
    built = json.loads(summary.read_text()) if summary.exists() else {}
    for stage, stage_seconds in built.get("stage_seconds", {}).items():
        rows.append((f"build · {stage}", f"{stage_seconds:.1f}", ""))
    full = f"full build, {len(days) - len(later)} batch(es)"
    rows.append((f"{full} (whole process)", f"{seconds:.1f}", f"{rss:,.0f}"))
    full_seconds = seconds
    ratios = [
        f"Full build: {full_seconds:.1f} s, {full_seconds / floor_seconds:.1f}× the floor ({floor_seconds:.1f} s)."
    ]
    if code == 0:
        # the same landing again: nothing new, so the published snapshot answers it (lib/inputs.py)
        again = root / "build-again-summary.json"
        seconds, rss, again_code = build(again)
        nothing_new = json.loads(again.read_text()).get("nothing_new") if again.exists() else None
        rows.append(("build again, nothing new (whole process)", f"{seconds:.1f}", f"{rss:,.0f}"))
        ratios.append(
            f"Nothing new: {seconds:.1f} s, {100 * seconds / full_seconds:.1f} % of the full build "
            f"(exit status {again_code}, {'skipped' if nothing_new else 'NOT skipped'})."
        )
    for number, day in enumerate(later if code == 0 else []):
        (held / day.name).rename(day)
        delta = root / f"build-delta-{number + 1}-summary.json"
        seconds, rss, delta_code = build(delta)
        loaded = json.loads(delta.read_text()) if delta.exists() else {}
        rows_in = sum(f["rows_in"] for f in loaded.get("files", {}).values())
        which = "one-day delta" if number == 0 else "the next day's delta"
        for stage, stage_seconds in loaded.get("stage_seconds", {}).items():
            rows.append((f"{which} · {stage}", f"{stage_seconds:.1f}", ""))
        rows.append((f"{which}, batch {day.name} (whole process)", f"{seconds:.1f}", f"{rss:,.0f}"))
        ratios.append(
            f"{which[0].upper()}{which[1:]} ({rows_in:,} rows): {seconds:.1f} s, "
            f"{100 * seconds / full_seconds:.1f} % of the full build (exit status {delta_code})."
        )
    model_times = _model_times(logs / "dbt_run_results.json")
    slowest = sorted(model_times.items(), key=lambda item: -item[1])[:12]

    input_rows = sum(f["rows_in"] for f in built.get("files", {}).values())
    lines = [
        f"### {holders:,} holders, {batches} batch(es), seed {seed}, engine {engine} — {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Input: {input_rows:,} rows, {size:,.0f} MiB of CSV. Build exit status {code}.",
        *ratios,
        "",
        "| stage | seconds | peak RSS (MiB) |",
        "|---|---:|---:|",
        *[f"| {stage} | {secs} | {mem} |" for stage, secs, mem in rows],
        "",
        "| slowest dbt nodes | seconds |",
        "|---|---:|",
        *[f"| {name} | {secs:.2f} |" for name, secs in slowest],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        with report.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return code
