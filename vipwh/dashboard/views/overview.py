"""概览 Overview: current members per tier (marts.dim_member) and what the snapshot holds."""

import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, show_table, tier_axis, tier_color_map

snapshot = open_page("概览 Overview", "臻选荟员 VIP membership programme — current members as of the latest build.")
if snapshot is None:
    st.stop()

as_of = snapshot.as_of()
st.caption(f"快照 snapshot: `{snapshot.name}`" + (f" · 估值日 as of {as_of:%Y-%m-%d}" if as_of else ""))

if snapshot.require("marts.dim_member", ("holder_id", "tier_code", "rated_premium"), "会员 members"):
    totals = snapshot.sql(
        """select
               count(*) as holders,
               count(tier_code) as members,
               count(*) filter (where tier_code like 'star%') as star_members,
               coalesce(sum(rated_premium) filter (where tier_code is not null), 0) as rated_premium
           from marts.dim_member"""
    ).iloc[0]
    columns = st.columns(4)
    columns[0].metric("投保人 holders", f"{int(totals['holders']):,}")
    columns[1].metric("会员 members in the programme", f"{int(totals['members']):,}")
    columns[2].metric("星级会员 star members", f"{int(totals['star_members']):,}")
    columns[3].metric("定级保费 rated premium (CNY)", f"{float(totals['rated_premium']):,.2f}")

    per_tier = snapshot.sql(
        """select tier_code, count(*) as members, sum(rated_premium) as rated_premium,
                  avg(rated_premium) as avg_rated_premium
           from marts.dim_member
           where tier_code is not null
           group by tier_code"""
    )
    per_tier = per_tier.assign(tier_rank=per_tier["tier_code"].map(queries.TIER_RANKS)).sort_values("tier_rank")
    if per_tier.empty:
        st.info("当前没有会员 — no holder is in the programme at the as-of date.")
    else:
        per_tier["tier"] = per_tier["tier_code"].map(queries.tier_label)
        figure = px.bar(
            per_tier,
            x="tier",
            y="members",
            color="tier",
            color_discrete_map=tier_color_map(),
            category_orders={"tier": tier_axis(per_tier["tier_code"])},
            labels={"tier": "星级 tier", "members": "会员数 members"},
            text="members",
        )
        figure.update_layout(showlegend=False, title="各星级会员数 members per tier")
        st.plotly_chart(figure)
        show_table(
            per_tier.assign(tier=per_tier["tier_code"].map(queries.tier_label))[
                ["tier", "members", "rated_premium", "avg_rated_premium"]
            ].rename(
                columns={
                    "tier": "星级 tier",
                    "members": "会员数 members",
                    "rated_premium": "定级保费合计 rated premium (CNY)",
                    "avg_rated_premium": "平均定级保费 average (CNY)",
                }
            ),
            money=("定级保费合计 rated premium (CNY)", "平均定级保费 average (CNY)"),
            key="members_per_tier",
        )

        breakdowns = [
            column for column in ("age_band", "province", "gender") if column in snapshot.tables["marts.dim_member"]
        ]
        if breakdowns:
            by = st.segmented_control("细分 breakdown", breakdowns, default=breakdowns[0])
            if by:
                split = snapshot.sql(
                    f"""select coalesce(cast({by} as varchar), '—') as {by}, tier_code, count(*) as members
                        from marts.dim_member
                        where tier_code is not null
                        group by all"""
                )
                split["tier"] = split["tier_code"].map(queries.tier_label)
                values = sorted(set(split[by]), key=lambda value: (value == "—", queries.band_sort_key(value)))
                figure = px.bar(
                    split,
                    x=by,
                    y="members",
                    color="tier",
                    color_discrete_map=tier_color_map(),
                    category_orders={"tier": tier_axis(split["tier_code"]), by: values},
                    labels={"members": "会员数 members", "tier": "星级 tier"},
                )
                st.plotly_chart(figure)

with st.expander("快照内容 tables in this snapshot"):
    st.dataframe(
        [{"table": name, "columns": len(columns)} for name, columns in sorted(snapshot.tables.items())],
        hide_index=True,
    )
