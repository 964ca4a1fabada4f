"""Data-quality checks of the warehouse, as pure functions.

Each check is a SQL query that does the heavy work in DuckDB (aggregates, or only the rows that may break a
rule) and a great-expectations suite validated on the small pandas frame the query returns. The expected
values of the business checks (coefficients, tier thresholds, entitlement matrix) are typed here from the
handbook (RULES.md §2, §4, §6), never read from the rule seeds, so a wrong seed is caught.

Two shapes of check:

- ``frame``: the query returns one row per group (with its row count in ``n_rows``) and the suite compares
  columns with the expected values; failing rows = sum of ``n_rows`` over the rows any expectation rejects.
- ``violations``: the query returns only the rows that break the rule (at most ``Settings.violation_cap``
  of them, with their total in ``violation_count``); the suite expects none.

Results (``CheckResult``) go to ``quality.dq_check_results`` with ``record_results``, together with the
dbt tests' results converted by ``from_evaluation``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from vipwh.contract import EXTRACT_FILES

BLOCKING = "blocking"
WARNING = "warning"
Severity = Literal["blocking", "warning"]

HANDBOOK_RULEBOOK = "handbook_2026"
DEFAULT_QUARANTINE_RATE_MAX = 0.01
# A rate is judged only from this many quarantined rows of a file up: one bad row in a small daily delta
# (1 of 87 rows is 1.1 %) is noise, not a broken extract.
DEFAULT_QUARANTINE_MIN_ROWS = 5
FAR_FUTURE = date(9999, 12, 31)

# --- The handbook, typed in (RULES.md) -------------------------------------------------------------------

# §2 定级保费折算标准. Regular premium: coefficient 1 from Y >= 10 payment years, else Y / 10.
REGULAR_FULL_COEFFICIENT_YEARS = 10
# 趸交: endowment (两全) and participating (分红) 0.03, universal (万能) 0.02, any other category ("等") 0.1.
SINGLE_PREMIUM_COEFFICIENTS = {"endowment": 0.03, "participating": 0.03, "universal": 0.02}
SINGLE_PREMIUM_OTHER_COEFFICIENT = 0.1
ONE_YEAR_COEFFICIENT = 1.0
SLICE_KINDS = ("regular", "single", "one_year", "top_up")

# §4 tiers, in rank order.
TIER_CODES = ("family", "star1", "star2", "star3", "star4", "star5")

# §3 status events. What each leaves the coverage in, and which are final.
STATUS_AFTER = {
    "free_look_cancel": "free_look_cancelled",
    "surrender": "surrendered",
    "lapse": "lapsed",
    "reinstate": "in_force",
    "reduced_paid_up": "reduced_paid_up",
    "premium_waiver": "premium_waived",
    "terminate": "terminated",
}
FINAL_STATUS_EVENTS = ("free_look_cancel", "surrender", "terminate")


@dataclass(frozen=True)
class Cell:
    """One cell of the entitlement matrix: quota kind, units (per year or once, summed over the cell's
    separate quotas; None = unlimited) and the variants allowed ("*" = any)."""

    quota_kind: str
    units: int | None = None
    variants: tuple[str, ...] = ("*",)

    def signature(self) -> str:
        units = "" if self.units is None else f" {self.units}"
        return f"{self.quota_kind}{units} [{','.join(sorted(self.variants))}]"


NONE = "none"
_U = Cell("unlimited")
_Y1 = Cell("per_year", 1)
_TOP_THREE = (None, None, None, _Y1, _Y1, _Y1)  # 三星 and up, 1 a year

# §6, row by row; columns family, star1 … star5; None = "–" (no entitlement).
HANDBOOK_ENTITLEMENTS: dict[str, tuple[Cell | None, ...]] = {
    "vip_hotline": (None, _U, _U, _U, _U, _U),
    "legal_consult": _TOP_THREE,
    "limousine": (None, None, _Y1, _Y1, _Y1, Cell("per_year", 2)),
    "lounge": (None, None, Cell("per_year", 2), Cell("per_year", 2), Cell("per_year", 3), Cell("per_year", 3)),
    "health_checkup": (None, None,
                       Cell("per_year", 1, ("star2",)),
                       Cell("per_year", 1, ("star2", "star3")),
                       Cell("per_year", 1, ("star2", "star3", "star4")),
                       Cell("per_year", 1, ("star2", "star3", "star4", "star5"))),
    "gi_endoscopy": (None, None, None, None, Cell("once", 1), Cell("once", 1)),
    "dental_cleaning": (None, _Y1, _Y1, _Y1, _Y1, _Y1),
    "cell_storage": (None, None, None, None, Cell("once", 1, ("10y",)), Cell("once", 1, ("10y", "20y"))),
    "health_assessment": (_U,) * 6,
    "medical_video": (_U,) * 6,
    "health_article": (_U,) * 6,
    "doctor_chat": (_U,) * 6,
    "doctor_video": (_U,) * 6,
    "doctor_phone": (_U,) * 6,
    "outpatient_green": (None, None, None,
                         Cell("per_year", 1, ("standard",)),
                         Cell("per_year", 1, ("named_expert", "standard")),
                         Cell("per_year", 1, ("named_expert", "standard"))),
    "hospital_escort": _TOP_THREE,
    "critical_illness_green": _TOP_THREE,
    "proton_green": _TOP_THREE,
    "second_opinion": _TOP_THREE,
    "mdt_consult": _TOP_THREE,
    "elderly_butler": (None, None, None, _U, _U, _U),
    # 三星: nursing or cleaning, one use a year between them; 四星 / 五星: each once a year.
    "home_care": (None, None, None,
                  Cell("per_year", 1, ("cleaning", "nursing")),
                  Cell("per_year", 2, ("cleaning", "nursing")),
                  Cell("per_year", 2, ("cleaning", "nursing"))),
}


def handbook_coefficient(slice_kind: str | None, product_category: str | None,
                         payment_years: float | None) -> float | None:
    """The handbook's 折算系数 of a rating slice; None when the handbook has none for it."""
    if slice_kind == "regular":
        if _missing(payment_years):
            return None
        years = float(payment_years)
        return 1.0 if years >= REGULAR_FULL_COEFFICIENT_YEARS else round(years / 10, 6)
    if slice_kind in ("single", "top_up"):
        if _missing(product_category):
            return None
        return SINGLE_PREMIUM_COEFFICIENTS.get(product_category, SINGLE_PREMIUM_OTHER_COEFFICIENT)
    if slice_kind == "one_year":
        return ONE_YEAR_COEFFICIENT
    return None


