"""星级分布 Tier distribution over time: members per tier at each month end, from the tier-history intervals."""

import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, tier_axis, tier_color_map

snapshot = open_page("星级分布 Tier distribution",
                     "Members per tier at each month end (the as-of date for the current month), "
                     "counted from marts.fct_member_tier_history intervals.")
if snapshot is None:
    st.stop()

if snapshot.require("marts.fct_member_tier_history", ("holder_id", "tier_code", "valid_from", "valid_to"),
                    "星级历史 tier history"):
    counts = snapshot.sql(queries.tier_month_end_sql(snapshot.as_of()))
    if counts.empty:
        st.info("星级历史为空 — the tier history has no rows yet.")
        st.stop()
    counts["tier"] = counts["tier_code"].map(queries.tier_label)
    tiers = tier_axis(counts["tier_code"])
    include_family = st.toggle("包含家人 include family", value=True)
    shown = counts if include_family else counts[counts["tier_code"] != "family"]
    as_share = st.toggle("占比 show as share of members", value=False)
    if as_share:
        shown = shown.assign(share=shown["members"] / shown.groupby("month")["members"].transform("sum"))
    figure = px.area(shown, x="month", y="share" if as_share else "members", color="tier",
                     color_discrete_map=tier_color_map(), category_orders={"tier": tiers},
                     labels={"month": "月份 month", "members": "会员数 members", "share": "占比 share",
                             "tier": "星级 tier"})
    if as_share:
        figure.update_yaxes(tickformat=".0%")
    figure.update_layout(title="月末各星级会员数 members per tier at month end", hovermode="x unified")
    st.plotly_chart(figure)

    latest = counts[counts["month"] == counts["month"].max()]
    st.caption(f"最新 latest: {latest['snapshot_date'].max():%Y-%m-%d} — "
               f"{int(latest['members'].sum()):,} members")
    table = counts.pivot_table(index="month", columns="tier", values="members", aggfunc="sum", fill_value=0)
    table = table[[tier for tier in tiers if tier in table.columns]]
    table.index = table.index.strftime("%Y-%m")
    st.dataframe(table.sort_index(ascending=False), width="stretch")
