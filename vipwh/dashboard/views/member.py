"""会员查询 Member: one holder's tier and 定级保费 today, tier history, the rating slices behind today's rated
premium, the next scheduled change, this year's entitlements and uses with their verdicts.

Served at ``/member?holder_id=<holder_id>``; the search box sets the query parameter.
"""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, show_table, tier_color_map

snapshot = open_page(
    "会员查询 Member",
    "一位投保人的星级、定级保费、星级历史、定级明细、权益与使用 — one holder's "
    "tier, rated premium (定级保费), history, rating slices, entitlements and uses.",
)
if snapshot is None:
    st.stop()
if not snapshot.require("marts.dim_member", ("holder_id", "tier_code", "rated_premium"), "会员 members"):
    st.stop()

holder_id = st.text_input(
    "投保人编号 holder_id", value=st.query_params.get("holder_id", ""), placeholder="H000123"
).strip()
if holder_id != st.query_params.get("holder_id", ""):
    if holder_id:
        st.query_params["holder_id"] = holder_id
    else:
        del st.query_params["holder_id"]
if not holder_id:
    st.caption("输入投保人编号查询 — enter a holder_id, or open /member?holder_id=…")
    st.stop()

literal = "'" + holder_id.replace("'", "''") + "'"
member = snapshot.sql(f"select * from marts.dim_member where holder_id = {literal}")
if member.empty:
    st.warning(f"没有投保人 `{holder_id}` — no such holder in the snapshot.", icon="⚠️")
    st.stop()
member = member.iloc[0]
as_of = snapshot.as_of()
year = as_of.year if as_of else None
in_programme = member["tier_code"] is not None and not pd.isna(member["tier_code"])


def money(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):,.2f}"