def legal_status_transitions() -> list[str]:
    """`previous -> next` pairs of status events on one coverage that RULES §3 allows."""
    open_states = ["none", "lapse", "reinstate", "reduced_paid_up", "premium_waiver"]
    stops = [txn for txn in STATUS_AFTER if txn != "reinstate"]
    return [f"{before} -> {after}" for before in open_states for after in stops] + ["lapse -> reinstate"]


# --- Check and result types ----------------------------------------------------------------------------

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
    asset_key: tuple[str, ...]  # the asset it guards, e.g. ("marts", "fct_policy_rating")
    severity: Severity
    description: str
    reads: tuple[str, ...]  # "schema.table" the query reads; a missing one fails the check with a message
    sql: Callable[[Settings], str]
    expectations: Callable[[Settings], list]  # great-expectations Expectation objects
    shape: Literal["frame", "violations"] = "frame"
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None  # adds expected columns to a frame
    deps: tuple[tuple[str, ...], ...] = ()  # other assets the query reads (Dagster dependencies)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, from a GX check here or a dbt test (``from_evaluation``)."""

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


# --- Running a check -------------------------------------------------------------------------------------

def run_check(check: Check, warehouse: Path | str, settings: Settings | None = None,
              connect: Callable[[], duckdb.DuckDBPyConnection] | None = None) -> CheckResult:
    """Run one check on the warehouse file through a short-lived read-only connection.

    ``connect`` replaces that connection (on Spark: an in-memory DuckDB with views over Spark's Parquet).
    """
    settings = settings or Settings()
    started = datetime.now()

    def failed(message: str) -> CheckResult:
        return CheckResult(check.name, asset_key_string(check.asset_key), check.severity, False, 0, [],
                           message, started)

    path = Path(warehouse)
    if not path.exists():
        return failed(f"warehouse {path} does not exist")
    try:
        with (connect() if connect else duckdb.connect(str(path), read_only=True)) as con:
            missing = [table for table in check.reads if not table_exists(con, table)]
            if missing:
                return failed(f"table {', '.join(missing)} does not exist yet in {path.name}: "
                              f"build it before running the check")
            resolved = settings if settings.as_of else Settings(
                as_of=latest_loaded_extract(con), quarantine_rate_max=settings.quarantine_rate_max,
                quarantine_min_rows=settings.quarantine_min_rows, sample_size=settings.sample_size,
                violation_cap=settings.violation_cap)
            sql = check.sql(resolved)
            if check.shape == "violations":
                sql = (f"select *, count(*) over () as violation_count\nfrom (\n{sql}\n) as violations\n"
                       f"limit {int(resolved.violation_cap)}")
            frame = con.execute(sql).df()
    except duckdb.Error as exc:
        return failed(f"query failed: {exc}")
    if check.prepare is not None:
        frame = check.prepare(frame)
    return _judge(check, frame, resolved, started)


def run_checks(checks: Iterable[Check], warehouse: Path | str, settings: Settings | None = None) -> list[CheckResult]:
    return [run_check(check, warehouse, settings) for check in checks]


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".", 1)
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


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
    return CheckResult(check.name, asset_key_string(check.asset_key), check.severity, passed, failing, sample,
                       message, started)


def _gx() -> Any:
    """great_expectations, imported on first use (it imports pyspark when present, which warns about pandas 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    return gx


@functools.cache
def _frame_batch_definition() -> Any:
    """One ephemeral GX context per process, progress bars off, with a pandas whole-frame batch definition."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return (context.data_sources.add_pandas("vipwh_quality")
            .add_dataframe_asset("check_frame")
            .add_batch_definition_whole_dataframe("whole_frame"))


