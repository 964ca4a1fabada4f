"""The check framework: a check is a SQL query and a great-expectations suite judging the frame it returns.

Two shapes of check:

- ``frame``: the query returns one row per group (with its row count in ``n_rows``) and the suite compares
  columns with the expected values; failing rows = sum of ``n_rows`` over the rows any expectation rejects.
- ``violations``: the query returns only the rows that break the rule (at most ``Settings.violation_cap``
  of them, with their total in ``violation_count``); the suite expects none.

The rule invariants are dbt tests (``dbt_project/tests/quality/``), not checks of this framework; what is
left here is what great-expectations is for: expectations on the shape and ranges of frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from dagster_project.lib.quality.gx import validate_frame
from dagster_project.lib.warehouse import table_exists

BLOCKING = "blocking"
WARNING = "warning"
Severity = Literal["blocking", "warning"]

DEFAULT_QUARANTINE_RATE_MAX = 0.01
# A rate is judged only from this many quarantined rows of a file up: one bad row in a small daily delta
# (1 of 87 rows is 1.1 %) is noise, not a broken extract.
DEFAULT_QUARANTINE_MIN_ROWS = 5


@dataclass(frozen=True)
class Settings:
    """What a run of the checks depends on besides the warehouse."""

    as_of: date | None = None  # valuation date; None = the latest loaded extract date (raw.batches)
    quarantine_rate_max: float = DEFAULT_QUARANTINE_RATE_MAX
    quarantine_min_rows: int = DEFAULT_QUARANTINE_MIN_ROWS
    sample_size: int = 10
    violation_cap: int = 200


@dataclass(frozen=True)
class Check:
    name: str
    asset_key: tuple[str, ...]  # the asset it guards, e.g. ("raw", "batches")
    severity: Severity
    description: str
    reads: tuple[str, ...]  # "schema.table" the query reads; a missing one fails the check with a message
    # the query, from the settings and the connection it runs on (a check may list the tables it reads there)
    sql: Callable[[Settings, duckdb.DuckDBPyConnection], str]
    expectations: Callable[[Settings], list]  # great-expectations Expectation objects
    shape: Literal["frame", "violations"] = "frame"
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None  # adds expected columns to a frame
    deps: tuple[tuple[str, ...], ...] = ()  # other assets the query reads (Dagster dependencies)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, from a GX check here or a dbt test (``results.from_evaluation``)."""

    check_name: str
    asset_key: str  # "marts/fct_policy_rating"
    severity: Severity
    passed: bool
    failing_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    checked_at: datetime | None = None


def asset_key_string(asset_key: Sequence[str]) -> str:
    return "/".join(asset_key)


def run_check(
    check: Check,
    warehouse: Path | str,
    settings: Settings | None = None,
    connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
) -> CheckResult:
    """Run one check on the warehouse file through a short-lived read-only connection.

    ``connect`` replaces that connection (on Spark: an in-memory DuckDB with the control file attached).
    """
    settings = settings or Settings()
    started = datetime.now()

    def failed(message: str) -> CheckResult:
        return CheckResult(
            check.name, asset_key_string(check.asset_key), check.severity, False, 0, [], message, started
        )

    path = Path(warehouse)
    if not path.exists():
        return failed(f"warehouse {path} does not exist")
    try:
        with connect() if connect else duckdb.connect(str(path), read_only=True) as con:
            missing = [table for table in check.reads if not table_exists(con, table)]
            if missing:
                return failed(
                    f"table {', '.join(missing)} does not exist yet in {path.name}: build it before running the check"
                )
            resolved = settings if settings.as_of else replace(settings, as_of=latest_loaded_extract(con))
            sql = check.sql(resolved, con)
            if check.shape == "violations":
                # the violations once (a materialized CTE), their count beside the first ``violation_cap``: a
                # window ``count(*) over ()`` on the union of the ID scan took 11 s at 1M, this 6.4 s
                sql = (
                    f"with violations as materialized (\n{sql}\n)\n"
                    "select violations.*, total.violation_count from violations, "
                    "(select count(*) as violation_count from violations) as total\n"
                    f"limit {int(resolved.violation_cap)}"
                )
            frame = con.execute(sql).df()
    except duckdb.Error as exc:
        return failed(f"query failed: {exc}")
    if check.prepare is not None:
        frame = check.prepare(frame)
    return _judge(check, frame, resolved, started)


def run_checks(checks: Iterable[Check], warehouse: Path | str, settings: Settings | None = None) -> list[CheckResult]:
    return [run_check(check, warehouse, settings) for check in checks]


def latest_loaded_extract(con: duckdb.DuckDBPyConnection) -> date | None:
    if not table_exists(con, "raw.batches"):
        return None
    row = con.execute("select max(extract_date) from raw.batches where status = 'loaded'").fetchone()
    return row[0] if row else None


def _judge(check: Check, frame: pd.DataFrame, settings: Settings, started: datetime) -> CheckResult:
    outcomes = validate_frame(frame, check.expectations(settings), suite_name=check.name)
    passed = all(outcome["success"] for outcome in outcomes)
    failed_expectations = [o for o in outcomes if not o["success"]]
    message = "; ".join(
        f"{o['type']}({o['column']}): {o['unexpected_count'] if o['unexpected_count'] is not None else o['observed']}"
        + (f" [{o['error']}]" if o["error"] else "")
        for o in failed_expectations
    )
    if check.shape == "violations":
        failing = int(frame["violation_count"].iloc[0]) if len(frame) else 0
        offending = frame.drop(columns=["violation_count"])
    else:
        bad_index: set[int] = set()
        whole_frame_failed = False
        for outcome in failed_expectations:
            if outcome["unexpected_index_list"] is None:
                whole_frame_failed = True
            else:
                bad_index.update(outcome["unexpected_index_list"])
        offending = frame.loc[sorted(bad_index)] if bad_index else frame.iloc[0:0]
        weights = offending["n_rows"] if "n_rows" in offending.columns else pd.Series(1, index=offending.index)
        failing = int(weights.sum())
        if not passed and failing == 0:
            failing = 1 if whole_frame_failed or not len(frame) else len(frame)
    sample = frame_records(offending.head(settings.sample_size)) if not passed else []
    return CheckResult(
        check.name, asset_key_string(check.asset_key), check.severity, passed, failing, sample, message, started
    )


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-able dicts (dates as ISO strings, decimals as numbers, NaN as null)."""
    return [{str(column): _jsonable(value) for column, value in row.items()} for row in frame.to_dict("records")]


def _jsonable(value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return isinstance(value, float) and math.isnan(value)
    except TypeError:
        return False
