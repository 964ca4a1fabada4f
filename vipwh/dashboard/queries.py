"""What the dashboard and the notebooks read from a published snapshot: labels and SQL, no Streamlit.

Every function takes an open (read-only) DuckDB connection from ``connect_snapshot`` or returns SQL text,
so the dashboard pages, the notebooks and the tests share one definition of each figure.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd

WAREHOUSE_ENV = "VIPWH_WAREHOUSE"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"

# RULES.md §4 — codes, ranks and Chinese names of the tiers; 'none' = out of the programme.
TIERS: tuple[tuple[str, int, str], ...] = (
    ("family", 0, "家人"),
    ("star1", 1, "一星"),
    ("star2", 2, "二星"),
    ("star3", 3, "三星"),
    ("star4", 4, "四星"),
    ("star5", 5, "五星"),
)
TIER_CODES: tuple[str, ...] = tuple(code for code, _, _ in TIERS)
TIER_RANKS: dict[str, int] = {code: rank for code, rank, _ in TIERS}
TIER_LABELS: dict[str, str] = {code: f"{name_zh} {code}" for code, _, name_zh in TIERS} | {"none": "非会员 none"}
TIER_COLORS: dict[str, str] = {
    "family": "#9e9e9e",
    "star1": "#90caf9",
    "star2": "#42a5f5",
    "star3": "#1e88e5",
    "star4": "#f9a825",
    "star5": "#c62828",
    "none": "#cfd8dc",
}


def band_sort_key(value: object) -> tuple:
    """Sort key that puts age bands ('0-29', '30-39', … '70+') in numeric order, other values after, A–Z."""
    text = str(value)
    digits = "".join(character for character in text.split("-")[0] if character.isdigit())
    return (0, int(digits), text) if digits else (1, 0, text)


def warehouse_path() -> Path:
    """The warehouse whose snapshot is read: env VIPWH_WAREHOUSE, else data/warehouse.duckdb."""
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


def tier_label(code: str | None) -> str:
    """'三星 star3' for a tier code; 'none' and null read as out of the programme."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return TIER_LABELS["none"]
    return TIER_LABELS.get(str(code), str(code))


def catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Columns of every table in the snapshot, keyed 'schema.table'."""
    rows = con.sql(
        """select table_schema, table_name, column_name
           from information_schema.columns
           where table_catalog = current_database()
           order by table_schema, table_name, ordinal_position"""
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault(f"{schema}.{table}", []).append(column)
    return tables


def missing_columns(tables: dict[str, list[str]], table: str, columns: list[str] | tuple[str, ...]) -> list[str] | None:
    """None when the table is absent, else the required columns it lacks (empty = usable)."""
    if table not in tables:
        return None
    return [column for column in columns if column not in tables[table]]


def service_labels(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]] | None = None) -> dict[str, str]:
    """'礼宾车服务 limousine' per service code, in catalogue order (marts.dim_service, else rules.services)."""
    tables = tables if tables is not None else catalog(con)
    for table in ("marts.dim_service", "rules.services"):
        if missing_columns(tables, table, ("service_code", "name_zh")) == []:
            order = "service_group, service_code" if "service_group" in tables[table] else "service_code"
            rows = con.sql(f"select service_code, name_zh from {table} order by {order}").fetchall()
            return {code: f"{name_zh} {code}" for code, name_zh in rows}
    return {}


def reason_labels(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]] | None = None) -> dict[str, str]:
    """'交费期满 payment period ended' per reason code (tier-change and non-compliance reasons), from the
    rules.reason_labels seed; empty when the snapshot lacks it (codes are then shown as they are)."""
    tables = tables if tables is not None else catalog(con)
    if missing_columns(tables, "rules.reason_labels", ("reason_code", "name_zh", "name_en")) != []:
        return {}
    rows = con.sql("select reason_code, name_zh, name_en from rules.reason_labels").fetchall()
    return {code: f"{name_zh} {name_en}" for code, name_zh, name_en in rows}


def label_reasons(value: object, labels: dict[str, str]) -> str:
    """A reason, or several joined with '; ', with each code replaced by its label; blank for null."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return "; ".join(labels.get(code, code) for code in str(value).split("; "))


