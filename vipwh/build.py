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

STAGES = (
    ("ingest", ("ingest__", "raw__")),
    ("transform", ("vipwh_dbt",)),
    ("checks", ("quality__",)),
    ("publish", ("publish__",)),
)


def _stage_of(step_key: str) -> str:
    for stage, prefixes in STAGES:
        if step_key.startswith(prefixes):
            return stage
    return "other"


def build_settings(
    landing: Path, warehouse: Path, as_of: date | None, engine: str = "duckdb", full_refresh: bool = False
):
    """The run's settings from the command line (what is not given comes from the environment)."""
    from dagster_project.settings import Settings

    return Settings(
        landing=str(landing.resolve()),
        warehouse=str(warehouse.resolve()),
        as_of=as_of.isoformat() if as_of else "",
        engine=engine,
        full_refresh="true" if full_refresh else "",
    )


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
    """Run the build job of `dagster_project.definitions` in-process with ``settings`` as its run configuration.

    Returns (result, event log entries). What dbt prints goes to ``log_file`` (when given).
    """
    from dagster_project.definitions import BUILD_JOB

    return execute_job(BUILD_JOB, settings, log_file)


def execute_job(
    job_name: str,
    settings,
    log_file: Path | None = None,
    ops_config: dict | None = None,
    partition: tuple[str, str] | None = None,
    asset_selection=None,
):
    """Run a job of `dagster_project.definitions` in-process on an ephemeral instance, ``settings`` as its
    resources' configuration and ``ops_config`` as its ops'; ``partition`` = (dynamic partitions name, key) runs
    that partition (added to the instance first); ``asset_selection`` narrows the job's assets.

    Returns (result, event log entries). What dbt prints goes to ``log_file`` (when given).
    """
    import contextlib
    import logging

    import dagster as dg

    from dagster_project.definitions import defs

    job = defs.resolve_job_def(job_name)
    # Dagster's console logger stays quiet: every failure is told by the summary, in one line, without the
    # stack traces Dagster logs with it (those stay in the run's event log)
    run_config = {
        **settings.run_config(),
        **({"ops": ops_config} if ops_config else {}),
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    with contextlib.ExitStack() as stack:
        # a build with nothing new skips the dbt step's outputs, checks included; Dagster's planner then warns
        # once per skipped dbt test that it "emitted no result" (the summary says what happened instead).
        # Quiet for this run only: the level is put back when it ends.
        planner = logging.getLogger("dagster._core.execution.plan.active")
        stack.callback(planner.setLevel, planner.level)
        planner.setLevel(logging.ERROR)
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(log_file.open("w"))))
        instance = stack.enter_context(dg.DagsterInstance.ephemeral())
        if partition is not None:
            instance.add_dynamic_partitions(partition[0], [partition[1]])
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            partition_key=partition[1] if partition else None,
            asset_selection=asset_selection,
        )
        logs = instance.all_logs(result.run_id)
    return result, logs