def validate_frame(frame: pd.DataFrame, expectations: list, suite_name: str = "suite") -> list[dict[str, Any]]:
    """Validate a pandas frame against great-expectations expectations in an ephemeral context.

    Returns one dict per expectation: type, column, success, unexpected_count, unexpected_index_list
    (None for table-level expectations), observed value and error (when the expectation raised).
    """
    gx = _gx()
    batch = _frame_batch_definition().get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validation = batch.validate(suite, result_format="COMPLETE")
    outcomes = []
    for result in validation.results:
        config = result.expectation_config
        kwargs = config.kwargs if config is not None else {}
        details = result.result or {}
        error = ""
        if result.exception_info and result.exception_info.get("raised_exception"):
            error = str(result.exception_info.get("exception_message") or "expectation raised")
        outcomes.append({
            "type": config.type if config is not None else "?",
            "column": kwargs.get("column") or ",".join(
                str(kwargs[key]) for key in ("column_A", "column_B", "column_list") if key in kwargs) or "table",
            "success": bool(result.success) and not error,
            "unexpected_count": details.get("unexpected_count"),
            "unexpected_index_list": details.get("unexpected_index_list"),
            "observed": details.get("observed_value"),
            "error": error,
        })
    return outcomes


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


def _sql_date(value: date | None) -> str:
    return f"date '{(value or FAR_FUTURE).isoformat()}'"


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# --- Shared SQL: the status of every coverage from the transaction log (RULES §3) -------------------------

def _status_ctes() -> str:
    """CTEs ``status_events`` (every status event of the log on every coverage it applies to, in order),
    ``applied_events`` (the events that take effect: nothing after a final one) with ``status_after`` (the
    coverage's status after the event; a reinstatement only ends a lapse) and ``stop_periods`` (the periods
    [stop_from, stop_until) in which a coverage is not in force-and-counting; stop_until null = open)."""
    status_values = ", ".join(f"('{txn}', '{status}')" for txn, status in STATUS_AFTER.items())
    return f"""
status_types as (
    select * from (values {status_values}) as status_types (txn_type, status_after)
),

coverages as (
    select
        policy_no,
        coverage_no,
        effective_date,
    from staging.stg_core__policies
),

status_events as (
    select
        transactions.txn_id,
        coverages.policy_no,
        coverages.coverage_no,
        transactions.txn_type,
        transactions.effective_date,
        transactions.recorded_at,
        row_number() over (
            partition by coverages.policy_no, coverages.coverage_no
            order by transactions.effective_date, transactions.recorded_at, transactions.txn_id
        ) as event_seq,
    from staging.stg_core__policy_transactions as transactions
    inner join coverages
        on transactions.policy_no = coverages.policy_no
        and (
            transactions.coverage_no = coverages.coverage_no
            or (transactions.coverage_no is null and coverages.effective_date <= transactions.effective_date)
        )
    where transactions.txn_type in (select txn_type from status_types)
),

final_events as (
    select
        policy_no,
        coverage_no,
        min(event_seq) as final_seq,
    from status_events
    where txn_type in ({_sql_list(FINAL_STATUS_EVENTS)})
    group by policy_no, coverage_no
),

applied_sequence as (
    select
        status_events.*,
        max(case when status_events.txn_type <> 'reinstate' then status_events.event_seq end) over coverage_events
            as last_stop_seq,
        last_value(case when status_events.txn_type <> 'reinstate' then status_events.txn_type end ignore nulls)
            over coverage_events as last_stop_type,
        lead(status_events.effective_date) over (
            partition by status_events.policy_no, status_events.coverage_no order by status_events.event_seq
        ) as next_effective_date,
    from status_events
    left join final_events
        on status_events.policy_no = final_events.policy_no
        and status_events.coverage_no = final_events.coverage_no
    where final_events.final_seq is null or status_events.event_seq <= final_events.final_seq
    window coverage_events as (
        partition by status_events.policy_no, status_events.coverage_no
        order by status_events.event_seq
        rows between unbounded preceding and current row
    )
),

applied_events as (
    select
        applied_sequence.*,
        case
            when applied_sequence.last_stop_type is null then 'in_force'
            when applied_sequence.last_stop_type = 'lapse'
                and applied_sequence.last_stop_seq < applied_sequence.event_seq then 'in_force'
            else status_types.status_after
        end as status_after,
    from applied_sequence
    left join status_types
        on applied_sequence.last_stop_type = status_types.txn_type
),

stop_periods as (
    select
        policy_no,
        coverage_no,
        txn_id,
        txn_type,
        status_after,
        effective_date as stop_from,
        next_effective_date as stop_until,
    from applied_events
    where status_after <> 'in_force'
        and (next_effective_date is null or next_effective_date > effective_date)
)"""


# --- The checks ----------------------------------------------------------------------------------------

