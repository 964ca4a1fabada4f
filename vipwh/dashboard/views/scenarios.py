"""方案对比 Scenarios: benefit-redesign proposals side by side (schema scenarios, written by `vipwh scenario run`)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import open_page, show_table, tier_axis

RUN_COLUMNS = ("scenario_id", "description", "as_of_date", "baseline_rulebook_id", "reference_year")
DISTRIBUTION_COLUMNS = (
    "scenario_id",
    "tier_code",
    "tier_rank",
    "baseline_members",
    "proposal_members",
    "baseline_rated_premium",
    "proposal_rated_premium",
)
COST_COLUMNS = (
    "scenario_id",
    "service_code",
    "tier_code",
    "baseline_projected_cost",
    "proposal_projected_cost",
    "delta_projected_cost",
    "baseline_projected_uses",
    "proposal_projected_uses",
)
MIGRATION_COLUMNS = ("scenario_id", "from_tier_code", "to_tier_code", "members")
CHANGE_COLUMNS = (
    "scenario_id",
    "holder_id",
    "baseline_tier_code",
    "proposal_tier_code",
    "baseline_rated_premium",
    "proposal_rated_premium",
)
BASELINE = "基线 baseline"


def quoted(values: list[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


snapshot = open_page(
    "方案对比 Scenarios",
    "What a proposal (thresholds, coefficients, entitlements, unit costs) would do to the tiers and "
    "the benefit cost, beside today's rulebook: `vipwh scenario run FILE` writes schema scenarios.",
)
if snapshot is None:
    st.stop()
SCENARIO_HINT = "`vipwh scenario run data/scenarios/<proposal>.yaml --warehouse FILE` (it publishes the results)"
if not all(
    [
        snapshot.require("scenarios.scenario_runs", RUN_COLUMNS, "方案 scenarios", hint=SCENARIO_HINT),
        snapshot.require(
            "scenarios.scenario_tier_distribution", DISTRIBUTION_COLUMNS, "星级 tiers", hint=SCENARIO_HINT
        ),
        snapshot.require("scenarios.scenario_benefit_cost", COST_COLUMNS, "成本 cost", hint=SCENARIO_HINT),
    ]
):
    st.stop()

runs = snapshot.sql("select * from scenarios.scenario_runs order by scenario_id")
if runs.empty:
    st.info("尚无方案 — no scenario has been run yet: `vipwh scenario run data/scenarios/<proposal>.yaml`.")
    st.stop()
descriptions = dict(zip(runs["scenario_id"], runs["description"].fillna(""), strict=True))
chosen = st.multiselect(
    "方案 scenarios",
    list(runs["scenario_id"]),
    default=list(runs["scenario_id"])[:4],
    format_func=lambda scenario_id: (
        f"{scenario_id} — {descriptions[scenario_id]}" if descriptions.get(scenario_id) else scenario_id
    ),
)
if not chosen:
    st.info("请选择方案 — pick at least one scenario.")
    st.stop()
picked = quoted(chosen)
runs = runs[runs["scenario_id"].isin(chosen)]
distribution = snapshot.sql(
    f"select * from scenarios.scenario_tier_distribution where scenario_id in ({picked}) order by tier_rank"
)
cost = snapshot.sql(f"select * from scenarios.scenario_benefit_cost where scenario_id in ({picked})")
labels = dict(zip(runs["scenario_id"], runs["description"].fillna(""), strict=True))
baselines = runs[["as_of_date", "baseline_rulebook_id"]].drop_duplicates()
if len(baselines) > 1:
    st.warning(
        "所选方案的基线不同 — the scenarios chosen were run on different as-of dates or baselines; each is "
        "compared with its own baseline.",
        icon="⚠️",
    )

# headline: the baseline (when the scenarios share it), then one column per scenario with its delta
headline = {}
if len(baselines) == 1:
    tiers = distribution[distribution["scenario_id"] == chosen[0]]
    column = {
        f"{queries.tier_label(row.tier_code)} 会员 members": f"{row.baseline_members:,}" for row in tiers.itertuples()
    }
    column["定级保费 rated premium (CNY)"] = f"{float(tiers['baseline_rated_premium'].sum()):,.0f}"
    cells = cost[cost["scenario_id"] == chosen[0]]
    column["预计权益成本 projected cost (CNY/yr)"] = f"{float(cells['baseline_projected_cost'].sum()):,.0f}"
    headline[BASELINE] = column
for scenario_id in chosen:
    tiers = distribution[distribution["scenario_id"] == scenario_id]
    cells = cost[cost["scenario_id"] == scenario_id]
    column = {
        f"{queries.tier_label(row.tier_code)} 会员 members": f"{row.proposal_members:,} "
        f"({row.proposal_members - row.baseline_members:+,})"
        for row in tiers.itertuples()
    }
    premium = float(tiers["proposal_rated_premium"].sum())
    premium_delta = premium - float(tiers["baseline_rated_premium"].sum())
    column["定级保费 rated premium (CNY)"] = f"{premium:,.0f} ({premium_delta:+,.0f})"
    projected = float(cells["proposal_projected_cost"].sum())
    column["预计权益成本 projected cost (CNY/yr)"] = (
        f"{projected:,.0f} ({float(cells['delta_projected_cost'].sum()):+,.0f})"
    )
    headline[scenario_id] = column
st.subheader("概要 headline (proposal, Δ vs baseline)")
st.dataframe(pd.DataFrame(headline))

columns = st.columns(len(chosen))
for column, scenario_id in zip(columns, chosen, strict=True):
    cells = cost[cost["scenario_id"] == scenario_id]
    delta = float(cells["delta_projected_cost"].sum())
    column.metric(
        f"{scenario_id}",
        f"{float(cells['proposal_projected_cost'].sum()):,.0f}",
        f"{delta:+,.0f} CNY/yr",
        delta_color="inverse",
        help=labels.get(scenario_id) or None,
    )

# members per tier: the (first) baseline and each proposal
first = chosen[0]
bars = (
    distribution[distribution["scenario_id"] == first][["tier_code", "baseline_members"]]
    .rename(columns={"baseline_members": "members"})
    .assign(rulebook=BASELINE)
)
bars = pd.concat(
    [
        bars,
        *[
            distribution[distribution["scenario_id"] == scenario_id][["tier_code", "proposal_members"]]
            .rename(columns={"proposal_members": "members"})
            .assign(rulebook=scenario_id)
            for scenario_id in chosen
        ],
    ]
)
bars["tier"] = bars["tier_code"].map(queries.tier_label)
figure = px.bar(
    bars,
    x="tier",
    y="members",
    color="rulebook",
    barmode="group",
    category_orders={"tier": tier_axis(bars["tier_code"])},
    labels={"tier": "星级 tier", "members": "会员数 members", "rulebook": "规则 rulebook"},
)
figure.update_layout(title="各星级会员数 members per tier")
st.plotly_chart(figure)

# projected cost delta per service
service_names = {}
if snapshot.has("scenarios.scenario_services", ("service_code", "name_zh")):
    service_names = dict(
        snapshot.sql("select distinct service_code, name_zh from scenarios.scenario_services").itertuples(
            index=False, name=None
        )
    )
per_service = cost.groupby(["scenario_id", "service_code"], as_index=False)["delta_projected_cost"].sum()
per_service = per_service[per_service["delta_projected_cost"] != 0]
if per_service.empty:
    st.info("预计权益成本不变 — the projected benefit cost does not change in the scenarios chosen.")
else:
    per_service["service"] = [
        service_names[code] + " " + code if code in service_names else snapshot.service_label(code)
        for code in per_service["service_code"]
    ]
    figure = px.bar(
        per_service,
        x="service",
        y="delta_projected_cost",
        color="scenario_id",
        barmode="group",
        labels={"service": "服务 service", "delta_projected_cost": "Δ 预计成本 CNY/yr", "scenario_id": "方案 scenario"},
    )
    figure.update_layout(title="预计权益成本变化 projected cost change per service")
    st.plotly_chart(figure)

# one scenario in detail
scenario_id = st.selectbox("明细 details of", chosen)
run = runs[runs["scenario_id"] == scenario_id].iloc[0]
st.caption(
    f"as of {pd.Timestamp(run['as_of_date']):%Y-%m-%d} · baseline {run['baseline_rulebook_id']} · "
    f"benefit rates from {run['reference_year']}" + (f" · {run['description']}" if run["description"] else "")
)
if snapshot.has("scenarios.scenario_tier_migration", MIGRATION_COLUMNS):
    migration = snapshot.sql(
        f"select from_tier_code, to_tier_code, members from scenarios.scenario_tier_migration "
        f"where scenario_id = {quoted([scenario_id])}"
    )
    migration["from_tier"] = migration["from_tier_code"].map(queries.tier_label)
    migration["to_tier"] = migration["to_tier_code"].map(queries.tier_label)
    matrix = migration.pivot_table(index="from_tier", columns="to_tier", values="members", aggfunc="sum", fill_value=0)
    order = tier_axis(pd.concat([migration["from_tier_code"], migration["to_tier_code"]]))
    matrix = matrix.reindex(
        index=[t for t in order if t in matrix.index], columns=[t for t in order if t in matrix.columns]
    )
    figure = px.imshow(
        matrix,
        text_auto=True,
        color_continuous_scale="Blues",
        labels={"x": "方案星级 proposal tier", "y": "基线星级 baseline tier", "color": "members"},
    )
    figure.update_layout(title=f"星级迁移 baseline → {scenario_id}")
    st.plotly_chart(figure)
if snapshot.has("scenarios.scenario_member_changes", CHANGE_COLUMNS):
    changes = snapshot.sql(f"""select holder_id, baseline_tier_code, proposal_tier_code, baseline_rated_premium,
                                      proposal_rated_premium
                               from scenarios.scenario_member_changes where scenario_id = {quoted([scenario_id])}
                               order by abs(proposal_rated_premium - baseline_rated_premium) desc, holder_id
                               limit 500""")
    with st.expander(f"星级变化的会员 members changing tier (first {len(changes):,})"):
        show_table(
            changes.assign(
                baseline_tier_code=changes["baseline_tier_code"].map(queries.tier_label),
                proposal_tier_code=changes["proposal_tier_code"].map(queries.tier_label),
            ).rename(
                columns={
                    "holder_id": "投保人 holder",
                    "baseline_tier_code": "基线星级 baseline tier",
                    "proposal_tier_code": "方案星级 proposal tier",
                    "baseline_rated_premium": "基线定级保费 baseline rated premium",
                    "proposal_rated_premium": "方案定级保费 proposal rated premium",
                }
            ),
            money=("基线定级保费 baseline rated premium", "方案定级保费 proposal rated premium"),
            key="scenario_changes",
        )
with st.expander("预计权益成本明细 projected cost per service × tier"):
    detail = cost[cost["scenario_id"] == scenario_id].drop(columns=["scenario_id"])
    detail = detail.assign(
        tier_rank=detail["tier_code"].map(queries.TIER_RANKS).fillna(-1),
        service=detail["service_code"].map(snapshot.service_label),
        tier=detail["tier_code"].map(queries.tier_label),
    ).sort_values(["service_code", "tier_rank"])
    money_columns = tuple(column for column in detail.columns if column.endswith("_cost"))
    show_table(
        detail[
            [
                "service",
                "tier",
                *[
                    column
                    for column in detail.columns
                    if column not in ("service", "tier", "service_code", "tier_code", "tier_rank")
                ],
            ]
        ],
        money=money_columns,
        key="scenario_cost",
    )
if "proposal_yaml" in runs.columns and run["proposal_yaml"]:
    with st.expander("方案文件 proposal file"):
        st.code(run["proposal_yaml"], language="yaml")
