"""权益使用 Utilization: service × tier heatmap for an entitlement year (marts.mart_benefit_utilization)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import mark_partial_month, open_page, show_table, tier_axis, tier_color_map

REQUIRED = queries.UTILIZATION_COLUMNS
METRICS = {
    "utilization_rate": ("利用率 utilization (consumed ÷ entitled units)", ".0%"),
    "uses_per_member_year": ("人年使用次数 uses per member-year", ".2f"),
    "user_share": ("使用会员占比 share of members who used it", ".0%"),
    "uses": ("使用次数 uses", ",.0f"),
    "non_compliant_uses": ("违规使用 non-compliant uses", ",.0f"),
    "cost_amount": ("成本 cost (CNY)", ",.0f"),
}

snapshot = open_page(
    "权益使用 Utilization",
    "Consumed uses per service and tier, exposure-weighted by member-years "
    "(marts.mart_benefit_utilization); quota services show consumed ÷ entitled units.",
)
if snapshot is None:
    st.stop()
if not snapshot.require(queries.UTILIZATION, REQUIRED, "使用率 utilization"):
    st.stop()

utilization = snapshot.sql(
    f"""select {", ".join(REQUIRED)},
               case when member_years > 0 then uses / member_years end as uses_per_member_year,
               case when members > 0 then users / members end as user_share
        from {queries.UTILIZATION}"""
)
if utilization.empty:
    st.info("尚无使用数据 — no utilization rows yet.")
    st.stop()

years = sorted(utilization["entitlement_year"].unique(), reverse=True)
left, middle, right = st.columns([1, 2, 1])
year = left.selectbox("权益年度 entitlement year", years, index=0)
metric = middle.selectbox("指标 metric", list(METRICS), format_func=lambda key: METRICS[key][0])
include_none = right.toggle(
    "含非会员 include 'none'", value=False, help="Uses by holders out of the programme on the service date."
)

year_rows = utilization[utilization["entitlement_year"] == year]
if not include_none:
    year_rows = year_rows[year_rows["tier_code"] != "none"]
year_rows = year_rows.assign(
    service=year_rows["service_code"].map(snapshot.service_label), tier=year_rows["tier_code"].map(queries.tier_label)
)
services = [snapshot.service_label(code) for code in snapshot.service_order()]
services = [label for label in services if label in set(year_rows["service"])]
services += sorted(set(year_rows["service"]) - set(services))
tiers = tier_axis(year_rows["tier_code"])

grid = year_rows.pivot_table(index="service", columns="tier", values=metric, aggfunc="first", dropna=False)
grid = grid.reindex(index=services, columns=tiers).astype(float)
title, number_format = METRICS[metric]
top = grid.max(skipna=True).max(skipna=True)
top = float(top) if pd.notna(top) and top > 0 else 1.0
figure = px.imshow(
    grid,
    aspect="auto",
    color_continuous_scale="YlOrRd",
    text_auto=number_format,
    range_color=[0, max(top, 1.0) if metric in ("utilization_rate", "user_share") else top],
    labels={"x": "星级 tier", "y": "服务 service", "color": title.split(" ")[0]},
)
figure.update_layout(title=f"{year} {title}", height=max(420, 28 * len(services) + 140))
figure.update_xaxes(side="top")
st.plotly_chart(figure)
if metric == "utilization_rate":
    st.caption("空白 blank = unlimited or not entitled at that tier (no entitled units).")

# member-years from the exposure mart (a tier's exposure repeats on each of its service rows here)
exposure = (
    snapshot.sql(f"select tier_code, member_years from {queries.EXPOSURE} where entitlement_year = {int(year)}")
    if snapshot.has(queries.EXPOSURE, queries.EXPOSURE_COLUMNS)
    else None
)
columns = st.columns(4)
columns[0].metric(
    "会员人年 member-years",
    f"{float(exposure['member_years'].astype(float).sum()):,.2f}" if exposure is not None else "—",
)
columns[1].metric("使用次数 uses", f"{int(year_rows['uses'].sum()):,}")
columns[2].metric("违规使用 non-compliant uses", f"{int(year_rows['non_compliant_uses'].sum()):,}")
columns[3].metric("成本 cost (CNY)", f"{float(year_rows['cost_amount'].astype(float).sum()):,.2f}")

st.subheader("月度趋势 monthly trend (current year)")
MONTHLY = "marts.mart_benefit_utilization_monthly"
month_column = next(
    (column for column in ("month_start", "month") if column in snapshot.tables.get(MONTHLY, [])), "month_start"
)
if snapshot.require(MONTHLY, (month_column, "service_code", "tier_code", "uses"), "月度 monthly"):
    monthly = snapshot.sql(
        f"""select {month_column} as month, service_code, tier_code, sum(uses) as uses
            from {MONTHLY}
            where tier_code <> 'none'
            group by all
            order by month"""
    )
    if monthly.empty:
        st.info("本年尚无使用 — no uses in the current year yet.")
    else:
        codes = [code for code in snapshot.service_order() if code in set(monthly["service_code"])]
        codes += sorted(set(monthly["service_code"]) - set(codes))
        chosen = st.multiselect("服务 services", codes, format_func=snapshot.service_label)
        shown = monthly[monthly["service_code"].isin(chosen)] if chosen else monthly
        shown = shown.groupby(["month", "tier_code"], as_index=False)["uses"].sum()
        shown["tier"] = shown["tier_code"].map(queries.tier_label)
        figure = px.bar(
            shown,
            x="month",
            y="uses",
            color="tier",
            color_discrete_map=tier_color_map(),
            category_orders={"tier": tier_axis(shown["tier_code"])},
            labels={"month": "月份 month", "uses": "使用次数 uses", "tier": "星级 tier"},
        )
        mark_partial_month(figure, snapshot.as_of(), "use")
        st.plotly_chart(figure)

with st.expander("明细 rows of the year", expanded=True):
    detail = year_rows.assign(
        tier_rank=year_rows["tier_code"].map(queries.TIER_RANKS).fillna(-1),
        service_rank=year_rows["service"].map({label: number for number, label in enumerate(services)}),
    )
    detail = detail.sort_values(["service_rank", "tier_rank"])

    def percent(value) -> str:
        return "" if value is None or pd.isna(value) else f"{float(value):.1%}"

    def number(value) -> str:
        return "" if value is None or pd.isna(value) else f"{float(value):,.2f}"

    detail = detail.assign(
        utilization_rate=detail["utilization_rate"].map(percent),
        user_share=detail["user_share"].map(percent),
        member_years=detail["member_years"].map(number),
        entitled_units=detail["entitled_units"].map(number),
        consumed_units=detail["consumed_units"].map(number),
        uses_per_member_year=detail["uses_per_member_year"].map(number),
    )
    show_table(
        detail[
            [
                "service",
                "tier",
                "members",
                "member_years",
                "users",
                "uses",
                "consumed_units",
                "entitled_units",
                "utilization_rate",
                "uses_per_member_year",
                "non_compliant_uses",
                "cost_amount",
            ]
        ].rename(
            columns={
                "service": "服务 service",
                "tier": "星级 tier",
                "members": "会员 members",
                "member_years": "会员人年 member-years",
                "users": "使用会员 users",
                "uses": "使用次数 uses",
                "consumed_units": "已用 consumed",
                "entitled_units": "应享 entitled",
                "utilization_rate": "利用率 utilization",
                "uses_per_member_year": "人年使用 uses / member-year",
                "non_compliant_uses": "违规 non-compliant",
                "cost_amount": "成本 cost (CNY)",
            }
        ),
        money=("成本 cost (CNY)",),
        key="utilization_rows",
    )