def _coefficients_sql(settings: Settings) -> str:
    return f"""
with

slices as (
    select
        policy_no,
        coverage_no,
        slice_kind,
        coefficient,
    from marts.fct_policy_rating
    where excluded_reason is null
        and rulebook_id = '{HANDBOOK_RULEBOOK}'
),

final as (
    select
        slices.slice_kind,
        policies.product_category,
        policies.payment_mode,
        policies.payment_years,
        cast(slices.coefficient as double) as coefficient,
        count(*) as n_rows,
        min(slices.policy_no || '/' || cast(slices.coverage_no as varchar)) as example_coverage,
    from slices
    left join staging.stg_core__policies as policies
        on slices.policy_no = policies.policy_no
        and slices.coverage_no = policies.coverage_no
    group by all
)

select * from final
order by slice_kind, product_category, payment_mode, payment_years, coefficient"""


def _prepare_coefficients(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["coefficient"] = frame["coefficient"].astype("float64").round(6)
    frame["expected_coefficient"] = [
        handbook_coefficient(kind, category, years)
        for kind, category, years in zip(frame["slice_kind"], frame["product_category"], frame["payment_years"],
                                         strict=True)
    ]
    frame["expected_coefficient"] = frame["expected_coefficient"].astype("float64")
    return frame


def _coefficients_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnValuesToBeInSet(column="slice_kind", value_set=list(SLICE_KINDS)),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="expected_coefficient"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="coefficient", column_B="expected_coefficient"),
    ]


def _exclusions_sql(settings: Settings) -> str:
    as_of = _sql_date(settings.as_of)
    return f"""
with
{_status_ctes()},

counting_slices as (
    select
        holder_id,
        policy_no,
        coverage_no,
        slice_kind,
        rulebook_id,
        counts_from,
        counts_until,
    from marts.fct_policy_rating
    where excluded_reason is null
),

final_log_events as (
    select distinct
        policy_no,
        coverage_no,
    from applied_events
    where txn_type in ({_sql_list(FINAL_STATUS_EVENTS)})
),

never_counting as (
    select
        policy_no,
        coverage_no,
        case when is_group then 'group' else 'term_under_12_months' end as reason,
    from staging.stg_core__policies
    where is_group or coverage_term_months < 12
    union all
    select distinct
        policy_no,
        coverage_no,
        'free_look_cancelled' as reason,
    from applied_events
    where txn_type = 'free_look_cancel'
        and effective_date <= {as_of}
    union all
    select
        policies.policy_no,
        policies.coverage_no,
        'free_look_cancelled' as reason,
    from staging.stg_core__policies as policies
    left join final_log_events
        on policies.policy_no = final_log_events.policy_no
        and policies.coverage_no = final_log_events.coverage_no
    where policies.status = 'free_look_cancelled'
        and coalesce(policies.status_date, policies.effective_date) <= {as_of}
        and final_log_events.policy_no is null
),

counted_although_excluded as (
    select
        'counts although ' || never_counting.reason as problem,
        counting_slices.*,
        cast(null as date) as stop_from,
        cast(null as date) as stop_until,
        cast(null as varchar) as stop_txn_id,
    from counting_slices
    inner join (select distinct * from never_counting) as never_counting
        on counting_slices.policy_no = never_counting.policy_no
        and counting_slices.coverage_no = never_counting.coverage_no
),

counted_while_stopped as (
    select
        'counts after ' || stop_periods.txn_type as problem,
        counting_slices.*,
        stop_periods.stop_from,
        stop_periods.stop_until,
        stop_periods.txn_id as stop_txn_id,
    from counting_slices
    inner join stop_periods
        on counting_slices.policy_no = stop_periods.policy_no
        and counting_slices.coverage_no = stop_periods.coverage_no
        and counting_slices.counts_from < coalesce(stop_periods.stop_until, {_sql_date(None)})
        and stop_periods.stop_from < coalesce(counting_slices.counts_until, {_sql_date(None)})
    where greatest(counting_slices.counts_from, stop_periods.stop_from) <= {as_of}
),

final as (
    select * from counted_although_excluded
    union all
    select * from counted_while_stopped
)

select * from final
order by policy_no, coverage_no, counts_from"""


def _no_rows_expectations(settings: Settings) -> list:
    gx = _gx()
    return [gx.expectations.ExpectTableRowCountToEqual(value=0)]


def _tier_thresholds_sql(settings: Settings) -> str:
    return """
with

thresholds as (
    select
        rulebook_id,
        tier_code,
        tier_rank,
        cast(lower_bound as double) as lower_bound,
        cast(upper_bound as double) as upper_bound,
        cast(lag(upper_bound) over rulebook_tiers as double) as previous_upper_bound,
        cast(lead(lower_bound) over rulebook_tiers as double) as next_lower_bound,
        row_number() over rulebook_tiers = 1 as is_lowest,
        1 as n_rows,
    from rules.tier_thresholds
    window rulebook_tiers as (partition by rulebook_id order by tier_rank, lower_bound)
),

final as (
    select
        thresholds.*,
        case when is_lowest then 0.0 else previous_upper_bound end as expected_lower_bound,
    from thresholds
)

select * from final
order by rulebook_id, tier_rank"""


