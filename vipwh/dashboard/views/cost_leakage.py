"""成本与渗漏 Cost & leakage: what benefits cost, per member-year, and what non-compliant uses cost."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import Snapshot, open_page, show_table, tier_axis, tier_color_map

ALL_YEARS = "全部 all years"
LEAKAGE_COLUMNS = (
    "usage_id",
    "holder_id",
    "service_code",
    "service_date",
    "entitlement_year",
    "tier_code_at_service",
    "non_compliance_reason",
    "cost_amount",
)
USAGE_COLUMNS = (
    "usage_id",
    "holder_id",
    "service_code",
    "service_date",
    "entitlement_year",
    "tier_code_at_service",
    "consumed_quantity",
    "is_compliant",
    "cost_amount",
)
REASON_LABELS = {
    "tier_not_entitled": "星级无此权益 tier not entitled",
    "variant_not_eligible": "规格不符 variant not eligible",
    "beneficiary_not_eligible": "使用人不符 beneficiary not eligible",
    "in_waiting_period": "等待期内 in waiting period",
    "over_quota": "超出次数 over quota",
}


def reason_label(code: str) -> str:
    """The reason's label from the rules.reason_labels seed, else the built-in one."""
    label = snapshot.reason_label(code)
    return REASON_LABELS.get(code, code) if label == code else label


def leakage_sql(snapshot: Snapshot) -> str | None:
    """Non-compliant consumed uses: mart_benefit_leakage, else derived from fct_benefit_usage."""
    if snapshot.has("marts.mart_benefit_leakage", LEAKAGE_COLUMNS):
        kind = (
            "where leakage_kind = 'non_compliant'"
            if "leakage_kind" in snapshot.tables["marts.mart_benefit_leakage"]
            else ""
        )
        return f"""select usage_id, holder_id, service_code, service_date, entitlement_year,
                          coalesce(tier_code_at_service, 'none') as tier_code,
                          coalesce(non_compliance_reason, 'unknown') as reason, cost_amount
                   from marts.mart_benefit_leakage {kind}"""
    if snapshot.has("marts.fct_benefit_usage", USAGE_COLUMNS):
        reason = (
            "non_compliance_reason"
            if "non_compliance_reason" in snapshot.tables["marts.fct_benefit_usage"]
            else "'non_compliant'"
        )
        return f"""select usage_id, holder_id, service_code, service_date, entitlement_year,
                          coalesce(tier_code_at_service, 'none') as tier_code,
                          coalesce({reason}, 'unknown') as reason, cost_amount
                   from marts.fct_benefit_usage
                   where not is_compliant and consumed_quantity > 0"""
    return None


snapshot = open_page(
    "成本与渗漏 Cost & leakage",
    "Benefit cost per member-year: the cost of uses at each tier (marts.mart_benefit_utilization) ÷ "
    "the tier's member-years (marts.mart_member_exposure); and the cost of non-compliant uses "
    "the insurer bore (marts.mart_benefit_leakage).",
)
if snapshot is None:
    st.stop()

has_utilization = snapshot.require(
    "marts.mart_benefit_utilization", ("entitlement_year", "tier_code", "cost_amount"), "成本 cost"
) and snapshot.require(queries.EXPOSURE, queries.EXPOSURE_COLUMNS, "会员人年 member-years")
source = leakage_sql(snapshot)
if source is None:
    snapshot.require("marts.mart_benefit_leakage", LEAKAGE_COLUMNS, "渗漏 leakage")
if not has_utilization and source is None:
    st.stop()

cost = (
    snapshot.sql(queries.cost_per_member_year_sql())
    if has_utilization
    else pd.DataFrame(
        columns=[
            "entitlement_year",
            "tier_code",
            "tier_rank",
            "member_years",
            "members",
            "cost_amount",
            "cost_per_member_year",
        ]
    )
)
leakage = (
    snapshot.sql(source)
    if source
    else pd.DataFrame(columns=["entitlement_year", "tier_code", "reason", "service_code", "cost_amount"])
)
years = sorted({int(value) for value in (*cost["entitlement_year"], *leakage["entitlement_year"])}, reverse=True)
year = st.selectbox("权益年度 entitlement year", [ALL_YEARS, *years], index=1 if years else 0, format_func=str)
year_cost = cost if year == ALL_YEARS else cost[cost["entitlement_year"] == year]
year_leakage = leakage if year == ALL_YEARS else leakage[leakage["entitlement_year"] == year]

total_cost = float(year_cost["cost_amount"].astype(float).sum())
all_cost = (
    snapshot.sql(queries.benefit_cost_per_year_sql())
    if has_utilization
    else pd.DataFrame(columns=["entitlement_year", "cost_amount"])
)
all_cost = float(
    (all_cost if year == ALL_YEARS else all_cost[all_cost["entitlement_year"] == year])["cost_amount"]
    .astype(float)
    .sum()
)
leaked = float(year_leakage["cost_amount"].astype(float).fillna(0).sum())
overall = queries.overall_cost_per_member_year(year_cost) if has_utilization else None
columns = st.columns(4)
columns[0].metric("会员权益成本 benefit cost of members (CNY)", f"{total_cost:,.2f}" if has_utilization else "—")
columns[1].metric("违规成本 non-compliant cost (CNY)", f"{leaked:,.2f}" if source else "—")
columns[2].metric("渗漏占比 leakage share", f"{leaked / all_cost:.1%}" if all_cost > 0 and source else "—")
columns[3].metric("每会员人年成本 cost per member-year (CNY)", f"{overall:,.2f}" if overall is not None else "—")

