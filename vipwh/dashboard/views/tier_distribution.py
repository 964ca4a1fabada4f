"""星级分布 Tier distribution over time: members per tier at each month end (marts.mart_tier_distribution_monthly)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, shade_partial_month, tier_axis, tier_color_map

MART = "marts.mart_tier_distribution_monthly"
PARTIAL = "（本月截至估值日 partial month, to the as-of date）"

snapshot = open_page(
    "星级分布 Tier distribution",
    "Members per tier at each month end (the as-of date for the current month), "
    "from marts.mart_tier_distribution_monthly.",
)
if snapshot is None:
    st.stop()

if snapshot.require(MART, ("month", "snapshot_date", "tier_code", "members"), "星级分布 tier distribution"):
    counts = snapshot.sql(f"select month, snapshot_date, tier_code, members from {MART} order by month, tier_code")
    if counts.empty:
        st.info("星级历史为空 — the tier history has no rows yet.")
        st.stop()
    counts["month"] = pd.to_datetime(counts["month"])
    counts["snapshot_date"] = pd.to_datetime(counts["snapshot_date"])
    month_end = counts["month"] + pd.offsets.MonthEnd(0)
    counts["is_partial"] = counts["snapshot_date"] < month_end
    counts["tier"] = counts["tier_code"].map(queries.tier_label)
    tiers = tier_axis(counts["tier_code"])
    include_family = st.toggle("包含家人 include family", value=True)
    shown = counts if include_family else counts[counts["tier_code"] != "family"]
    as_share = st.toggle("占比 show as share of members", value=False)
    if as_share:
        shown = shown.assign(share=shown["members"] / shown.groupby("month")["members"].transform("sum"))
    figure = px.area(
        shown,
        x="month",
        y="share" if as_share else "members",
        color="tier",
        color_discrete_map=tier_color_map(),
        category_orders={"tier": tiers},
        labels={"month": "月份 month", "members": "会员数 members", "share": "占比 share", "tier": "星级 tier"},
    )
    if as_share:
        figure.update_yaxes(tickformat=".0%")
    partial = counts[counts["is_partial"]]
    if not partial.empty:
        shade_partial_month(figure, partial["month"].max(), partial["snapshot_date"].max())
    figure.update_layout(title="月末各星级会员数 members per tier at month end", hovermode="x unified")
    st.plotly_chart(figure)

    latest = counts[counts["month"] == counts["month"].max()]
    st.caption(
        f"最新 latest: {latest['snapshot_date'].max():%Y-%m-%d} — "
        f"{int(latest['members'].sum()):,} members" + (f" {PARTIAL}" if latest["is_partial"].any() else "")
    )
    table = counts.pivot_table(index="month", columns="tier", values="members", aggfunc="sum", fill_value=0)
    table = table[[tier for tier in tiers if tier in table.columns]]
    partial_months = set(partial["month"])
    table.index = [f"{month:%Y-%m}" + (" *" if month in partial_months else "") for month in table.index]
    table.index.name = "月份 month"
    st.dataframe(table.sort_index(ascending=False), width="stretch")
    if partial_months:
        st.caption(f"* {PARTIAL}")