def _tier_thresholds_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="lower_bound"),
        # contiguous: each tier starts where the one below ends, the lowest at 0
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="lower_bound", column_B="expected_lower_bound"),
        # … and ends where the next starts; only the top tier is open
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="upper_bound", column_B="next_lower_bound"),
        # non-empty, so non-overlapping
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(column_A="upper_bound", column_B="lower_bound",
                                                                ignore_row_if="either_value_is_missing"),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["rulebook_id", "tier_rank"]),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["rulebook_id", "tier_code"]),
    ]


def _tier_codes_sql(settings: Settings) -> str:
    return """
with

history as (
    select
        holder_id,
        valid_from,
        rulebook_id,
        tier_code,
        tier_rank,
        rated_premium,
    from marts.fct_member_tier_history
),

judged as (
    select
        history.*,
        thresholds.tier_code as expected_tier_code,
        thresholds.tier_rank as expected_tier_rank,
    from history
    left join rules.tier_thresholds as thresholds
        on history.rulebook_id = thresholds.rulebook_id
        and history.rated_premium >= thresholds.lower_bound
        and (thresholds.upper_bound is null or history.rated_premium < thresholds.upper_bound)
),

final as (
    select
        rulebook_id,
        tier_code,
        tier_rank,
        expected_tier_code,
        expected_tier_rank,
        count(*) as n_rows,
        min(cast(rated_premium as double)) as min_rated_premium,
        max(cast(rated_premium as double)) as max_rated_premium,
        arg_min(holder_id || ' from ' || cast(valid_from as varchar), rated_premium) as example,
    from judged
    group by all
)

select * from final
order by rulebook_id, tier_rank, expected_tier_rank"""


def _tier_codes_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="expected_tier_code"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="tier_code", column_B="expected_tier_code"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="tier_rank", column_B="expected_tier_rank"),
    ]


def _intervals_sql(table: str) -> Callable[[Settings], str]:
    def sql(settings: Settings) -> str:
        return f"""
with

ordered as (
    select
        holder_id,
        valid_from,
        valid_to,
        lag(valid_from) over holder_rows as previous_valid_from,
        lag(valid_to) over holder_rows as previous_valid_to,
        row_number() over holder_rows > 1 as has_previous,
    from {table}
    window holder_rows as (partition by holder_id order by valid_from, valid_to nulls last)
),

final as (
    select
        case when valid_to is not null and valid_to <= valid_from then 'empty interval'
             else 'overlaps the previous interval' end as problem,
        *,
    from ordered
    where (valid_to is not null and valid_to <= valid_from)
        or (has_previous and (previous_valid_to is null or previous_valid_to > valid_from))
)

select * exclude (has_previous) from final
order by holder_id, valid_from"""

    return sql


def _tier_premium_agreement_sql(settings: Settings) -> str:
    return """
with

tiers as (
    select
        holder_id,
        valid_from,
        tier_code,
        rated_premium,
    from marts.fct_member_tier_history
),

premiums as (
    select
        holder_id,
        valid_from,
        valid_to,
        rated_premium,
    from marts.fct_member_rated_premium_history
),

final as (
    select
        tiers.holder_id,
        tiers.valid_from,
        tiers.tier_code,
        tiers.rated_premium as tier_rated_premium,
        premiums.rated_premium as history_rated_premium,
        premiums.valid_from as history_valid_from,
        premiums.valid_to as history_valid_to,
    from tiers
    left join premiums
        on tiers.holder_id = premiums.holder_id
        and premiums.valid_from <= tiers.valid_from
        and (premiums.valid_to is null or tiers.valid_from < premiums.valid_to)
    where premiums.holder_id is null
        or premiums.rated_premium <> tiers.rated_premium
)

select * from final
order by holder_id, valid_from"""


def _entitlement_matrix_sql(settings: Settings) -> str:
    return f"""
with

entitlements as (
    select
        service_code,
        tier_code,
        coalesce(variant, '*') as variant,
        quota_kind,
        quota,
        coalesce(quota_group, service_code || ':' || coalesce(variant, '*')) as quota_pool,
    from marts.dim_entitlement
    where rulebook_id = '{HANDBOOK_RULEBOOK}'
),

pools as (
    select
        service_code,
        tier_code,
        quota_pool,
        max(quota) as quota,
    from entitlements
    group by all
),

pool_units as (
    select
        service_code,
        tier_code,
        cast(sum(quota) as bigint) as units,
    from pools
    group by all
),

cells as (
    select
        service_code,
        tier_code,
        array_to_string(list_sort(list(distinct quota_kind)), ',') as quota_kinds,
        array_to_string(list_sort(list(distinct variant)), ',') as variants,
        count(*) as entitlement_rows,
    from entitlements
    group by all
),

final as (
    select
        cells.*,
        pool_units.units,
    from cells
    left join pool_units
        on cells.service_code = pool_units.service_code
        and cells.tier_code = pool_units.tier_code
)

select * from final
order by service_code, tier_code"""


