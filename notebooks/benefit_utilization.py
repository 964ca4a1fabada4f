import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo
    import plotly.express as px

    from dagster_project.lib.publish import connect_snapshot, current_snapshot
    from vipwh.dashboard import queries

    return Path, connect_snapshot, current_snapshot, mo, os, px, queries


@app.cell
def _(Path, connect_snapshot, current_snapshot, mo, os, queries):
    # The warehouse's latest published snapshot, read-only (never the writer's file).
    warehouse = Path(os.environ.get("VIPWH_WAREHOUSE") or "data/warehouse.duckdb")
    con = connect_snapshot(warehouse)
    tables = queries.catalog(con)
    services = queries.service_labels(con, tables)
    mo.md(f"""
    # 权益使用 Benefit utilization

    Utilization of the 22 services by tier, the uses that broke a rule (non-compliant, still a real cost),
    and what benefits cost per member-year. Snapshot `{current_snapshot(warehouse).name}` of `{warehouse}`.
    """)
    return con, services, tables


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
    ## 使用率 Utilization by service × tier

    Quota services: consumed ÷ entitled units (quota × member-years). Unlimited services: uses per member-year.
    """)
    return


@app.cell
def _(con, mo, notice, queries):
    _columns = queries.UTILIZATION_COLUMNS
    _missing = notice(queries.UTILIZATION, _columns)
    mo.stop(_missing is not None, _missing)
    utilization = con.sql(
        f"""select {", ".join(_columns)},
                   case when member_years > 0 then uses / member_years end as uses_per_member_year
            from {queries.UTILIZATION}"""
    ).df()
    year = int(utilization["entitlement_year"].max()) if not utilization.empty else None
    mo.md(f"Latest entitlement year: **{year}**")
    return utilization, year


@app.cell
def _(mo, px, queries, services, utilization, year):
    mo.stop(utilization.empty, mo.md("> No utilization rows yet."))

    def grid(metric):
        """Service × tier table of one metric for the latest year, services in catalogue order."""
        rows = utilization[(utilization["entitlement_year"] == year) & (utilization["tier_code"] != "none")]
        table = rows.pivot_table(
            index="service_code", columns="tier_code", values=metric, aggfunc="first", dropna=False
        )
        order = [code for code in services if code in table.index]
        order += sorted(set(table.index) - set(order))
        table = table.reindex(index=order, columns=[code for code in queries.TIER_CODES if code in table.columns])
        table.index = [services.get(code, code) for code in table.index]
        table.columns = [queries.tier_label(code) for code in table.columns]
        return table.astype(float)

    utilization_grid = grid("utilization_rate")
    uses_grid = grid("uses_per_member_year")
    px.imshow(
        utilization_grid,
        aspect="auto",
        color_continuous_scale="YlOrRd",
        text_auto=".0%",
        title=f"{year} 利用率 utilization rate (blank = unlimited or not entitled)",
    )
    return uses_grid, utilization_grid


@app.cell
def _(uses_grid):
    uses_grid.round(2)
    return


@app.cell
def _(mo):
    mo.md("""
    ## 违规使用 Non-compliant uses

    Consumed uses that broke at least one rule (tier not entitled, beneficiary, variant, waiting period,
    over quota): the insurer bore their cost all the same.
    """)
    return


@app.cell
def _(con, mo, tables):
    _leakage = (
        "usage_id",
        "service_code",
        "entitlement_year",
        "tier_code_at_service",
        "non_compliance_reason",
        "cost_amount",
    )
    _usage = (
        "usage_id",
        "service_code",
        "entitlement_year",
        "tier_code_at_service",
        "is_compliant",
        "consumed_quantity",
        "cost_amount",
    )
    if all(column in tables.get("marts.mart_benefit_leakage", []) for column in _leakage):
        non_compliant = con.sql(
            """select usage_id, service_code, entitlement_year, coalesce(tier_code_at_service, 'none') as tier_code,
                      coalesce(non_compliance_reason, 'unknown') as reason, cast(cost_amount as double) as cost_amount
               from marts.mart_benefit_leakage"""
        ).df()
    elif all(column in tables.get("marts.fct_benefit_usage", []) for column in _usage):
        _reason = (
            "non_compliance_reason"
            if "non_compliance_reason" in tables["marts.fct_benefit_usage"]
            else "'non_compliant'"
        )
        non_compliant = con.sql(
            f"""select usage_id, service_code, entitlement_year, coalesce(tier_code_at_service, 'none') as tier_code,
                       coalesce({_reason}, 'unknown') as reason, cast(cost_amount as double) as cost_amount
                from marts.fct_benefit_usage
                where not is_compliant and consumed_quantity > 0"""
        ).df()
    else:
        non_compliant = None
    mo.stop(
        non_compliant is None,
        mo.md("> Neither `marts.mart_benefit_leakage` nor `marts.fct_benefit_usage` is in this snapshot yet."),
    )
    mo.md(f"**{len(non_compliant):,}** non-compliant uses costing **{non_compliant['cost_amount'].sum():,.0f}** CNY.")
    return (non_compliant,)


@app.cell
def _(non_compliant, queries, services):
    by_reason_and_service = (
        non_compliant.assign(service=non_compliant["service_code"].map(lambda code: services.get(code, code)))
        .groupby(["reason", "service"], as_index=False)
        .agg(uses=("usage_id", "count"), cost_amount=("cost_amount", "sum"))
        .sort_values("cost_amount", ascending=False)
    )
    by_tier = (
        non_compliant.groupby(["entitlement_year", "tier_code"], as_index=False)
        .agg(uses=("usage_id", "count"), cost_amount=("cost_amount", "sum"))
        .assign(tier=lambda frame: frame["tier_code"].map(queries.tier_label))
    )
    queries.display_frame(by_reason_and_service, money=("cost_amount",))
    return (by_tier,)


@app.cell
def _(by_tier, queries):
    queries.display_frame(by_tier, money=("cost_amount",), integers=("entitlement_year",))
    return


@app.cell
def _(mo):
    mo.md("""
    ## 每会员人年成本 Cost per member-year
    """)
    return


@app.cell
def _(con, mo, notice, px, queries):
    # One definition (vipwh.dashboard.queries, as on the dashboard): cost of uses at the tier ÷ the tier's
    # member-years from marts.mart_member_exposure (one row per year × tier, never summed over services).
    _missing = notice(queries.EXPOSURE, queries.EXPOSURE_COLUMNS)
    mo.stop(_missing is not None, _missing)
    cost_per_member_year = con.sql(queries.cost_per_member_year_sql()).df()
    mo.stop(cost_per_member_year.empty, mo.md("> No exposure rows yet."))
    cost_per_member_year["cost_amount"] = cost_per_member_year["cost_amount"].astype(float)
    cost_per_member_year["member_years"] = cost_per_member_year["member_years"].astype(float)
    cost_per_member_year["cost_per_member_year"] = cost_per_member_year["cost_per_member_year"].astype(float)
    cost_per_member_year["tier"] = cost_per_member_year["tier_code"].map(queries.tier_label)
    overall_cost_per_member_year = {
        int(_year): queries.overall_cost_per_member_year(_rows)
        for _year, _rows in cost_per_member_year.groupby("entitlement_year")
    }
    _figure = px.bar(
        cost_per_member_year,
        x="entitlement_year",
        y="cost_per_member_year",
        color="tier",
        barmode="group",
        category_orders={"tier": [queries.tier_label(c) for c in queries.TIER_CODES]},
        title="每会员人年权益成本 benefit cost per member-year (CNY)",
    )
    _figure.update_xaxes(type="category")
    _overall = queries.display_frame(
        cost_per_member_year.groupby("entitlement_year", as_index=False)[["member_years", "cost_amount"]]
        .sum()
        .assign(cost_per_member_year=lambda frame: frame["cost_amount"] / frame["member_years"]),
        money=("cost_amount", "cost_per_member_year"),
        integers=("entitlement_year",),
    )
    _shown = queries.display_frame(
        cost_per_member_year[
            ["entitlement_year", "tier", "members", "member_years", "cost_amount", "cost_per_member_year"]
        ],
        money=("cost_amount", "cost_per_member_year"),
        integers=("entitlement_year", "members"),
    )
    mo.vstack([_figure, mo.md("**全部会员 all members**"), _overall, mo.md("**各星级 by tier**"), _shown])
    return cost_per_member_year, overall_cost_per_member_year


if __name__ == "__main__":
    app.run()