def seconds_by_stage(logs, stage_of) -> dict[str, float]:
    """Seconds per stage of a run: each step from its start to its success or failure, under ``stage_of(step)``."""
    seconds: dict[str, float] = defaultdict(float)
    step_start: dict[str, float] = {}
    for entry in logs or []:
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            step_start[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in step_start:
            seconds[stage_of(event.step_key)] += entry.timestamp - step_start[event.step_key]
    return seconds


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


def _cause(exc: BaseException) -> str:
    """One line: the exception's class and first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def innermost_error(error) -> str:
    """One line for a Dagster step failure: the innermost cause (the user code's exception)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    if error is None:
        return "unknown error"
    lines = [line for line in (error.message or "").strip().splitlines() if line.strip()]
    return lines[0] if lines else error.cls_name or "unknown error"


def _loaded_batches(warehouse: Path) -> int:
    """Batches loaded in the warehouse so far (0 when there is no warehouse yet)."""
    if not warehouse.exists():
        return 0
    import duckdb

    try:
        with _connect_when_free(warehouse, seconds=5.0) as con:
            return con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
    except duckdb.CatalogException:
        return 0
    except duckdb.Error:
        return -1  # unreadable now (held by another program): the build's first step reports why


def run_build(
    landing: Path,
    warehouse: Path,
    as_of: date | None = None,
    quiet: bool = False,
    summary_json: Path | None = None,
    engine: str = "duckdb",
    full_refresh: bool = False,
) -> int:
    """Build, and print what the build did; every failure ends in the summary and one line of cause, exit 1."""
    if not landing.exists():
        print(f"vipwh build: landing folder {landing} does not exist", file=sys.stderr)
        return EXIT_BUILD_FAILED
    if engine == "spark":
        problem = spark_problem(warehouse)
        if problem:
            print(f"vipwh build: {problem}", file=sys.stderr)
            return EXIT_BUILD_FAILED
        warehouse.mkdir(parents=True, exist_ok=True)
    from dagster_project.lib import lock

    settings = build_settings(landing, warehouse, as_of, engine, full_refresh)
    try:
        with lock.held(settings.warehouse_file()):
            return _run_locked(settings, quiet, summary_json)
    except lock.BuildRunning as exc:
        print(f"vipwh build: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED


def _run_locked(settings, quiet: bool, summary_json: Path | None) -> int:
    from dagster_project.lib import batches, id_hash
    from dagster_project.settings import SettingsError
    from vipwh import progress

    landing = settings.landing_dir()
    warehouse = settings.warehouse_file()
    found = batches.scan(landing)
    try:
        id_hash.resolve_key(settings.id_key_bytes(), found.manifests, landing)
    except (id_hash.MissingIdKey, SettingsError) as exc:
        print(f"vipwh build: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    if not found.batches and _loaded_batches(warehouse) == 0:
        _print_landing(found, {}, "")
        print(
            f"vipwh build: no batch in {landing} (a batch is a folder YYYY-MM-DD with its _manifest.json) "
            f"and nothing loaded in {warehouse}: nothing to build, nothing published",
            file=sys.stderr,
        )
        return EXIT_BUILD_FAILED
    progress.enable(not quiet)
    from dagster_project.project import DbtParseError, ensure_dbt_manifest

    try:
        # a project that does not parse is said before anything is touched. Parsed with the build's own profile
        # variables, the build's `dbt build` reuses this parse; parsed with others, it would parse whole again
        with settings.dbt_environment_applied():
            ensure_dbt_manifest()
    except DbtParseError as exc:
        print(f"vipwh build: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED

    started = datetime.now()
    log_file = warehouse.resolve().parent / "logs" / f"build-{started:%Y%m%d-%H%M%S}.log"
    result = logs = None
    try:
        result, logs = execute_build_job(settings, log_file)
    except Exception as exc:  # noqa: BLE001 - a fault outside any step (disk full, …) ends in the summary
        fault = _cause(exc)
    else:
        fault = None
    try:
        code = _summarise(settings, result, logs, log_file, summary_json, fault)
    except Exception as exc:  # noqa: BLE001 - the summary itself must never end in a traceback
        print(f"vipwh build: failed: {_cause(exc)} (while writing the summary); nothing published", file=sys.stderr)
        return EXIT_BUILD_FAILED
    return code


STATUS_WORDS = {
    "loaded_now": "loaded now",
    "already_loaded": "already loaded",
    "waiting": "waiting (no _manifest.json yet)",
    "ignored": "ignored (not a batch name)",
}


def _landing_report(found, warehouse: Path, run_id: str) -> dict[str, tuple[str, str]]:
    """What this build did with every batch folder: name -> (status, detail), from the ledger."""
    import duckdb

    ledger: dict[str, tuple] = {}
    rejections: dict[str, list[tuple]] = defaultdict(list)
    if warehouse.exists():
        try:
            with _connect_when_free(warehouse, seconds=5.0) as con:
                ledger = {
                    str(r[0]): r[1:]
                    for r in con.execute(
                        "select extract_date, status, manifest_sha256, build_id, message from raw.batches"
                    ).fetchall()
                }
                for r in con.execute("""select extract_date, build_id, manifest_sha256, message
                                        from raw.batch_rejections order by rejected_at""").fetchall():
                    rejections[str(r[0])].append(r[1:])
        except duckdb.Error:
            pass  # no ledger (yet), or the file is held by another program: report the landing alone
    report: dict[str, tuple[str, str]] = {}
    for batch in found.batches:
        name = batch.label
        status, manifest_sha, build_id, message = ledger.get(name, (None, None, None, None))
        refused = [m for b, sha, m in rejections.get(name, []) if sha == batch.manifest_sha256 and sha]
        if status == "loaded" and manifest_sha != batch.manifest_sha256 and refused:
            report[name] = ("refused", refused[-1])
        elif status == "loaded" and build_id == run_id:
            report[name] = ("loaded_now", "")
        elif status == "loaded":
            report[name] = ("already_loaded", "")
        elif status == "rejected":
            now = any(b == run_id for b, _sha, _m in rejections.get(name, []))
            report[name] = ("rejected" if now else "rejected_before", message or "")
        elif status == "pending":
            report[name] = ("pending", "verified, not finished: the build stopped before it was loaded")
        else:
            report[name] = ("not_seen", "the build stopped before it reached this batch")
    for name in found.waiting:
        report[name] = ("waiting", "")
    for name in found.ignored:
        report[name] = ("ignored", "")
    return report


def _print_landing(found, report: dict[str, tuple[str, str]], landing_text: str) -> None:
    if not report:
        report = {name: ("waiting", "") for name in found.waiting}
        report.update({name: ("ignored", "") for name in found.ignored})
    if not report:
        print("  landing: empty")
        return
    print("  landing" + (f" {landing_text}" if landing_text else "") + ":")
    for name in sorted(report):
        status, detail = report[name]
        if status == "rejected":
            line = "REJECTED now (reasons below)"
        elif status == "rejected_before":
            line = f"rejected by an earlier build, unchanged since: {detail}"
        elif status == "refused":
            line = f"REFUSED: {detail}"
        else:
            line = STATUS_WORDS.get(status, status.replace("_", " ")) + (f": {detail}" if detail else "")
        stream = sys.stderr if status in ("rejected", "refused") else sys.stdout
        print(f"    {name:<16} {line}", file=stream)


def _summarise(settings, result, logs, log_file: Path, summary_json: Path | None, fault: str | None) -> int:
    import dagster as dg

    from dagster_project.lib import batches

    warehouse = settings.warehouse_file()
    run_id = result.run_id if result is not None else ""
    stage_seconds = seconds_by_stage(logs, _stage_of)

    checks = result.get_asset_check_evaluations() if result is not None else []
    failed_checks = [c for c in checks if not c.passed]
    blocking_failed = [c for c in failed_checks if c.severity == dg.AssetCheckSeverity.ERROR]

    found = batches.scan(settings.landing_dir())
    report = _landing_report(found, warehouse, run_id)
    files: list[tuple] = []
    notes: list[str] = []
    rejected_rows: list[tuple] = []
    total_loaded = 0
    if warehouse.exists() and run_id:
        import duckdb

        try:
            with _connect_when_free(warehouse) as con:
                files = con.execute(
                    """select file_name, count(*), sum(rows_in_file), sum(rows_loaded), sum(rows_quarantined)
                       from raw.batch_files where build_id = ? group by file_name order by file_name""",
                    [run_id],
                ).fetchall()
                notes = [
                    f"{r[0]}: {r[1]}"
                    for r in con.execute(
                        """select extract_date, note from raw.batch_files where build_id = ? and note is not null
                       order by 1, file_name""",
                        [run_id],
                    ).fetchall()
                ]
                total_loaded = con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
                rejected_rows = con.execute(
                    """select extract_date, message from raw.batch_rejections
                       where build_id = ? and manifest_sha256 is null order by 1, rejected_at""",
                    [run_id],
                ).fetchall()
        except duckdb.Error:
            pass
    loaded_now = sorted(name for name, (status, _) in report.items() if status == "loaded_now")
    rejected_now = sorted(name for name, (status, _) in report.items() if status in ("rejected", "refused"))

    print(f"vipwh build: warehouse {warehouse}")
    _print_landing(found, report, str(settings.landing_dir()))
    for extract_date, message in rejected_rows:
        print(f"  REJECTED batch {extract_date}: {message}", file=sys.stderr)
    print(
        f"  batches loaded now: {len(loaded_now)}"
        + (f" ({loaded_now[0]} … {loaded_now[-1]})" if loaded_now else "")
        + f"; loaded in all: {total_loaded}"
    )
    if files:
        print(f"  {'file':<26} {'batches':>7} {'rows in':>12} {'loaded':>12} {'quarantined':>12}")
        for name, n_batches, rows_in, rows_loaded, rows_quarantined in files:
            print(f"  {name:<26} {n_batches:>7} {rows_in:>12,} {rows_loaded:>12,} {rows_quarantined:>12,}")
    for note in notes:
        print(f"  WARNING {note}", file=sys.stderr)
    print(
        f"  checks: {len(checks)} run, {len(checks) - len(failed_checks)} passed, {len(failed_checks)} failed"
        f" ({len(blocking_failed)} blocking)"
    )
    for check in failed_checks[:30]:
        severity = "blocking" if check.severity == dg.AssetCheckSeverity.ERROR else "warning"
        metadata = {key: getattr(value, "value", value) for key, value in (check.metadata or {}).items()}
        detail = f"{metadata['failing_rows']} failing rows" if "failing_rows" in metadata else ""
        print(
            f"    FAILED ({severity}) {check.asset_key.to_user_string()} · {check.check_name}"
            + (f": {detail}" if detail else ""),
            file=sys.stderr,
        )
        if "sample" in metadata:
            print(
                f"      sample: {json.dumps(metadata['sample'], ensure_ascii=False, default=str)[:600]}",
                file=sys.stderr,
            )
    published = result is not None and any(
        event.asset_key.path[0] == "publish" for event in result.get_asset_materialization_events()
    )
    # the dbt step materializes nothing when the inputs equal the published snapshot's (lib/inputs.py)
    transformed = result is not None and any(
        _stage_of(event.step_key or "") == "transform" for event in result.get_asset_materialization_events()
    )
    nothing_new = result is not None and result.success and fault is None and not transformed and not published
    if published or nothing_new:
        from dagster_project.lib.publish import current_snapshot

        if nothing_new:
            print(
                "  nothing new since the build that published the current snapshot: dbt, its checks and "
                "publishing skipped (--full-refresh computes everything)"
            )
        print(f"  {'still published' if nothing_new else 'published'}: {current_snapshot(warehouse)}")
    else:
        print("  NOT published: readers keep the last good snapshot", file=sys.stderr)
    if stage_seconds:
        print("  time: " + ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in stage_seconds.items()))
    print(f"  dbt log: {log_file}")
    success = result is not None and result.success and fault is None
    if summary_json is not None:
        summary_json.write_text(
            json.dumps(
                {
                    "success": success,
                    "nothing_new": nothing_new,
                    "stage_seconds": stage_seconds,
                    "files": {
                        name: {"batches": b, "rows_in": i, "loaded": lo, "quarantined": q}
                        for name, b, i, lo, q in files
                    },
                    "checks_run": len(checks),
                    "checks_failed": len(failed_checks),
                    "batches_loaded": len(loaded_now),
                    "batches_rejected": len(rejected_now),
                    "landing": {name: status for name, (status, _) in report.items()},
                    "fault": fault,
                },
                indent=1,
            )
        )

    if fault is not None:
        print(f"vipwh build: failed: {fault}; nothing published", file=sys.stderr)
        return EXIT_BUILD_FAILED
    if not result.success:
        for failure in result.get_step_failure_events():
            error = failure.step_failure_data.error
            print(f"vipwh build: step {failure.step_key} failed: {innermost_error(error)}", file=sys.stderr)
            if _stage_of(failure.step_key) == "transform" and log_file.exists():
                tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                print("  last lines of the dbt log:\n    " + "\n    ".join(tail), file=sys.stderr)
        return EXIT_BUILD_FAILED
    if rejected_now:
        return EXIT_BATCH_REJECTED
    return EXIT_OK