def _prepare_entitlement_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The full 22 × 6 grid, with the warehouse's cell beside the handbook's."""
    actual: dict[tuple[str, str], str] = {}
    rows_of: dict[tuple[str, str], int] = {}
    for row in frame.to_dict("records"):
        units = None if _missing(row["units"]) else int(row["units"])
        variants = tuple(str(row["variants"]).split(","))
        key = (row["service_code"], row["tier_code"])
        actual[key] = Cell(str(row["quota_kinds"]), units, variants).signature()
        rows_of[key] = int(row["entitlement_rows"])
    expected = {
        (service, tier): (cell.signature() if cell is not None else NONE)
        for service, cells in HANDBOOK_ENTITLEMENTS.items()
        for tier, cell in zip(TIER_CODES, cells, strict=True)
    }
    keys = list(expected) + sorted(key for key in actual if key not in expected)
    return pd.DataFrame({
        "service_code": [key[0] for key in keys],
        "tier_code": [key[1] for key in keys],
        "warehouse_cell": [actual.get(key, NONE) for key in keys],
        "handbook_cell": [expected.get(key, NONE) for key in keys],
        "entitlement_rows": [rows_of.get(key, 0) for key in keys],
    })


def _entitlement_matrix_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="warehouse_cell", column_B="handbook_cell"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="service_code", value_set=list(HANDBOOK_ENTITLEMENTS)),
        gx.expectations.ExpectColumnValuesToBeInSet(column="tier_code", value_set=list(TIER_CODES)),
    ]


def _usage_entitlement_sql(settings: Settings) -> str:
    return """
with

usage as (
    select
        usage_id,
        service_code,
        service_date,
        tier_code_at_service,
        is_entitled_tier,
    from marts.fct_benefit_usage
),

usage_rulebooks as (
    select
        usage.*,
        rulebooks.rulebook_id,
    from usage
    left join marts.dim_rulebook as rulebooks
        on usage.service_date >= rulebooks.effective_from
        and (rulebooks.effective_until is null or usage.service_date < rulebooks.effective_until)
),

entitled_cells as (
    select distinct
        rulebook_id,
        service_code,
        tier_code,
    from marts.dim_entitlement
),

final as (
    select
        usage_rulebooks.rulebook_id,
        usage_rulebooks.service_code,
        usage_rulebooks.tier_code_at_service,
        coalesce(cast(usage_rulebooks.is_entitled_tier as varchar), 'null') as is_entitled_tier,
        cast(entitled_cells.tier_code is not null as varchar) as expected_is_entitled_tier,
        count(*) as n_rows,
        min(usage_rulebooks.usage_id) as example_usage_id,
    from usage_rulebooks
    left join entitled_cells
        on usage_rulebooks.rulebook_id = entitled_cells.rulebook_id
        and usage_rulebooks.service_code = entitled_cells.service_code
        and usage_rulebooks.tier_code_at_service = entitled_cells.tier_code
    group by all
)

select * from final
order by rulebook_id, service_code, tier_code_at_service"""


def _usage_entitlement_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="is_entitled_tier",
                                                        column_B="expected_is_entitled_tier"),
    ]


def _status_transitions_sql(settings: Settings) -> str:
    return f"""
with
{_status_ctes()},

transitions as (
    select
        txn_id,
        policy_no,
        coverage_no,
        coalesce(lag(txn_type) over coverage_events, 'none') || ' -> ' || txn_type as transition,
    from status_events
    window coverage_events as (partition by policy_no, coverage_no order by event_seq)
),

final as (
    select
        transition,
        count(*) as n_rows,
        min(txn_id || ' on ' || policy_no || '/' || cast(coverage_no as varchar)) as example,
    from transitions
    group by transition
)

select * from final
order by transition"""


def _status_transitions_expectations(settings: Settings) -> list:
    gx = _gx()
    return [gx.expectations.ExpectColumnValuesToBeInSet(column="transition", value_set=legal_status_transitions())]


def _policy_status_sql(settings: Settings) -> str:
    return f"""
with
{_status_ctes()},

latest_events as (
    select
        policy_no,
        coverage_no,
        status_after,
    from applied_events
    qualify row_number() over (partition by policy_no, coverage_no order by event_seq desc) = 1
),

final as (
    select
        policies.status,
        coalesce(latest_events.status_after, 'in_force') as log_status,
        count(*) as n_rows,
        min(policies.policy_no || '/' || cast(policies.coverage_no as varchar)) as example_coverage,
    from staging.stg_core__policies as policies
    left join latest_events
        on policies.policy_no = latest_events.policy_no
        and policies.coverage_no = latest_events.coverage_no
    group by all
)

select * from final
order by status, log_status"""


def _policy_status_expectations(settings: Settings) -> list:
    gx = _gx()
    return [gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="status", column_B="log_status")]


def _loaded_files_sql(with_table_rows: bool, min_quarantined: int = 0) -> str:
    table_rows = "\n    union all\n".join(
        f"    select '{extract.name}' as file_name, _extract_date as extract_date, count(*) as rows_in_table\n"
        f"    from raw.{extract.table}\n    group by _extract_date"
        for extract in EXTRACT_FILES
    )
    tables = f""",

table_rows as (
{table_rows}
),

