"""升降级流向 Tier flows: upgrades, downgrades, joins and leaves per month (marts.mart_tier_migration)."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from vipwh.dashboard import queries
from vipwh.dashboard.common import mark_partial_month, open_page, tier_matrix

snapshot = open_page(
    "升降级流向 Tier flows",
    "Members moving between tiers ('none' = joining or leaving the programme), from marts.mart_tier_migration.",
)
if snapshot is None:
    st.stop()

if not snapshot.require(
    "marts.mart_tier_migration", ("month", "from_tier_code", "to_tier_code", "members"), "迁移 migration"
):
    st.stop()

migration = snapshot.sql(
    """select month, from_tier_code, to_tier_code, sum(members) as members
       from marts.mart_tier_migration
       group by all
       order by month"""
)
if migration.empty:
    st.info("尚无迁移记录 — no tier changes recorded yet.")
    st.stop()

migration["kind"] = [
    queries.migration_kind(before, after)
    for before, after in zip(migration["from_tier_code"], migration["to_tier_code"], strict=True)
]
months = sorted(migration["month"].dt.strftime("%Y-%m").unique())
if len(months) > 1:
    first, last = st.select_slider("月份 months", options=months, value=(months[max(0, len(months) - 12)], months[-1]))
else:
    first = last = months[0]
window = migration[
    (migration["month"].dt.strftime("%Y-%m") >= first) & (migration["month"].dt.strftime("%Y-%m") <= last)
]
include_joins = st.toggle("包含入会与退出 include joining and leaving", value=True)
flows = window if include_joins else window[~window["kind"].isin(["join", "leave"])]
flows = flows[flows["kind"] != "stay"]

columns = st.columns(4)
for column, kind in zip(columns, ("upgrade", "downgrade", "join", "leave"), strict=True):
    column.metric(queries.MIGRATION_KIND_LABELS[kind], f"{int(window.loc[window['kind'] == kind, 'members'].sum()):,}")

if flows.empty:
    st.info("所选月份没有变动 — no flows in the selected months.")
else:
    sankey = queries.sankey_links(flows)
    # fixed positions: 'from' nodes in a column on the left, 'to' nodes on the right, each spread top to
    # bottom in tier order, so labels never sit on top of each other
    left_count = len(set(sankey.sources))
    right_count = len(sankey.labels) - left_count
    sankey_x = [0.01] * left_count + [0.99] * right_count
    sankey_y = [0.05 + 0.9 * number / max(left_count - 1, 1) for number in range(left_count)] + [
        0.05 + 0.9 * number / max(right_count - 1, 1) for number in range(right_count)
    ]
    figure = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": sankey.labels,
                "color": sankey.node_colors,
                "pad": 28,
                "thickness": 18,
                "x": sankey_x,
                "y": sankey_y,
            },
            link={
                "source": sankey.sources,
                "target": sankey.targets,
                "value": sankey.values,
                "color": sankey.link_colors,
            },
        )
    )
    figure.update_layout(title=f"星级流向 tier flows {first} – {last}", height=560, font={"size": 13})
    st.plotly_chart(figure)

per_month = migration[migration["kind"] != "stay"].groupby(["month", "kind"], as_index=False)["members"].sum()
per_month["kind"] = per_month["kind"].map(queries.MIGRATION_KIND_LABELS)
figure = px.bar(
    per_month,
    x="month",
    y="members",
    color="kind",
    barmode="group",
    labels={"month": "月份 month", "members": "会员数 members", "kind": "变动 change"},
    color_discrete_map={
        queries.MIGRATION_KIND_LABELS["upgrade"]: "#2e7d32",
        queries.MIGRATION_KIND_LABELS["downgrade"]: "#c62828",
        queries.MIGRATION_KIND_LABELS["join"]: "#1e88e5",
        queries.MIGRATION_KIND_LABELS["leave"]: "#9e9e9e",
    },
)
figure.update_layout(title="每月升降级 changes per month")
mark_partial_month(figure, snapshot.as_of(), "joins and tier changes")
st.plotly_chart(figure)

with st.expander("明细 from × to (selected months)"):
    st.dataframe(tier_matrix(window, "from_tier_code", "to_tier_code"))
