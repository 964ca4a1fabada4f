"""即将降级 Upcoming drops: members whose tier is scheduled to fall next (marts.mart_upcoming_tier_changes)."""

from datetime import timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, show_table, tier_axis, tier_color_map, tier_matrix

REQUIRED = ("holder_id", "drop_date", "tier_code_before_drop", "tier_code_after_drop")
HORIZONS = {"30 天 days": 30, "90 天 days": 90, "180 天 days": 180, "1 年 year": 365, "全部 all": None}

snapshot = open_page(
    "即将降级 Upcoming drops",
    "The next scheduled tier drop of each member if nothing else changes (a payment period, "
    "single-premium window, one-year term or coverage ends), from marts.mart_upcoming_tier_changes.",
)
if snapshot is None:
    st.stop()
if not snapshot.require("marts.mart_upcoming_tier_changes", REQUIRED, "预计降级 upcoming drops"):
    st.stop()

columns = snapshot.tables["marts.mart_upcoming_tier_changes"]
optional = [column for column in ("rated_premium", "rated_premium_after_drop", "drop_reason") if column in columns]
drops = snapshot.sql(
    f"select {', '.join((*REQUIRED, *optional))} from marts.mart_upcoming_tier_changes order by drop_date, holder_id"
)
drops["drop_date"] = pd.to_datetime(drops["drop_date"])
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
    column.metric(
        f"{days} 天内降级 drops within {days} days",
        f"{int((drops['drop_date'] <= as_of + timedelta(days=days)).sum()):,}",
    )
metrics[3].metric("其中退出 of which leave the programme", f"{int((window['tier_code_after_drop'] == 'none').sum()):,}")
st.caption(f"自 from {as_of:%Y-%m-%d} (估值日 as-of date)")

if window.empty:
    st.info("所选范围内没有降级 — no drops within the horizon.")
    st.stop()

by_month = window.assign(month=window["drop_date"].dt.to_period("M").dt.to_timestamp())
by_month = by_month.groupby(["month", "tier_code_before_drop"], as_index=False)["holder_id"].count()
by_month["tier"] = by_month["tier_code_before_drop"].map(queries.tier_label)
figure = px.bar(
    by_month,
    x="month",
    y="holder_id",
    color="tier",
    color_discrete_map=tier_color_map(),
    category_orders={"tier": tier_axis(by_month["tier_code_before_drop"])},
    labels={"month": "降级月份 month of drop", "holder_id": "会员数 members", "tier": "当前星级 tier now"},
)
figure.update_layout(title="每月预计降级 scheduled drops per month")
st.plotly_chart(figure)

left, right = st.columns(2)
left.markdown("**从 → 到 from → to**")
left.dataframe(tier_matrix(window.assign(members=1), "tier_code_before_drop", "tier_code_after_drop"))
if "drop_reason" in window.columns:
    reasons = window.assign(reason=window["drop_reason"].fillna("unknown").str.split("; ")).explode("reason")
    reasons = (
        reasons.groupby("reason", as_index=False)["holder_id"]
        .count()
        .rename(columns={"holder_id": "members"})
        .sort_values("members", ascending=False)
    )
    right.markdown("**原因 reasons**")
    show_table(
        reasons.assign(reason=reasons["reason"].map(snapshot.reason_label)).rename(
            columns={"reason": "原因 reason", "members": "会员数 members"}
        ),
        key="drop_reasons",
    )

# star members at risk first (highest tier first, then earliest drop); family members leaving apart
window = window.assign(tier_rank=window["tier_code_before_drop"].map(queries.TIER_RANKS).fillna(-1))
stars = window[window["tier_code_before_drop"] != "family"].sort_values(
    ["tier_rank", "drop_date", "holder_id"], ascending=[False, True, True]
)
family = window[window["tier_code_before_drop"] == "family"].sort_values(["drop_date", "holder_id"])
listed = [column for column in ("rated_premium", "rated_premium_after_drop", "drop_reason") if column in optional]
names = {
    "holder_id": "投保人 holder",
    "drop_date": "降级日 drop date",
    "tier_before": "当前星级 tier now",
    "tier_after": "降级后 tier after",
    "rated_premium": "定级保费 rated premium",
    "rated_premium_after_drop": "降级后定级保费 after",
    "drop_reason": "原因 reason",
}


def listing(frame: pd.DataFrame, key: str) -> None:
    shown = frame.head(500).assign(
        tier_before=frame["tier_code_before_drop"].map(queries.tier_label),
        tier_after=frame["tier_code_after_drop"].map(queries.tier_label),
    )
    if "drop_reason" in shown:
        shown["drop_reason"] = shown["drop_reason"].map(snapshot.reason_label)
    show_table(
        shown[["holder_id", "drop_date", "tier_before", "tier_after", *listed]].rename(columns=names),
        dates=(names["drop_date"],),
        money=(names["rated_premium"], names["rated_premium_after_drop"]),
        key=key,
    )


st.markdown(f"**星级会员 star members at risk ({len(stars):,}; highest tier first)**")
if stars.empty:
    st.caption("所选范围内没有星级会员降级 — no star member drops within the horizon.")
else:
    listing(stars, "drops_star_members")
st.markdown(f"**家人会员 family members ({len(family):,}; leaving the programme or other)**")
if family.empty:
    st.caption("所选范围内没有家人会员变动 — none within the horizon.")
else:
    listing(family, "drops_family_members")
