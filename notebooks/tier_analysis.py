import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo
    import pandas as pd
    import plotly.express as px

    from dagster_project.lib.publish import connect_snapshot, current_snapshot
    from vipwh.dashboard import queries

    return Path, connect_snapshot, current_snapshot, mo, os, pd, px, queries


@app.cell
def _(Path, connect_snapshot, current_snapshot, mo, os, queries):
    # The warehouse's latest published snapshot, read-only (never the writer's file).
    warehouse = Path(os.environ.get("VIPWH_WAREHOUSE") or "data/warehouse.duckdb")
    con = connect_snapshot(warehouse)
    tables = queries.catalog(con)
    mo.md(
        f"""
        # 星级分析 Tier analysis

        Tier mix over time, migration between tiers, and where members' rated premium sits against the tier
        thresholds. Snapshot `{current_snapshot(warehouse).name}` of `{warehouse}`.
        """
    )
    return con, tables


@app.cell
def _(mo, queries, tables):
    def notice(table, columns):
        """A markdown notice when the snapshot lacks the table or columns, else None."""
        missing = queries.missing_columns(tables, table, columns)
        if missing is None:
            return mo.md(f"> `{table}` is not in this snapshot yet.")
        if missing:
            return mo.md(f"> `{table}` lacks {', '.join(missing)}.")
        return None

    return (notice,)


@app.cell
def _(mo):
    mo.md("""
    ## 星级结构 Tier mix at each month end
    """)
    return


@app.cell
def _(con, mo, notice, px, queries):
    _missing = notice("marts.mart_tier_distribution_monthly", ("month", "snapshot_date", "tier_code", "members"))
    mo.stop(_missing is not None, _missing)
    tier_mix = con.sql(
        """select month, snapshot_date, tier_code, members
           from marts.mart_tier_distribution_monthly order by month, tier_code"""
    ).df()
    tier_mix["tier"] = tier_mix["tier_code"].map(queries.tier_label)
    tier_mix["share"] = tier_mix["members"] / tier_mix.groupby("month")["members"].transform("sum")
    _order = [queries.tier_label(code) for code in queries.TIER_CODES]
    _colors = {queries.tier_label(code): color for code, color in queries.TIER_COLORS.items()}
    px.area(
        tier_mix,
        x="month",
        y="share",
        color="tier",
        category_orders={"tier": _order},
        color_discrete_map=_colors,
        title="各星级占比 share of members per tier (month end)",
    )
    return (tier_mix,)


@app.cell
def _(pd, queries, tier_mix):
    # the month of the as-of date is counted on the as-of date, not its month end: marked '(partial)'
    _table = tier_mix.pivot_table(index="month", columns="tier", values="members", aggfunc="sum", fill_value=0)
    _order = [queries.tier_label(code) for code in queries.TIER_CODES]
    _table = _table[[tier for tier in _order if tier in _table.columns]]
    _partial = set(tier_mix.loc[tier_mix["snapshot_date"] < tier_mix["month"] + pd.offsets.MonthEnd(0), "month"])
    _table.index = [f"{month:%Y-%m}" + (" (partial)" if month in _partial else "") for month in _table.index]
    _table.tail(12)
    return


@app.cell
def _(mo):
    mo.md("""
    ## 升降级 Migration
    """)
    return


@app.cell
def _(con, mo, notice, px, queries):
    _missing = notice("marts.mart_tier_migration", ("month", "from_tier_code", "to_tier_code", "members"))
    mo.stop(_missing is not None, _missing)
    migration = con.sql(
        """select month, from_tier_code, to_tier_code, sum(members) as members
           from marts.mart_tier_migration group by all order by month"""
    ).df()
    migration["kind"] = [
        queries.migration_kind(before, after)
        for before, after in zip(migration["from_tier_code"], migration["to_tier_code"], strict=True)
    ]
    _per_month = migration.groupby(["month", "kind"], as_index=False)["members"].sum()
    _per_month["kind"] = _per_month["kind"].map(queries.MIGRATION_KIND_LABELS)
    px.bar(
        _per_month,
        x="month",
        y="members",
        color="kind",
        barmode="group",
        title="每月变动 joins, upgrades, downgrades and leaves per month",
    )
    return (migration,)