quarantine_rows as (
    select
        file_name,
        extract_date,
        count(*) as rows_in_quarantine,
    from raw.quarantine
    group by all
)""" if with_table_rows else ""
    joined = """,
        files.rows_loaded + files.rows_quarantined as rows_accounted,
        coalesce(table_rows.rows_in_table, 0) as rows_in_table,
        coalesce(quarantine_rows.rows_in_quarantine, 0) as rows_in_quarantine,
    from loaded_files as files
    left join table_rows
        on files.extract_date = table_rows.extract_date
        and files.file_name = table_rows.file_name
    left join quarantine_rows
        on files.extract_date = quarantine_rows.extract_date
        and files.file_name = quarantine_rows.file_name""" if with_table_rows else """,
        case
            when files.rows_in_file > 0 and files.rows_quarantined >= {min_quarantined}
                then files.rows_quarantined / files.rows_in_file
            else 0.0
        end as quarantine_rate,
    from loaded_files as files"""
    joined = joined.replace("{min_quarantined}", str(int(min_quarantined)))
    return f"""
with

loaded_files as (
    select
        files.extract_date,
        files.file_name,
        files.rows_in_manifest,
        files.rows_in_file,
        files.rows_loaded,
        files.rows_quarantined,
        1 as n_rows,
    from raw.batch_files as files
    inner join raw.batches as batches
        on files.extract_date = batches.extract_date
        and batches.status = 'loaded'
){tables},

final as (
    select
        files.*{joined}
)

