"""数据质量 Data quality: results of the data-quality checks of each build (quality.dq_check_results)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from vipwh.dashboard.common import open_page, show_table

REQUIRED = ("build_id", "checked_at", "check_name", "asset_key", "severity", "passed", "failing_rows")

snapshot = open_page("数据质量 Data quality", "Every data-quality check of every build, from quality.dq_check_results.")
if snapshot is None:
    st.stop()
if not snapshot.require("quality.dq_check_results", REQUIRED, "检查结果 check results"):
    st.stop()

has_sample = "sample" in snapshot.tables["quality.dq_check_results"]
results = snapshot.sql(
    f"""select build_id, checked_at, check_name, cast(asset_key as varchar) as asset_key,
               cast(severity as varchar) as severity, coalesce(passed, false) as passed,
               coalesce(failing_rows, 0) as failing_rows,
               {"cast(sample as varchar)" if has_sample else "null"} as sample
        from quality.dq_check_results"""
)
if results.empty:
    st.info("尚无检查结果 — no check has run yet.")
    st.stop()

builds = (
    results.groupby("build_id", as_index=False)
    .agg(
        checked_at=("checked_at", "max"),
        checks=("check_name", "count"),
        failed=("passed", lambda passed: int((~passed.astype(bool)).sum())),
    )
    .sort_values("checked_at")
)
# the snapshot's own build (marts.build_info), else the latest one that recorded checks
own_build = (
    snapshot.sql("select build_id from marts.build_info")["build_id"].iloc[0]
    if snapshot.has("marts.build_info", ("build_id",))
    else None
)
latest_build = own_build if own_build in set(builds["build_id"]) else builds["build_id"].iloc[-1]
build_options = [latest_build, *[build for build in reversed(builds["build_id"].tolist()) if build != latest_build]]
build_id = st.selectbox(
    "构建 build", build_options, index=0, help="This snapshot's build first, then earlier builds newest first."
)
current = results[results["build_id"] == build_id]
failed = current[~current["passed"].astype(bool)]

metrics = st.columns(4)
metrics[0].metric("检查 checks", f"{len(current):,}")
metrics[1].metric("通过 passed", f"{int(current['passed'].astype(bool).sum()):,}")
metrics[2].metric("未通过 failed", f"{len(failed):,}")
metrics[3].metric("问题行 failing rows", f"{int(failed['failing_rows'].sum()):,}")
checked_at = current["checked_at"].max()
st.caption(
    f"构建 build `{build_id}` checked at {pd.Timestamp(checked_at):%Y-%m-%d %H:%M:%S}"
    + (" (本快照的构建 this snapshot's build)" if build_id == latest_build else "")
)

if failed.empty:
    st.success("全部检查通过 — every check of this build passed.")
else:
    for severity, group in failed.groupby("severity"):
        st.warning(f"{len(group)} check(s) of severity `{severity}` failed in this build.")
    show_table(
        failed[["check_name", "asset_key", "severity", "failing_rows", "sample"]].sort_values(
            ["severity", "failing_rows"], ascending=[True, False]
        ),
        key="failed_checks",
    )

per_build = results.assign(outcome=results["passed"].astype(bool).map({True: "通过 passed", False: "未通过 failed"}))
per_build = per_build.groupby(["build_id", "outcome", "severity"], as_index=False)["check_name"].count()
per_build = per_build.merge(builds[["build_id", "checked_at"]], on="build_id").sort_values("checked_at")
figure = px.bar(
    per_build,
    x="build_id",
    y="check_name",
    color="outcome",
    pattern_shape="severity",
    color_discrete_map={"通过 passed": "#43a047", "未通过 failed": "#e53935"},
    labels={
        "build_id": "构建 build",
        "check_name": "检查数 checks",
        "outcome": "结果 outcome",
        "severity": "级别 severity",
    },
)
figure.update_xaxes(type="category", categoryorder="array", categoryarray=builds["build_id"].tolist())
figure.update_layout(title="各次构建的检查结果 check outcomes per build")
st.plotly_chart(figure)

st.subheader("单项检查历史 one check over builds")
check = st.selectbox("检查 check", sorted(results["check_name"].unique()))
history = results[results["check_name"] == check].merge(builds[["build_id"]], on="build_id")
history = history.sort_values("checked_at")
show_table(
    history[["build_id", "checked_at", "asset_key", "severity", "passed", "failing_rows", "sample"]].assign(
        checked_at=history["checked_at"].map(lambda value: f"{pd.Timestamp(value):%Y-%m-%d %H:%M:%S}")
    ),
    key="check_history",
)
