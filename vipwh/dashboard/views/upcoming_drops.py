"""即将降级 Upcoming drops: members whose tier is scheduled to fall next (marts.mart_upcoming_tier_changes)."""

from datetime import timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, tier_axis, tier_color_map

REQUIRED = ("holder_id", "drop_date", "tier_code_before_drop", "tier_code_after_drop")
HORIZONS = {"30 天 days": 30, "90 天 days": 90, "180 天 days": 180, "1 年 year": 365, "全部 all": None}

snapshot = open_page("即将降级 Upcoming drops",
                     "The next scheduled tier drop of each member if nothing else changes (a payment period, "
                     "single-premium window, one-year term or coverage ends), from marts.mart_upcoming_tier_changes.")
if snapshot is None:
    st.stop()
if not snapshot.require("marts.mart_upcoming_tier_changes", REQUIRED, "预计降级 upcoming drops"):
    st.stop()

columns = snapshot.tables["marts.mart_upcoming_tier_changes"]
optional = [column for column in ("rated_premium", "rated_premium_after_drop", "drop_reason") if column in columns]
drops = snapshot.sql(f"select {', '.join((*REQUIRED, *optional))} from marts.mart_upcoming_tier_changes "
                     "order by drop_date, holder_id")
if drops.empty:
    st.info("没有预计的降级 — no scheduled tier drop.")
    st.stop()

as_of = snapshot.as_of()
as_of = pd.Timestamp(as_of) if as_of else drops["drop_date"].min() - timedelta(days=1)

horizon_label = st.segmented_control("时间范围 horizon", list(HORIZONS), default="90 天 days") or "全部 all"
horizon = HORIZONS[horizon_label]
window = drops if horizon is None else drops[drops["drop_date"] <= as_of + timedelta(days=horizon)]

metrics = st.columns(4)
for column, days in zip(metrics[:3], (30, 90, 365), strict=True):
    column.metric(f"{days} 天内降级 drops within {days} days",
                  f"{int((drops['drop_date'] <= as_of + timedelta(days=days)).sum()):,}")
metrics[3].metric("其中退出 of which leave the programme",
                  f"{int((window['tier_code_after_drop'] == 'none').sum()):,}")
st.caption(f"自 from {as_of:%Y-%m-%d} (as-of date)")

if window.empty:
    st.info("所选范围内没有降级 — no drops within the horizon.")
    st.stop()

by_month = window.assign(month=window["drop_date"].dt.to_period("M").dt.to_timestamp())
by_month = by_month.groupby(["month", "tier_code_before_drop"], as_index=False)["holder_id"].count()
by_month["tier"] = by_month["tier_code_before_drop"].map(queries.tier_label)
figure = px.bar(by_month, x="month", y="holder_id", color="tier", color_discrete_map=tier_color_map(),
                category_orders={"tier": tier_axis(by_month["tier_code_before_drop"])},
                labels={"month": "降级月份 month of drop", "holder_id": "会员数 members", "tier": "当前星级 tier now"})
figure.update_layout(title="每月预计降级 scheduled drops per month")
st.plotly_chart(figure)

left, right = st.columns(2)
matrix = window.assign(before=window["tier_code_before_drop"].map(queries.tier_label),
                       after=window["tier_code_after_drop"].map(queries.tier_label))
left.markdown("**从 → 到 from → to**")
left.dataframe(matrix.pivot_table(index="before", columns="after", values="holder_id", aggfunc="count",
                                  fill_value=0))
if "drop_reason" in window.columns:
    reasons = window.assign(reason=window["drop_reason"].fillna("unknown").str.split("; ")).explode("reason")
    right.markdown("**原因 reasons**")
    right.dataframe(reasons.groupby("reason", as_index=False)["holder_id"].count()
                    .rename(columns={"holder_id": "members"}).sort_values("members", ascending=False),
                    hide_index=True)

st.markdown("**名单 members (earliest first)**")
listing = window.head(500).assign(tier_before=lambda frame: frame["tier_code_before_drop"].map(queries.tier_label),
                                  tier_after=lambda frame: frame["tier_code_after_drop"].map(queries.tier_label))
st.dataframe(listing[["holder_id", "drop_date", "tier_before", "tier_after", *optional]], hide_index=True)
