"""`vipwh build`: run the Dagster build job in-process and print what it did."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_BATCH_REJECTED = 3

STAGES = (("ingest", ("ingest__", "raw__")), ("transform", ("vipwh_dbt",)), ("checks", ("quality__",)),
          ("publish", ("publish__",)))


def _stage_of(step_key: str) -> str:
    for stage, prefixes in STAGES:
        if step_key.startswith(prefixes):
            return stage
    return "other"


def build_settings(landing: Path, warehouse: Path, as_of: date | None, engine: str = "duckdb"):
    """The run's settings from the command line (what is not given comes from the environment)."""
    from dagster_project.settings import Settings

    return Settings(landing=str(landing.resolve()), warehouse=str(warehouse.resolve()),
                    as_of=as_of.isoformat() if as_of else "", engine=engine)


def spark_problem(warehouse: Path) -> str | None:
    """Why `--engine spark` cannot run here (None when it can): Java, dbt-spark, a directory to write."""
    import importlib.util
    import shutil

    if warehouse.exists() and not warehouse.is_dir():
        return f"--engine spark takes a directory as --warehouse (Spark's warehouse), and {warehouse} is a file"
    from dagster_project.settings import java_home

    if shutil.which("java") is None and not java_home():
        return "--engine spark needs Java 17 (`apt-get install openjdk-17-jre-headless`, or set JAVA_HOME)"
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "--engine spark needs dbt-spark and pyspark: pip install -e '.[spark]'"
    return None


def execute_build_job(settings, log_file: Path | None = None):
    """Run the job of `dagster_project.definitions` in-process with ``settings`` as its run configuration.

    Returns (result, event log entries). What dbt prints goes to ``log_file`` (when given).
    """
    import contextlib

    import dagster as dg

    from dagster_project.definitions import BUILD_JOB, defs

    job = defs.resolve_job_def(BUILD_JOB)
    run_config = {**settings.run_config(), "loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    with contextlib.ExitStack() as stack:
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(log_file.open("w"))))
        instance = stack.enter_context(dg.DagsterInstance.ephemeral())
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)
        logs = instance.all_logs(result.run_id)
    return result, logs


def _connect_when_free(warehouse: Path, seconds: float = 30.0, read_only: bool = True):
    """A connection, waiting while a dbt process that was stopped still holds the file."""
    import duckdb

    deadline = time.monotonic() + seconds
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_build(landing: Path, warehouse: Path, as_of: date | None = None, quiet: bool = False,
              summary_json: Path | None = None, engine: str = "duckdb") -> int:
    if not landing.exists():
        print(f"vipwh build: landing folder {landing} does not exist", file=sys.stderr)
        return EXIT_BUILD_FAILED
    if engine == "spark":
        problem = spark_problem(warehouse)
        if problem:
            print(f"vipwh build: {problem}", file=sys.stderr)
            return EXIT_BUILD_FAILED
        warehouse.mkdir(parents=True, exist_ok=True)
    from vipwh import progress

    progress.enable(not quiet)
    settings = build_settings(landing, warehouse, as_of, engine)
    warehouse = settings.warehouse_file()
    from dagster_project.project import DbtParseError, ensure_dbt_manifest

    try:
        ensure_dbt_manifest()
    except DbtParseError as exc:
        print(f"vipwh build: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    import dagster as dg

    started = datetime.now()
    log_file = warehouse.resolve().parent / "logs" / f"build-{started:%Y%m%d-%H%M%S}.log"
    result, logs = execute_build_job(settings, log_file)

    stage_seconds: dict[str, float] = defaultdict(float)
    step_start: dict[str, float] = {}
    for entry in logs:
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            step_start[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in step_start:
            stage_seconds[_stage_of(event.step_key)] += entry.timestamp - step_start[event.step_key]

    checks = result.get_asset_check_evaluations()
    failed_checks = [c for c in checks if not c.passed]
    blocking_failed = [c for c in failed_checks if c.severity == dg.AssetCheckSeverity.ERROR]

    with _connect_when_free(warehouse) as con:
        files = con.execute(
            """select file_name, count(*), sum(rows_in_file), sum(rows_loaded), sum(rows_quarantined)
               from raw.batch_files where loaded_at >= ? group by file_name order by file_name""",
            [started],
        ).fetchall()
        loaded_now = [str(r[0]) for r in con.execute(
            "select extract_date from raw.batches where status = 'loaded' and loaded_at >= ? order by 1",
            [started]).fetchall()]
        rejected = con.execute(
            """select extract_date, coalesce(file_name, ''), message from raw.batch_rejections
               where rejected_at >= ? order by 1, 2""", [started]).fetchall()
        total_loaded = con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]

    print(f"vipwh build: warehouse {warehouse}")
    print(f"  batches loaded now: {len(loaded_now)}"
          + (f" ({loaded_now[0]} … {loaded_now[-1]})" if loaded_now else "")
          + f"; loaded in all: {total_loaded}")
    if files:
        print(f"  {'file':<26} {'batches':>7} {'rows in':>12} {'loaded':>12} {'quarantined':>12}")
        for name, n_batches, rows_in, rows_loaded, rows_quarantined in files:
            print(f"  {name:<26} {n_batches:>7} {rows_in:>12,} {rows_loaded:>12,} {rows_quarantined:>12,}")
    for extract_date, _file_name, message in rejected:
        print(f"  REJECTED batch {extract_date}: {message}", file=sys.stderr)
    print(f"  checks: {len(checks)} run, {len(checks) - len(failed_checks)} passed, {len(failed_checks)} failed"
          f" ({len(blocking_failed)} blocking)")
    for check in failed_checks[:30]:
        severity = "blocking" if check.severity == dg.AssetCheckSeverity.ERROR else "warning"
        metadata = {key: getattr(value, "value", value) for key, value in (check.metadata or {}).items()}
        detail = f"{metadata['failing_rows']} failing rows" if "failing_rows" in metadata else ""
        print(f"    FAILED ({severity}) {check.asset_key.to_user_string()} · {check.check_name}"
              + (f": {detail}" if detail else ""), file=sys.stderr)
        if "sample" in metadata:
            print(f"      sample: {json.dumps(metadata['sample'], ensure_ascii=False, default=str)[:600]}",
                  file=sys.stderr)
    published = [event.asset_key for event in result.get_asset_materialization_events()
                 if event.asset_key.path[0] == "publish"]
    if published:
        from dagster_project.lib.publish import current_snapshot

        print(f"  published: {current_snapshot(warehouse)}")
    else:
        print("  NOT published: readers keep the last good snapshot", file=sys.stderr)
    print("  time: " + ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in stage_seconds.items()))
    print(f"  dbt log: {log_file}")
    if summary_json is not None:
        summary_json.write_text(json.dumps({
            "success": result.success, "stage_seconds": stage_seconds,
            "files": {name: {"batches": b, "rows_in": i, "loaded": lo, "quarantined": q}
                      for name, b, i, lo, q in files},
            "checks_run": len(checks), "checks_failed": len(failed_checks),
            "batches_loaded": len(loaded_now), "batches_rejected": len(rejected),
        }, indent=1))

    if not result.success:
        for failure in result.get_step_failure_events():
            error = failure.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            print(f"vipwh build: step {failure.step_key} failed: {message}", file=sys.stderr)
            if failure.step_key.startswith("vipwh_dbt"):
                tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                print("  last lines of the dbt log:\n    " + "\n    ".join(tail), file=sys.stderr)
        return EXIT_BUILD_FAILED
    if rejected:
        return EXIT_BATCH_REJECTED
    return EXIT_OK