def display_frame(
    frame: pd.DataFrame, money: tuple[str, ...] = (), dates: tuple[str, ...] = (), integers: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A copy for reading: dates as YYYY-MM-DD, money with thousands separators and 2 decimals, integers
    (years, counts) plain, and blanks where a value is null."""
    shown = frame.copy()

    def blank_or(function):
        return lambda value: (
            ""
            if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value))
            else function(value)
        )

    for column in dates:
        if column in shown:
            shown[column] = shown[column].map(blank_or(lambda value: pd.Timestamp(value).strftime("%Y-%m-%d")))
    for column in money:
        if column in shown:
            shown[column] = shown[column].map(blank_or(lambda value: f"{float(value):,.2f}"))
    for column in integers:
        if column in shown:
            shown[column] = shown[column].map(blank_or(lambda value: str(int(value))))
    for column in shown.columns:
        if pd.api.types.is_object_dtype(shown[column]) or pd.api.types.is_string_dtype(shown[column]):
            shown[column] = shown[column].map(
                lambda value: "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            )
    return shown


# Where the valuation (as-of) date is read off a snapshot, best source first: (table, column, how).
# marts.build_info holds the build's own as-of date; the others are fallbacks for snapshots built before it.
AS_OF_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("marts.build_info", "as_of_date", "max(as_of_date)"),
    ("marts.mart_tier_distribution_monthly", "snapshot_date", "max(snapshot_date)"),
    ("marts.mart_member_entitlements", "reference_date", "max(reference_date)"),
    (
        "marts.fct_member_tier_history",
        "valid_to",
        "greatest(max(valid_from), coalesce(max(valid_to), max(valid_from)))",
    ),
)


def as_of_sql(tables: dict[str, list[str]]) -> str | None:
    """SQL for the snapshot's as-of date (one row, column as_of_date), None when nothing tells it.

    marts.build_info.as_of_date, the valuation date of the build that produced the snapshot; failing that
    (a snapshot from before build_info), the month-end distribution's last day, the current year's
    entitlement statements, or the latest day the tier history mentions.
    """
    for table, column, expression in AS_OF_SOURCES:
        if missing_columns(tables, table, (column,)) == []:
            return f"select cast({expression} as date) as as_of_date from {table}"
    return None


def as_of_date(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]] | None = None) -> date | None:
    sql = as_of_sql(tables if tables is not None else catalog(con))
    return con.sql(sql).fetchall()[0][0] if sql else None


UTILIZATION = "marts.mart_benefit_utilization"
# the columns of the utilization mart that the dashboard page and the notebook read
UTILIZATION_COLUMNS = (
    "entitlement_year",
    "service_code",
    "tier_code",
    "member_years",
    "members",
    "users",
    "uses",
    "consumed_units",
    "entitled_units",
    "utilization_rate",
    "non_compliant_uses",
    "cost_amount",
)
EXPOSURE = "marts.mart_member_exposure"
EXPOSURE_COLUMNS = ("entitlement_year", "tier_code", "member_years", "members")


def cost_per_member_year_sql() -> str:
    """Cost per member-year per entitlement year × tier: the benefit cost of uses at the tier (summed over the
    services of marts.mart_benefit_utilization) ÷ the tier's member_years from marts.mart_member_exposure.

    One row per year × tier with exposure: entitlement_year, tier_code, tier_rank, member_years, members,
    cost_amount, cost_per_member_year. The overall figure of a year is sum(cost_amount) ÷ sum(member_years)
    over its rows (``overall_cost_per_member_year``); uses by holders out of the programme (tier 'none')
    have no exposure and are not in it.
    """
    return """
with

exposure as (
    select entitlement_year, tier_code, tier_rank, member_years, members
    from marts.mart_member_exposure
),

cost as (
    select entitlement_year, tier_code, sum(cost_amount) as cost_amount
    from marts.mart_benefit_utilization
    where tier_code <> 'none'
    group by entitlement_year, tier_code
)

select
    exposure.entitlement_year,
    exposure.tier_code,
    exposure.tier_rank,
    exposure.member_years,
    exposure.members,
    coalesce(cost.cost_amount, 0) as cost_amount,
    coalesce(cost.cost_amount, 0) / nullif(exposure.member_years, 0) as cost_per_member_year
from exposure
left join cost
    on exposure.entitlement_year = cost.entitlement_year
    and exposure.tier_code = cost.tier_code
order by exposure.entitlement_year, exposure.tier_rank
"""


def benefit_cost_per_year_sql() -> str:
    """Benefit cost of every use per entitlement year (uses by holders out of the programme included)."""
    return """select entitlement_year, sum(cost_amount) as cost_amount
              from marts.mart_benefit_utilization group by entitlement_year order by entitlement_year"""


def overall_cost_per_member_year(rows: pd.DataFrame) -> float | None:
    """sum(cost) ÷ sum(member_years) over rows of ``cost_per_member_year_sql`` (a ratio of sums)."""
    member_years = float(rows["member_years"].astype(float).sum())
    return float(rows["cost_amount"].astype(float).sum()) / member_years if member_years > 0 else None


def tier_month_end_sql(as_of: date | None) -> str:
    """Members per tier at each month end (the as-of date for the current month), read off the tier-history
    intervals with a range join: one row per month × tier, never one per holder per day."""
    last_day = (
        f"date '{as_of.isoformat()}'"
        if as_of
        else "cast(greatest(max(valid_from), coalesce(max(valid_to), max(valid_from))) as date)"
    )
    return f"""
with

history as (
    select holder_id, tier_code, valid_from, valid_to
    from marts.fct_member_tier_history
),

bounds as (
    select
        cast(date_trunc('month', min(valid_from)) as date) as first_month,
        {last_day} as last_day
    from history
),

months as (
    select cast(unnest(generate_series(first_month, last_day, interval 1 month)) as date) as month
    from bounds
    where first_month is not null
),

month_ends as (
    select
        months.month,
        least(cast(months.month + interval 1 month - interval 1 day as date), bounds.last_day) as snapshot_date
    from months
    cross join bounds
)

select
    month_ends.month,
    month_ends.snapshot_date,
    history.tier_code,
    count(*) as members
from month_ends
inner join history
    on history.valid_from <= month_ends.snapshot_date
    and (history.valid_to is null or history.valid_to > month_ends.snapshot_date)
group by month_ends.month, month_ends.snapshot_date, history.tier_code
order by month_ends.month, history.tier_code
"""


def tier_month_end_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Members per tier at each month end: month, snapshot_date, tier_code, members."""
    return con.sql(tier_month_end_sql(as_of_date(con))).df()


def migration_kind(from_tier_code: str, to_tier_code: str) -> str:
    """join, leave, upgrade, downgrade or stay for one row of mart_tier_migration."""
    if from_tier_code == "none":
        return "join"
    if to_tier_code == "none":
        return "leave"
    before, after = TIER_RANKS.get(from_tier_code, -1), TIER_RANKS.get(to_tier_code, -1)
    if after > before:
        return "upgrade"
    if after < before:
        return "downgrade"
    return "stay"


MIGRATION_KIND_LABELS: dict[str, str] = {
    "join": "入会 join",
    "upgrade": "升级 upgrade",
    "downgrade": "降级 downgrade",
    "leave": "退出 leave",
    "stay": "不变 stay",
}


MIGRATION_KIND_COLORS: dict[str, str] = {
    "join": "rgba(30, 136, 229, 0.35)",
    "upgrade": "rgba(46, 125, 50, 0.45)",
    "downgrade": "rgba(198, 40, 40, 0.45)",
    "leave": "rgba(120, 120, 120, 0.35)",
    "stay": "rgba(200, 200, 200, 0.3)",
}


class Sankey(NamedTuple):
    labels: list[str]
    node_colors: list[str]
    sources: list[int]
    targets: list[int]
    values: list[float]
    link_colors: list[str]


def sankey_links(migration: pd.DataFrame) -> Sankey:
    """Nodes and links of a from-tier → to-tier Sankey from rows with from_tier_code, to_tier_code, members.

    'From' nodes come first, then 'to' nodes, each in tier order with 'none' first (labelled join on the
    left, leave on the right); links are coloured by kind (join, upgrade, downgrade, leave).
    """
    order = ("none", *TIER_CODES)
    totals = migration.groupby(["from_tier_code", "to_tier_code"], as_index=False)["members"].sum()
    totals = totals[totals["members"] > 0]
    left = [code for code in order if code in set(totals["from_tier_code"])]
    right = [code for code in order if code in set(totals["to_tier_code"])]
    left += sorted(set(totals["from_tier_code"]) - set(left))
    right += sorted(set(totals["to_tier_code"]) - set(right))
    labels = ["入会 join" if code == "none" else tier_label(code) for code in left]
    labels += ["退出 leave" if code == "none" else tier_label(code) for code in right]
    colors = [TIER_COLORS.get(code, "#888888") for code in (*left, *right)]
    sources = [left.index(code) for code in totals["from_tier_code"]]
    targets = [len(left) + right.index(code) for code in totals["to_tier_code"]]
    kinds = [
        migration_kind(before, after)
        for before, after in zip(totals["from_tier_code"], totals["to_tier_code"], strict=True)
    ]
    return Sankey(
        labels,
        colors,
        sources,
        targets,
        [float(value) for value in totals["members"]],
        [MIGRATION_KIND_COLORS[kind] for kind in kinds],
    )


def tier_matrix(frame: pd.DataFrame, from_column: str, to_column: str, values: str = "members") -> pd.DataFrame:
    """From-tier × to-tier counts with rows and columns in tier_rank order ('none' first on the left as a
    join, last on the right as a leave), labelled, zero where nothing moved."""
    rows = [code for code in ("none", *TIER_CODES) if code in set(frame[from_column])]
    columns = [code for code in (*TIER_CODES, "none") if code in set(frame[to_column])]
    matrix = frame.pivot_table(index=from_column, columns=to_column, values=values, aggfunc="sum", fill_value=0)
    matrix = matrix.reindex(index=rows, columns=columns, fill_value=0).astype(int)
    matrix.index = ["入会 join" if code == "none" else tier_label(code) for code in matrix.index]
    matrix.columns = ["退出 leave" if code == "none" else tier_label(code) for code in matrix.columns]
    matrix.index.name = "从 from \\ 到 to"
    matrix.columns.name = None
    return matrix