def day(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


metrics = st.columns(4)
metrics[0].metric("当前星级 tier", queries.tier_label(member["tier_code"]))
metrics[1].metric("定级保费 rated premium (CNY)", money(member["rated_premium"]) if in_programme else "")
metrics[2].metric("星级起始 tier since", day(member.get("tier_since")) if in_programme else "")
metrics[3].metric("估值日 as of", day(as_of))
details = [
    f"{label}: {member[column]}"
    for column, label in (
        ("gender", "性别 gender"),
        ("age_band", "年龄段 age band"),
        ("province", "省份 province"),
        ("city", "城市 city"),
    )
    if column in member.index and member[column] is not None and not pd.isna(member[column])
]
if details:
    st.caption(" · ".join(details))

st.subheader("星级历史 tier history")
if snapshot.require(
    "marts.fct_member_tier_history", ("holder_id", "valid_from", "valid_to", "tier_code"), "星级历史 tier history"
):
    history = snapshot.sql(f"""select * from marts.fct_member_tier_history where holder_id = {literal}
                               order by valid_from""")
    if history.empty:
        st.caption("从未入会 — never in the programme.")
    else:
        end = pd.Timestamp(as_of) + pd.Timedelta(days=1) if as_of else pd.Timestamp(history["valid_from"].max())
        timeline = history.assign(
            start=pd.to_datetime(history["valid_from"]),
            finish=pd.to_datetime(history["valid_to"]).fillna(end),
            tier=history["tier_code"].map(queries.tier_label),
            holder=holder_id,
        )
        figure = px.timeline(
            timeline,
            x_start="start",
            x_end="finish",
            y="holder",
            color="tier",
            color_discrete_map=tier_color_map(),
            labels={"holder": "", "tier": "星级 tier"},
        )
        figure.update_layout(height=220, title="星级时间线 tier timeline", yaxis={"visible": False})
        st.plotly_chart(figure)
        shown = history.assign(
            tier=history["tier_code"].map(queries.tier_label),
            previous_tier=history["previous_tier_code"].map(
                lambda code: "" if code is None or pd.isna(code) else queries.tier_label(code)
            ),
            reason=history["change_reason"].map(snapshot.reason_label),
        )
        show_table(
            shown[["valid_from", "valid_to", "tier", "rated_premium", "previous_tier", "change_type", "reason"]].rename(
                columns={
                    "valid_from": "起 from",
                    "valid_to": "止 until",
                    "tier": "星级 tier",
                    "rated_premium": "定级保费 rated premium",
                    "previous_tier": "原星级 previous",
                    "change_type": "变动 change",
                    "reason": "原因 reason",
                }
            ),
            dates=("起 from", "止 until"),
            money=("定级保费 rated premium",),
            key="member_history",
        )

st.subheader("定级明细 rating slices counting today")
SLICE_COLUMNS = (
    "holder_id",
    "policy_no",
    "coverage_no",
    "slice_kind",
    "base_amount",
    "coefficient",
    "rated_amount",
    "counts_from",
    "counts_until",
    "excluded_reason",
)
if snapshot.require("marts.fct_policy_rating", SLICE_COLUMNS, "定级明细 rating slices"):
    slices = snapshot.sql(f"""select {", ".join(SLICE_COLUMNS)} from marts.fct_policy_rating
                              where holder_id = {literal} order by policy_no, coverage_no, counts_from""")
    on_day = pd.Timestamp(as_of) if as_of else pd.Timestamp.max
    counts_today = (
        slices["excluded_reason"].isna()
        & (pd.to_datetime(slices["counts_from"]) <= on_day)
        & (slices["counts_until"].isna() | (pd.to_datetime(slices["counts_until"]) > on_day))
    )
    today = slices[counts_today]
    columns = {
        "policy_no": "保单 policy",
        "coverage_no": "险种序号 coverage",
        "slice_kind": "类型 kind",
        "base_amount": "基数 base",
        "coefficient": "系数 coefficient",
        "rated_amount": "定级金额 rated",
        "counts_from": "计入起 counts from",
        "counts_until": "计入止 counts until",
    }
    if today.empty:
        st.caption("今天没有计入的定级明细 — no slice counts today.")
    else:
        shown = today.assign(coefficient=today["coefficient"].map(lambda value: f"{float(value):g}"))
        show_table(
            shown[list(columns)].rename(columns=columns),
            money=("基数 base", "定级金额 rated"),
            dates=("计入起 counts from", "计入止 counts until"),
            key="member_slices",
        )
        st.caption(f"合计 total: {money(today['rated_amount'].astype(float).sum())} CNY = 定级保费 rated premium")
    with st.expander("全部明细 every slice, past and excluded"):
        shown = slices.assign(
            coefficient=slices["coefficient"].map(lambda value: f"{float(value):g}"),
            excluded_reason=slices["excluded_reason"],
        )
        show_table(
            shown[[*columns, "excluded_reason"]].rename(columns={**columns, "excluded_reason": "不计原因 excluded"}),
            money=("基数 base", "定级金额 rated"),
            dates=("计入起 counts from", "计入止 counts until"),
            key="member_all_slices",
        )

st.subheader("下一次变动 next scheduled change")
if snapshot.require(
    "marts.mart_upcoming_tier_changes", ("holder_id", "drop_date", "tier_code_after_drop"), "预计降级 upcoming drops"
):
    upcoming = snapshot.sql(f"select * from marts.mart_upcoming_tier_changes where holder_id = {literal}")
    if upcoming.empty:
        st.caption("没有预定的降级 — no scheduled drop with nothing else changing.")
    else:
        change = upcoming.iloc[0]
        after = change.get("rated_premium_after_drop")
        before = change.get("tier_code_before_drop", member["tier_code"])
        st.markdown(
            f"**{day(change['drop_date'])}**: {queries.tier_label(before)}"
            f" → {queries.tier_label(change['tier_code_after_drop'])}"
            + (f", 定级保费 {money(after)}" if after is not None and not pd.isna(after) else "")
            + (f" — {snapshot.reason_label(change['drop_reason'])}" if "drop_reason" in change.index else "")
        )

st.subheader(f"{year or ''} 年度权益 entitlements this year")
if year and snapshot.require(
    "marts.mart_member_entitlements",
    ("holder_id", "entitlement_year", "service_code", "quota", "consumed", "remaining"),
    "权益 entitlements",
):
    entitlements = snapshot.sql(f"""select service_code, tier_code, quota, consumed, remaining
                                    from marts.mart_member_entitlements
                                    where holder_id = {literal} and entitlement_year = {int(year)}""")
    order = {code: number for number, code in enumerate(snapshot.service_order())}
    entitlements = entitlements.sort_values("service_code", key=lambda codes: codes.map(order))
    if entitlements.empty:
        st.caption("本年无权益 — no entitlement this year.")
    else:
        shown = entitlements.assign(
            service=entitlements["service_code"].map(snapshot.service_label),
            quota=entitlements["quota"].map(lambda value: "不限 unlimited" if pd.isna(value) else f"{float(value):g}"),
            consumed=entitlements["consumed"].map(lambda value: f"{float(value):g}"),
            remaining=entitlements["remaining"].map(lambda value: "" if pd.isna(value) else f"{float(value):g}"),
        )
        show_table(
            shown[["service", "quota", "consumed", "remaining"]].rename(
                columns={
                    "service": "服务 service",
                    "quota": "额度 quota",
                    "consumed": "已用 consumed",
                    "remaining": "剩余 remaining",
                }
            ),
            key="member_entitlements",
        )

st.subheader("使用记录 uses and verdicts")
if snapshot.require(
    "marts.fct_benefit_usage",
    ("holder_id", "usage_id", "service_code", "service_date", "status", "is_compliant", "cost_amount"),
    "使用 uses",
):
    has_reason = "non_compliance_reason" in snapshot.tables["marts.fct_benefit_usage"]
    uses = snapshot.sql(f"""select usage_id, service_date, service_code, status, tier_code_at_service,
                                   consumed_quantity, is_compliant,
                                   {"non_compliance_reason" if has_reason else "null"} as non_compliance_reason,
                                   cost_amount
                            from marts.fct_benefit_usage where holder_id = {literal}
                            order by service_date desc, usage_id""")
    if uses.empty:
        st.caption("没有使用记录 — no use recorded.")
    else:
        shown = uses.assign(
            service=uses["service_code"].map(snapshot.service_label),
            tier=uses["tier_code_at_service"].map(queries.tier_label),
            verdict=[
                ("合规 compliant" if compliant else "违规 non-compliant") if consumed else "未消耗 not consumed"
                for compliant, consumed in zip(uses["is_compliant"], uses["consumed_quantity"] > 0, strict=True)
            ],
            reason=uses["non_compliance_reason"].map(snapshot.reason_label),
        )
        show_table(
            shown[["usage_id", "service_date", "service", "status", "tier", "verdict", "reason", "cost_amount"]].rename(
                columns={
                    "usage_id": "编号 usage",
                    "service_date": "日期 date",
                    "service": "服务 service",
                    "status": "状态 status",
                    "tier": "当时星级 tier",
                    "verdict": "判定 verdict",
                    "reason": "原因 reason",
                    "cost_amount": "成本 cost (CNY)",
                }
            ),
            dates=("日期 date",),
            money=("成本 cost (CNY)",),
            key="member_uses",
        )