select * from final
order by extract_date, file_name"""


def _reconciliation_expectations(settings: Settings) -> list:
    gx = _gx()
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="rows_in_file"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="rows_in_file", column_B="rows_in_manifest"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="rows_in_file", column_B="rows_accounted"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="rows_loaded", column_B="rows_in_table"),
        gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="rows_quarantined", column_B="rows_in_quarantine"),
    ]


def _quarantine_rate_expectations(settings: Settings) -> list:
    gx = _gx()
    return [gx.expectations.ExpectColumnValuesToBeBetween(column="quarantine_rate", min_value=0,
                                                          max_value=settings.quarantine_rate_max, strict_max=True)]


POLICY_RATING = ("marts", "fct_policy_rating")
TIER_HISTORY = ("marts", "fct_member_tier_history")
PREMIUM_HISTORY = ("marts", "fct_member_rated_premium_history")
STG_POLICIES = ("staging", "stg_core__policies")
STG_TRANSACTIONS = ("staging", "stg_core__policy_transactions")
TIER_THRESHOLDS = ("rules", "tier_thresholds")
BATCH_LEDGER = ("raw", "batches")
RAW_TABLES = tuple(f"raw.{extract.table}" for extract in EXTRACT_FILES)


def _table(asset_key: tuple[str, ...]) -> str:
    return ".".join(asset_key)


CHECKS: tuple[Check, ...] = (
    Check(
        name="coefficients", asset_key=POLICY_RATING, severity=BLOCKING,
        description="Every counting slice of rulebook handbook_2026 has the handbook's 折算系数 for its kind, "
                    "category and payment years (regular Y>=10: 1, Y<10: Y/10; single endowment/participating 0.03, "
                    "universal 0.02, other 0.1; one-year 1; top-up = the category's single coefficient).",
        reads=(_table(POLICY_RATING), _table(STG_POLICIES)),
        sql=_coefficients_sql, expectations=_coefficients_expectations, prepare=_prepare_coefficients,
        deps=(STG_POLICIES,),
    ),
    Check(
        name="exclusions", asset_key=POLICY_RATING, severity=BLOCKING,
        description="No group, under-12-month or free-look-cancelled coverage has a counting slice, and no counting "
                    "slice overlaps a period after a surrender, lapse (until reinstated), reduced paid-up, premium "
                    "waiver or termination of its coverage or policy (from the staged transaction log).",
        reads=(_table(POLICY_RATING), _table(STG_POLICIES), _table(STG_TRANSACTIONS)),
        sql=_exclusions_sql, expectations=_no_rows_expectations, shape="violations",
        deps=(STG_POLICIES, STG_TRANSACTIONS),
    ),
    Check(
        name="tier_thresholds", asset_key=TIER_THRESHOLDS, severity=BLOCKING,
        description="Per rulebook the tiers' [lower_bound, upper_bound) are contiguous from 0, non-empty and "
                    "non-overlapping, only the top tier open, tier codes and ranks unique.",
        reads=(_table(TIER_THRESHOLDS),),
        sql=_tier_thresholds_sql, expectations=_tier_thresholds_expectations,
    ),
    Check(
        name="tier_codes", asset_key=TIER_HISTORY, severity=BLOCKING,
        description="Every tier-history row's tier_code and tier_rank are those its rated_premium falls in under "
                    "its rulebook's thresholds.",
        reads=(_table(TIER_HISTORY), _table(TIER_THRESHOLDS)),
        sql=_tier_codes_sql, expectations=_tier_codes_expectations, deps=(TIER_THRESHOLDS,),
    ),
    Check(
        name="tier_intervals", asset_key=TIER_HISTORY, severity=BLOCKING,
        description="A holder's tier-history intervals [valid_from, valid_to) are non-empty and never overlap.",
        reads=(_table(TIER_HISTORY),),
        sql=_intervals_sql(_table(TIER_HISTORY)), expectations=_no_rows_expectations, shape="violations",
    ),
    Check(
        name="rated_premium_intervals", asset_key=PREMIUM_HISTORY, severity=BLOCKING,
        description="A holder's rated-premium-history intervals [valid_from, valid_to) are non-empty and never "
                    "overlap.",
        reads=(_table(PREMIUM_HISTORY),),
        sql=_intervals_sql(_table(PREMIUM_HISTORY)), expectations=_no_rows_expectations, shape="violations",
    ),
    Check(
        name="tier_premium_agreement", asset_key=TIER_HISTORY, severity=BLOCKING,
        description="The rated premium of every tier-history row equals the rated-premium history's value on its "
                    "valid_from.",
        reads=(_table(TIER_HISTORY), _table(PREMIUM_HISTORY)),
        sql=_tier_premium_agreement_sql, expectations=_no_rows_expectations, shape="violations",
        deps=(PREMIUM_HISTORY,),
    ),
    Check(
        name="entitlement_matrix", asset_key=("marts", "dim_entitlement"), severity=BLOCKING,
        description="dim_entitlement of handbook_2026 equals the handbook's matrix (RULES §6) cell by cell: "
                    "22 services × 6 tiers, quota kind, units a year or once, variants allowed.",
        reads=("marts.dim_entitlement",),
        sql=_entitlement_matrix_sql, expectations=_entitlement_matrix_expectations,
        prepare=_prepare_entitlement_matrix,
    ),
    Check(
        name="usage_entitlement", asset_key=("marts", "fct_benefit_usage"), severity=BLOCKING,
        description="Every use's is_entitled_tier is true exactly when dim_entitlement has a row for its service "
                    "and its tier on the service date, under the rulebook in force that day.",
        reads=("marts.fct_benefit_usage", "marts.dim_entitlement", "marts.dim_rulebook"),
        sql=_usage_entitlement_sql, expectations=_usage_entitlement_expectations,
        deps=(("marts", "dim_entitlement"), ("marts", "dim_rulebook")),
    ),
    Check(
        name="status_transitions", asset_key=STG_TRANSACTIONS, severity=WARNING,
        description="Status events of each coverage follow legal transitions: a reinstatement follows a lapse; "
                    "nothing follows a free-look cancellation, surrender or termination.",
        reads=(_table(STG_TRANSACTIONS), _table(STG_POLICIES)),
        sql=_status_transitions_sql, expectations=_status_transitions_expectations, deps=(STG_POLICIES,),
    ),
    Check(
        name="policy_status", asset_key=STG_POLICIES, severity=WARNING,
        description="Each coverage's status in policies.csv agrees with the status its transaction log leads to.",
        reads=(_table(STG_POLICIES), _table(STG_TRANSACTIONS)),
        sql=_policy_status_sql, expectations=_policy_status_expectations, deps=(STG_TRANSACTIONS,),
    ),
    Check(
        name="batch_reconciliation", asset_key=BATCH_LEDGER, severity=BLOCKING,
        description="For every file of every loaded batch: rows in file = rows loaded + rows quarantined = rows in "
                    "the manifest, and the raw table and the quarantine hold exactly those rows.",
        reads=("raw.batches", "raw.batch_files", "raw.quarantine", *RAW_TABLES),
        sql=lambda settings: _loaded_files_sql(with_table_rows=True), expectations=_reconciliation_expectations,
    ),
    Check(
        name="quarantine_rate", asset_key=BATCH_LEDGER, severity=WARNING,
        description="For every file of every loaded batch with at least 5 quarantined rows "
                    "(VIPWH_QUARANTINE_MIN_ROWS), rows quarantined / rows in file stays under the threshold "
                    "(default 1 %, VIPWH_QUARANTINE_RATE_MAX).",
        reads=("raw.batches", "raw.batch_files"),
        sql=lambda settings: _loaded_files_sql(with_table_rows=False,
                                               min_quarantined=settings.quarantine_min_rows),
        expectations=_quarantine_rate_expectations,
    ),
)

CHECKS_BY_NAME = {check.name: check for check in CHECKS}


# --- Results table ----------------------------------------------------------------------------------------

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
        f"select count(*), count(*) filter (where not passed) from {RESULTS_TABLE} where build_id = ?",
        [build_id]).fetchone()
    return int(run), int(failed or 0)


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
        (build_id, result.checked_at or now, result.check_name, result.asset_key, result.severity, result.passed,
         result.failing_rows, json.dumps(result.sample, ensure_ascii=False, default=str), result.message)
        for result in results
    ]
    if rows:
        con.executemany(f"insert into {RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
from dagster_project.lib import id_scan as _id_scan; CHECKS, CHECKS_BY_NAME = _id_scan.register(CHECKS, CHECKS_BY_NAME)  # noqa: E402, E702, I001 - the national-ID scan (lib/id_scan.py)