if has_utilization and not year_cost.empty:
    per_tier = (
        year_cost.groupby(["tier_code", "tier_rank"], as_index=False)[["cost_amount", "member_years", "members"]]
        .sum(numeric_only=False)
        .sort_values("tier_rank")
    )
    per_tier["cost_per_member_year"] = [
        float(cost_amount) / float(member_years) if float(member_years) > 0 else None
        for cost_amount, member_years in zip(per_tier["cost_amount"], per_tier["member_years"], strict=True)
    ]
    per_tier["tier"] = per_tier["tier_code"].map(queries.tier_label)
    st.markdown("**各星级每会员人年成本 cost per member-year by tier**")
    show_table(
        per_tier.assign(member_years=per_tier["member_years"].map(lambda value: f"{float(value):,.2f}"))[
            ["tier", "members", "member_years", "cost_amount", "cost_per_member_year"]
        ].rename(
            columns={
                "tier": "星级 tier",
                "members": "会员 members",
                "member_years": "会员人年 member-years",
                "cost_amount": "成本 cost (CNY)",
                "cost_per_member_year": "每人年成本 CNY / member-year",
            }
        ),
        money=("成本 cost (CNY)", "每人年成本 CNY / member-year"),
        key="cost_per_tier",
    )

if has_utilization and not cost.empty:
    per_year = snapshot.sql(queries.benefit_cost_per_year_sql())
    per_year["cost_amount"] = per_year["cost_amount"].astype(float)
    if source:
        leaked_per_year = leakage.groupby("entitlement_year", as_index=False)["cost_amount"].sum()
        leaked_per_year["cost_amount"] = leaked_per_year["cost_amount"].astype(float)
        per_year = per_year.merge(
            leaked_per_year.rename(columns={"cost_amount": "non_compliant"}), on="entitlement_year", how="left"
        ).fillna({"non_compliant": 0})
        per_year["compliant"] = per_year["cost_amount"] - per_year["non_compliant"]
        long = per_year.melt(
            id_vars="entitlement_year", value_vars=["compliant", "non_compliant"], var_name="kind", value_name="cost"
        )
        long["kind"] = long["kind"].map({"compliant": "合规 compliant", "non_compliant": "违规 non-compliant"})
    else:
        long = per_year.rename(columns={"cost_amount": "cost"}).assign(kind="成本 cost")
    figure = px.bar(
        long,
        x="entitlement_year",
        y="cost",
        color="kind",
        color_discrete_map={"合规 compliant": "#1e88e5", "违规 non-compliant": "#c62828"},
        labels={"entitlement_year": "年度 year", "cost": "成本 CNY", "kind": ""},
    )
    figure.update_xaxes(type="category")
    figure.update_layout(title="年度权益成本 benefit cost per year")

    per_tier = per_tier[per_tier["member_years"].astype(float) > 0].astype({"cost_per_member_year": float})
    tier_figure = px.bar(
        per_tier,
        x="tier",
        y="cost_per_member_year",
        color="tier",
        color_discrete_map=tier_color_map(),
        text_auto=",.2f",
        category_orders={"tier": tier_axis(per_tier["tier_code"])},
        labels={"tier": "星级 tier", "cost_per_member_year": "CNY / member-year"},
    )
    tier_figure.update_layout(title="每会员人年成本 cost per member-year", showlegend=False)
    left, right = st.columns(2)
    left.plotly_chart(figure)
    right.plotly_chart(tier_figure)

if source:
    st.subheader("违规使用 non-compliant uses")
    if year_leakage.empty:
        st.success("没有违规使用 — no non-compliant use in the selected period.")
    else:
        by_reason = year_leakage.groupby("reason", as_index=False).agg(
            uses=("usage_id", "count"), cost=("cost_amount", "sum")
        )
        by_reason["reason"] = by_reason["reason"].map(reason_label)
        by_service = year_leakage.groupby(["service_code", "tier_code"], as_index=False).agg(
            uses=("usage_id", "count"), cost=("cost_amount", "sum")
        )
        by_service["service"] = by_service["service_code"].map(snapshot.service_label)
        by_service["tier"] = by_service["tier_code"].map(queries.tier_label)
        left, right = st.columns(2)
        reason_figure = px.bar(
            by_reason.sort_values("cost"),
            x="cost",
            y="reason",
            orientation="h",
            text="uses",
            labels={"cost": "成本 CNY", "reason": "原因 reason"},
        )
        reason_figure.update_layout(title="按原因 by reason (label = uses)")
        left.plotly_chart(reason_figure)
        service_figure = px.bar(
            by_service,
            x="cost",
            y="service",
            color="tier",
            orientation="h",
            color_discrete_map=tier_color_map(),
            category_orders={"tier": tier_axis(by_service["tier_code"])},
            labels={"cost": "成本 CNY", "service": "服务 service", "tier": "星级 tier"},
        )
        service_figure.update_layout(
            title="按服务与星级 by service and tier", yaxis={"categoryorder": "total ascending"}
        )
        right.plotly_chart(service_figure)

        st.markdown("**成本最高的违规使用 most costly non-compliant uses**")
        top = year_leakage.sort_values("cost_amount", ascending=False).head(200)
        show_table(
            top.assign(
                service=top["service_code"].map(snapshot.service_label),
                tier=top["tier_code"].map(queries.tier_label),
                reason=top["reason"].map(reason_label),
            )[["usage_id", "holder_id", "service_date", "service", "tier", "reason", "cost_amount"]],
            dates=("service_date",),
            money=("cost_amount",),
            key="costly_uses",
        )