@app.cell
def _(migration, pd, queries):
    # From × to over the last twelve months of the history (rows: from, columns: to).
    _recent = migration[migration["month"] > migration["month"].max() - pd.DateOffset(months=12)]
    queries.tier_matrix(_recent, "from_tier_code", "to_tier_code")
    return


@app.cell
def _(mo):
    mo.md("""
    ## 阈值附近的定级保费 Rated premium near the tier thresholds

    Members within ±20 % of a threshold: just below it they are upgrade prospects, just above it a small
    reduction (a rider ending, a top-up window closing) drops them a tier.
    """)
    return


@app.cell
def _(con, pd, queries, tables):
    # The thresholds of the rulebook in force on the as-of date (marts.dim_tier_threshold), else RULES.md §4.
    _as_of = queries.as_of_date(con, tables)
    _columns = ("tier_code", "lower_bound", "rulebook_effective_from", "rulebook_effective_until")
    if _as_of is not None and queries.missing_columns(tables, "marts.dim_tier_threshold", _columns) == []:
        thresholds = con.execute(
            """select tier_code, cast(lower_bound as double) as lower_bound
               from marts.dim_tier_threshold
               where lower_bound > 0
                 and rulebook_effective_from <= ?
                 and (rulebook_effective_until is null or rulebook_effective_until > ?)
               order by lower_bound""",
            [_as_of, _as_of],
        ).df()
    else:
        thresholds = pd.DataFrame(
            {
                "tier_code": ["star1", "star2", "star3", "star4", "star5"],
                "lower_bound": [30_000.0, 45_000.0, 150_000.0, 300_000.0, 500_000.0],
            }
        )
    queries.display_frame(thresholds, money=("lower_bound",))
    return (thresholds,)


@app.cell
def _(con, mo, notice, pd, px, queries, thresholds):
    _missing = notice("marts.dim_member", ("holder_id", "tier_code", "rated_premium"))
    mo.stop(_missing is not None, _missing)
    members = con.sql(
        """select holder_id, tier_code, cast(rated_premium as double) as rated_premium
           from marts.dim_member where tier_code is not null"""
    ).df()
    _rows = []
    for _threshold in thresholds.itertuples():
        _near = members[
            (members["rated_premium"] >= 0.8 * _threshold.lower_bound)
            & (members["rated_premium"] < 1.2 * _threshold.lower_bound)
        ]
        _rows.append(
            {
                "threshold": queries.tier_label(_threshold.tier_code),
                "lower_bound": _threshold.lower_bound,
                "within 10% below": int(
                    (
                        (_near["rated_premium"] < _threshold.lower_bound)
                        & (_near["rated_premium"] >= 0.9 * _threshold.lower_bound)
                    ).sum()
                ),
                "within 10% above": int(
                    (
                        (_near["rated_premium"] >= _threshold.lower_bound)
                        & (_near["rated_premium"] < 1.1 * _threshold.lower_bound)
                    ).sum()
                ),
                "within ±20%": len(_near),
            }
        )
    near_thresholds = pd.DataFrame(_rows)
    _positive = members[members["rated_premium"] > 0]
    _figure = px.histogram(
        _positive.assign(tier=_positive["tier_code"].map(queries.tier_label)),
        x="rated_premium",
        color="tier",
        nbins=80,
        log_x=False,
        title="定级保费分布 rated premium of members (CNY), thresholds dashed",
    )
    for _bound in thresholds["lower_bound"]:
        _figure.add_vline(x=_bound, line_dash="dash", line_color="#555555")
    mo.vstack([_figure, queries.display_frame(near_thresholds, money=("lower_bound",))])
    return


if __name__ == "__main__":
    app.run()
