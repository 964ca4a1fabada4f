"""Streamlit side of the dashboard: the snapshot connection, cached queries and notices.

Pages never open the writer's warehouse: they read the latest published snapshot through
``connect_snapshot``. Query results are cached per snapshot file, so a new build (a new snapshot) is
picked up on the next page run and nothing is recomputed while the snapshot stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dagster_project.lib.publish import connect_snapshot, current_snapshot
from vipwh.dashboard import queries


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(warehouse: str, snapshot_name: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot (queries run on their own cursors)."""
    del snapshot_name  # the cache key: a new snapshot gets a new connection
    return connect_snapshot(Path(warehouse))


@st.cache_data(max_entries=256, show_spinner="查询中 querying…")
def _query(warehouse: str, snapshot_name: str, sql: str) -> pd.DataFrame:
    cursor = _connection(warehouse, snapshot_name).cursor()
    try:
        return cursor.sql(sql).df()
    finally:
        cursor.close()


@st.cache_data(max_entries=4, show_spinner=False)
def _catalog(warehouse: str, snapshot_name: str) -> dict[str, list[str]]:
    cursor = _connection(warehouse, snapshot_name).cursor()
    try:
        return queries.catalog(cursor)
    finally:
        cursor.close()


@st.cache_data(max_entries=4, show_spinner=False)
def _service_labels(warehouse: str, snapshot_name: str) -> dict[str, str]:
    cursor = _connection(warehouse, snapshot_name).cursor()
    try:
        return queries.service_labels(cursor, _catalog(warehouse, snapshot_name))
    finally:
        cursor.close()


@st.cache_data(max_entries=4, show_spinner=False)
def _reason_labels(warehouse: str, snapshot_name: str) -> dict[str, str]:
    cursor = _connection(warehouse, snapshot_name).cursor()
    try:
        return queries.reason_labels(cursor, _catalog(warehouse, snapshot_name))
    finally:
        cursor.close()


@dataclass(frozen=True)
class Snapshot:
    """The published snapshot a page run reads."""

    warehouse: str
    name: str

    @property
    def tables(self) -> dict[str, list[str]]:
        return _catalog(self.warehouse, self.name)

    def sql(self, sql: str) -> pd.DataFrame:
        return _query(self.warehouse, self.name, sql)

    def service_label(self, code: str) -> str:
        return _service_labels(self.warehouse, self.name).get(code, code)

    def reason_label(self, value: object) -> str:
        """Label(s) of a reason code, or of several joined with '; ' (blank for null)."""
        return queries.label_reasons(value, _reason_labels(self.warehouse, self.name))

    def service_order(self) -> list[str]:
        return list(_service_labels(self.warehouse, self.name))

    def as_of(self) -> date | None:
        """The snapshot's valuation date (see queries.as_of_sql), None when nothing tells it."""
        sql = queries.as_of_sql(self.tables)
        value = self.sql(sql)["as_of_date"].iloc[0] if sql else None
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    def has(self, table: str, columns: tuple[str, ...] = ()) -> bool:
        return queries.missing_columns(self.tables, table, columns) == []

    def require(
        self, table: str, columns: tuple[str, ...] = (), what: str = "", hint: str = "a `vipwh build` that includes it"
    ) -> bool:
        """True when the table is there with the columns; else a notice on the page and False."""
        missing = queries.missing_columns(self.tables, table, columns)
        if missing == []:
            return True
        subject = f"{what}: " if what else ""
        if missing is None:
            st.info(
                f"{subject}`{table}` 尚未发布 — is not in the published snapshot `{self.name}` yet. "
                f"It appears after {hint}.",
                icon="ℹ️",
            )
        else:
            st.warning(
                f"{subject}`{table}` lacks column(s) {', '.join(f'`{c}`' for c in missing)} in snapshot "
                f"`{self.name}`; this view is skipped.",
                icon="⚠️",
            )
        return False


def open_page(title: str, caption: str) -> Snapshot | None:
    """Title and caption of a page, and the snapshot to read (None, with a notice, when none is published)."""
    st.title(title)
    st.caption(caption)
    warehouse = queries.warehouse_path()
    snapshot = current_snapshot(warehouse)
    if snapshot is None or not snapshot.exists():
        st.info(
            f"尚无发布的快照 — nothing published yet for `{warehouse}`. Run `vipwh build --warehouse "
            f"{warehouse}`: a build whose blocking checks pass publishes a snapshot.",
            icon="ℹ️",
        )
        return None
    return Snapshot(warehouse=str(warehouse.resolve()), name=snapshot.name)


def tier_axis(codes: list[str] | pd.Series) -> list[str]:
    """Tier labels present in ``codes``, in rank order ('none' last)."""
    present = set(codes)
    ordered = [code for code in (*queries.TIER_CODES, "none") if code in present]
    ordered += sorted(str(code) for code in present - set(ordered))
    return [queries.tier_label(code) for code in ordered]


def tier_color_map() -> dict[str, str]:
    return {queries.tier_label(code): color for code, color in queries.TIER_COLORS.items()}


def show_table(
    frame: pd.DataFrame,
    money: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    integers: tuple[str, ...] = (),
    **kwargs,
) -> None:
    """st.dataframe of a frame as people read it (queries.display_frame: dates, money, blanks for nulls)."""
    st.dataframe(
        queries.display_frame(frame, money=money, dates=dates, integers=integers),
        hide_index=kwargs.pop("hide_index", True),
        **kwargs,
    )


def tier_matrix(frame: pd.DataFrame, from_column: str, to_column: str, values: str = "members") -> pd.DataFrame:
    """queries.tier_matrix: from-tier × to-tier counts in tier_rank order."""
    return queries.tier_matrix(frame, from_column, to_column, values)


def shade_partial_month(figure, month, through) -> None:
    """Shade ``month`` (its first day, where a monthly chart puts it) as counted only through ``through``."""
    figure.add_vrect(
        x0=month - pd.Timedelta(days=15),
        x1=month + pd.Timedelta(days=15),
        fillcolor="#eeeeee",
        opacity=0.5,
        line_width=0,
        annotation_text=f"截至 {through:%Y-%m-%d} partial",
        annotation_position="top left",
    )


def mark_partial_month(figure, as_of: date | None, what: str) -> None:
    """Shade the month of the as-of date on a monthly chart, and say under it that the month is partial.

    A month counted through the as-of date only (any day but its last) would otherwise read as a fall in
    ``what``.
    """
    if as_of is None or (pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)).date() == as_of:
        return
    partial_month = pd.Timestamp(as_of).to_period("M").to_timestamp()
    shade_partial_month(figure, partial_month, as_of)
    st.caption(
        f"{partial_month:%Y-%m} 为本月截至估值日 {as_of:%Y-%m-%d} 的部分数据 — the current month is "
        f"partial (through the as-of date), not a fall in {what}."
    )
