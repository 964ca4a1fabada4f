"""成本与渗漏 Cost & leakage: what benefits cost, per member-year, and what non-compliant uses cost."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import Snapshot, open_page, tier_axis, tier_color_map

ALL_YEARS = "全部 all years"
LEAKAGE_COLUMNS = ("usage_id", "holder_id", "service_code", "service_date", "entitlement_year",
                   "tier_code_at_service", "non_compliance_reason", "cost_amount")
USAGE_COLUMNS = ("usage_id", "holder_id", "service_code", "service_date", "entitlement_year",
                 "tier_code_at_service", "consumed_quantity", "is_compliant", "cost_amount")
REASON_LABELS = {
    "tier_not_entitled": "星级无此权益 tier not entitled",
    "variant_not_eligible": "规格不符 variant not eligible",
    "beneficiary_not_eligible": "使用人不符 beneficiary not eligible",
    "in_waiting_period": "等待期内 in waiting period",
    "over_quota": "超出次数 over quota",
}


def leakage_sql(snapshot: Snapshot) -> str | None:
    """Non-compliant consumed uses: mart_benefit_leakage, else derived from fct_benefit_usage."""
    if snapshot.has("marts.mart_benefit_leakage", LEAKAGE_COLUMNS):
        kind = ("where leakage_kind = 'non_compliant'"
                if "leakage_kind" in snapshot.tables["marts.mart_benefit_leakage"] else "")
        return f"""select usage_id, holder_id, service_code, service_date, entitlement_year,
                          coalesce(tier_code_at_service, 'none') as tier_code,
                          coalesce(non_compliance_reason, 'unknown') as reason, cost_amount
                   from marts.mart_benefit_leakage {kind}"""
    if snapshot.has("marts.fct_benefit_usage", USAGE_COLUMNS):
        reason = ("non_compliance_reason" if "non_compliance_reason" in snapshot.tables["marts.fct_benefit_usage"]
                  else "'non_compliant'")
        return f"""select usage_id, holder_id, service_code, service_date, entitlement_year,
                          coalesce(tier_code_at_service, 'none') as tier_code,
                          coalesce({reason}, 'unknown') as reason, cost_amount
                   from marts.fct_benefit_usage
                   where not is_compliant and consumed_quantity > 0"""
    return None


snapshot = open_page("成本与渗漏 Cost & leakage",
                     "Benefit cost per tier and member-year (marts.mart_benefit_utilization) and the cost of "
                     "non-compliant uses the insurer bore (marts.mart_benefit_leakage).")
if snapshot is None:
    st.stop()

has_utilization = snapshot.require(
    "marts.mart_benefit_utilization", ("entitlement_year", "tier_code", "member_years", "cost_amount"), "成本 cost")
source = leakage_sql(snapshot)
if source is None:
    snapshot.require("marts.mart_benefit_leakage", LEAKAGE_COLUMNS, "渗漏 leakage")
if not has_utilization and source is None:
    st.stop()

cost = (snapshot.sql("""select entitlement_year, tier_code, sum(member_years) as member_years,
                               sum(cost_amount) as cost_amount
                        from marts.mart_benefit_utilization group by all""")
        if has_utilization else pd.DataFrame(columns=["entitlement_year", "tier_code", "member_years", "cost_amount"]))
leakage = snapshot.sql(source) if source else pd.DataFrame(columns=["entitlement_year", "tier_code", "reason",
                                                                     "service_code", "cost_amount"])
years = sorted(set(cost["entitlement_year"]) | set(leakage["entitlement_year"]), reverse=True)
year = st.selectbox("权益年度 entitlement year", [ALL_YEARS, *years], index=1 if years else 0)
year_cost = cost if year == ALL_YEARS else cost[cost["entitlement_year"] == year]
year_leakage = leakage if year == ALL_YEARS else leakage[leakage["entitlement_year"] == year]

total_cost = float(year_cost["cost_amount"].sum())
leaked = float(year_leakage["cost_amount"].fillna(0).sum())
member_years = float(year_cost.loc[year_cost["tier_code"] != "none", "member_years"].sum())
columns = st.columns(4)
columns[0].metric("权益成本 benefit cost (CNY)", f"{total_cost:,.0f}" if has_utilization else "—")
columns[1].metric("违规成本 non-compliant cost (CNY)", f"{leaked:,.0f}" if source else "—")
columns[2].metric("渗漏占比 leakage share", f"{leaked / total_cost:.1%}" if total_cost > 0 and source else "—")
columns[3].metric("每会员人年成本 cost per member-year", f"{total_cost / member_years:,.0f}" if member_years else "—")

if has_utilization and not cost.empty:
    per_year = cost.groupby("entitlement_year", as_index=False)["cost_amount"].sum()
    if source:
        leaked_per_year = leakage.groupby("entitlement_year", as_index=False)["cost_amount"].sum()
        per_year = per_year.merge(leaked_per_year.rename(columns={"cost_amount": "non_compliant"}),
                                  on="entitlement_year", how="left").fillna({"non_compliant": 0})
        per_year["compliant"] = per_year["cost_amount"] - per_year["non_compliant"]
        long = per_year.melt(id_vars="entitlement_year", value_vars=["compliant", "non_compliant"],
                             var_name="kind", value_name="cost")
        long["kind"] = long["kind"].map({"compliant": "合规 compliant", "non_compliant": "违规 non-compliant"})
    else:
        long = per_year.rename(columns={"cost_amount": "cost"}).assign(kind="成本 cost")
    figure = px.bar(long, x="entitlement_year", y="cost", color="kind",
                    color_discrete_map={"合规 compliant": "#1e88e5", "违规 non-compliant": "#c62828"},
                    labels={"entitlement_year": "年度 year", "cost": "成本 CNY", "kind": ""})
    figure.update_xaxes(type="category")
    figure.update_layout(title="年度权益成本 benefit cost per year")

    per_tier = year_cost[year_cost["tier_code"] != "none"].groupby("tier_code", as_index=False)[
        ["cost_amount", "member_years"]].sum()
    per_tier = per_tier[per_tier["member_years"] > 0]
    per_tier["cost_per_member_year"] = per_tier["cost_amount"] / per_tier["member_years"]
    per_tier["tier"] = per_tier["tier_code"].map(queries.tier_label)
    tier_figure = px.bar(per_tier, x="tier", y="cost_per_member_year", color="tier",
                         color_discrete_map=tier_color_map(), text_auto=",.0f",
                         category_orders={"tier": tier_axis(per_tier["tier_code"])},
                         labels={"tier": "星级 tier", "cost_per_member_year": "CNY / member-year"})
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
            uses=("usage_id", "count"), cost=("cost_amount", "sum"))
        by_reason["reason"] = by_reason["reason"].map(lambda code: REASON_LABELS.get(code, code))
        by_service = year_leakage.groupby(["service_code", "tier_code"], as_index=False).agg(
            uses=("usage_id", "count"), cost=("cost_amount", "sum"))
        by_service["service"] = by_service["service_code"].map(snapshot.service_label)
        by_service["tier"] = by_service["tier_code"].map(queries.tier_label)
        left, right = st.columns(2)
        reason_figure = px.bar(by_reason.sort_values("cost"), x="cost", y="reason", orientation="h",
                               text="uses", labels={"cost": "成本 CNY", "reason": "原因 reason"})
        reason_figure.update_layout(title="按原因 by reason (label = uses)")
        left.plotly_chart(reason_figure)
        service_figure = px.bar(by_service, x="cost", y="service", color="tier", orientation="h",
                                color_discrete_map=tier_color_map(),
                                category_orders={"tier": tier_axis(by_service["tier_code"])},
                                labels={"cost": "成本 CNY", "service": "服务 service", "tier": "星级 tier"})
        service_figure.update_layout(title="按服务与星级 by service and tier",
                                     yaxis={"categoryorder": "total ascending"})
        right.plotly_chart(service_figure)

        st.markdown("**成本最高的违规使用 most costly non-compliant uses**")
        top = year_leakage.sort_values("cost_amount", ascending=False).head(200)
        st.dataframe(top.assign(service=top["service_code"].map(snapshot.service_label),
                                tier=top["tier_code"].map(queries.tier_label),
                                reason=top["reason"].map(lambda code: REASON_LABELS.get(code, code)))
                     [["usage_id", "holder_id", "service_date", "service", "tier", "reason", "cost_amount"]],
                     hide_index=True)
