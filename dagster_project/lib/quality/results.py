"""quality.dq_check_results: its DDL, writing results to it, and dbt tests' outcomes as results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb

from dagster_project.lib.quality.framework import BLOCKING, WARNING, CheckResult, asset_key_string, table_exists

RESULTS_TABLE = "quality.dq_check_results"


def from_evaluation(evaluation: Any) -> CheckResult:
    """A Dagster AssetCheckEvaluation (GX check or dbt test) as a CheckResult, from public attributes only.

    failing_rows: the metadata ``failing_rows`` (our checks) or ``dagster_dbt/failed_row_count`` (dbt tests);
    severity: ERROR -> blocking, WARN -> warning.
    """
    metadata = {key: getattr(value, "value", value) for key, value in (evaluation.metadata or {}).items()}
    failing = metadata.get("failing_rows", metadata.get("dagster_dbt/failed_row_count"))
    severity_name = str(getattr(evaluation.severity, "value", evaluation.severity)).upper()
    sample = metadata.get("sample") or []
    return CheckResult(
        check_name=evaluation.check_name,
        asset_key=asset_key_string(evaluation.asset_key.path),
        severity=BLOCKING if severity_name == "ERROR" else WARNING,
        passed=bool(evaluation.passed),
        failing_rows=int(failing) if failing is not None else (0 if evaluation.passed else 1),
        sample=sample if isinstance(sample, list) else [sample],
        message=str(metadata.get("message") or ""),
    )


def results_of_build(con: duckdb.DuckDBPyConnection, build_id: str) -> tuple[int, int]:
    """(checks run, checks failed) recorded for one build."""
    if not table_exists(con, RESULTS_TABLE):
        return 0, 0
    run, failed = con.execute(
        f"select count(*), count(*) filter (where not passed) from {RESULTS_TABLE} where build_id = ?", [build_id]
    ).fetchone()
    return int(run), int(failed or 0)


def recorded_result(con: duckdb.DuckDBPyConnection, build_id: str, check_name: str) -> CheckResult | None:
    """The result one build recorded for one check (None: it recorded none)."""
    if not table_exists(con, RESULTS_TABLE):
        return None
    row = con.execute(
        f"""select check_name, asset_key, severity, passed, failing_rows, sample, message, checked_at
            from {RESULTS_TABLE} where build_id = ? and check_name = ? order by checked_at desc limit 1""",
        [build_id, check_name],
    ).fetchone()
    if row is None:
        return None
    name, asset_key, severity, passed, failing_rows, sample, message, checked_at = row
    sample = json.loads(sample) if sample else []
    return CheckResult(name, asset_key, severity, bool(passed), int(failing_rows), sample, message or "", checked_at)


def record_results(con: duckdb.DuckDBPyConnection, build_id: str, results: Iterable[CheckResult]) -> int:
    """Append results to quality.dq_check_results (created when missing); returns the rows written."""
    con.execute("create schema if not exists quality")
    con.execute(
        f"""
        create table if not exists {RESULTS_TABLE} (
            build_id VARCHAR NOT NULL,
            checked_at TIMESTAMP NOT NULL,
            check_name VARCHAR NOT NULL,
            asset_key VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            passed BOOLEAN NOT NULL,
            failing_rows BIGINT NOT NULL,
            sample JSON,
            message VARCHAR
        )
        """
    )
    now = datetime.now()
    rows = [
        (
            build_id,
            result.checked_at or now,
            result.check_name,
            result.asset_key,
            result.severity,
            result.passed,
            result.failing_rows,
            json.dumps(result.sample, ensure_ascii=False, default=str),
            result.message,
        )
        for result in results
    ]
    if rows:
        con.executemany(f"insert into {RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
