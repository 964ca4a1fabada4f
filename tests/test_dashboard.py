"""The management dashboard: every page runs on a small snapshot (Streamlit AppTest) and renders in a real
headless Chromium without an error box; pages cope with missing tables and with no snapshot at all."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dagster_project.lib.publish import publish
from tests.conftest import install_or_skip
from vipwh.dashboard import PAGES as DASHBOARD_PAGES
from vipwh.dashboard import queries

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "vipwh" / "dashboard" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
PAGES = {page.url_path: page.title for page in DASHBOARD_PAGES}  # url path → title shown on the page

# A hand-made snapshot with the CONTRACT §3 columns (and the extra ones the marts' YAML documents), a few
# rows each: the dashboard and notebooks are tested without depending on the dbt models.
TINY_TABLES: dict[str, str] = {
    "marts.fct_member_tier_history": """
        select holder_id, cast(valid_from as date) as valid_from, cast(valid_to as date) as valid_to, tier_code,
               tier_rank, cast(rated_premium as decimal(18, 2)) as rated_premium, previous_tier_code, change_type,
               change_reason, 'handbook_2026' as rulebook_id
        from (values
            ('H1', '2025-01-10', '2025-06-01', 'star1', 1, 32000, null, 'join', 'new_business'),
            ('H1', '2025-06-01', null, 'star3', 3, 160000, 'star1', 'upgrade', 'top_up'),
            ('H2', '2025-02-01', '2025-11-15', 'star2', 2, 50000, null, 'join', 'new_business'),
            ('H2', '2025-11-15', null, 'family', 0, 12000, 'star2', 'downgrade', 'payment_period_ended'),
            ('H3', '2025-03-05', '2026-01-20', 'star5', 5, 520000, null, 'join', 'new_business'),
            ('H3', '2026-01-20', null, 'star4', 4, 320000, 'star5', 'downgrade', 'single_premium_window_ended'),
            ('H4', '2025-04-01', '2025-09-30', 'family', 0, 8000, null, 'join', 'new_business'),
            ('H5', '2025-07-15', null, 'star2', 2, 46000, null, 'join', 'new_business'),
            ('H6', '2026-02-01', null, 'star1', 1, 31000, null, 'join', 'new_business')
        ) as history(holder_id, valid_from, valid_to, tier_code, tier_rank, rated_premium, previous_tier_code,
                     change_type, change_reason)""",
    "marts.fct_member_rated_premium_history": """
        select holder_id, valid_from, valid_to, rated_premium from marts.fct_member_tier_history""",
    "marts.mart_tier_distribution_monthly": f"""
        select cast(month as varchar) || '/' || tier_code as tier_month_id, month, snapshot_date, tier_code,
               case tier_code when 'family' then 0 else cast(right(tier_code, 1) as integer) end as tier_rank,
               members, cast(null as decimal(18, 2)) as rated_premium
        from ({queries.tier_month_end_sql(date(2026, 2, 20))}) as month_ends""",
    "marts.build_info": """
        select 'b2' as build_id, timestamp '2026-02-28 06:00:00' as built_at, date '2026-02-20' as as_of_date,
               'duckdb' as engine, 2 as batches_loaded, date '2026-02-20' as latest_extract_date,
               'handbook_2026' as rulebook_ids, 2 as checks_run, 0 as checks_failed""",
    "marts.dim_member": """
        select holder_id, tier_code, tier_rank, cast(rated_premium as decimal(18, 2)) as rated_premium,
               cast(tier_since as date) as tier_since, tier_code is not null as is_member, gender,
               age_band, province, city
        from (values
            ('H1', 'star3', 3, 160000, '2025-06-01', 'F', '40-49', '广东省', '广州市'),
            ('H2', 'family', 0, 12000, '2025-11-15', 'M', '50-59', '广东省', '深圳市'),
            ('H3', 'star4', 4, 320000, '2026-01-20', 'F', '60+', '上海市', '上海市'),
            ('H4', null, null, null, null, 'M', '30-39', '浙江省', '杭州市'),
            ('H5', 'star2', 2, 46000, '2025-07-15', 'F', '30-39', '北京市', '北京市'),
            ('H6', 'star1', 1, 31000, '2026-02-01', 'M', '40-49', '广东省', '广州市')
        ) as members(holder_id, tier_code, tier_rank, rated_premium, tier_since, gender, age_band, province,
                     city)""",
    "marts.mart_tier_migration": """
        select cast(month as date) as month, from_tier_code, to_tier_code, members
        from (values
            ('2025-01-01', 'none', 'star1', 1), ('2025-02-01', 'none', 'star2', 1),
            ('2025-03-01', 'none', 'star5', 1), ('2025-04-01', 'none', 'family', 1),
            ('2025-06-01', 'star1', 'star3', 1), ('2025-07-01', 'none', 'star2', 1),
            ('2025-09-01', 'family', 'none', 1), ('2025-11-01', 'star2', 'family', 1),
            ('2026-01-01', 'star5', 'star4', 1), ('2026-02-01', 'none', 'star1', 1)
        ) as migration(month, from_tier_code, to_tier_code, members)""",
    "marts.mart_upcoming_tier_changes": """
        select holder_id, tier_code, cast(rated_premium as decimal(18, 2)) as rated_premium,
               cast(drop_date as date) as drop_date, tier_code_before_drop, tier_code_after_drop,
               cast(rated_premium_after_drop as decimal(18, 2)) as rated_premium_after_drop, drop_reason
        from (values
            ('H1', 'star3', 160000, '2026-03-20', 'star3', 'star2', 60000, 'top_up_window_ended'),
            ('H5', 'star2', 46000, '2026-07-15', 'star2', 'star1', 40000, 'payment_period_ended'),
            ('H6', 'star1', 31000, '2027-02-01', 'star1', 'none', null, 'one_year_term_ended; coverage_term_ended')
        ) as drops(holder_id, tier_code, rated_premium, drop_date, tier_code_before_drop, tier_code_after_drop,
                   rated_premium_after_drop, drop_reason)""",
    "marts.dim_service": """
        select service_code, service_group, name_zh, name_en, unit, beneficiary_scope, waiting_days
        from (values
            ('vip_hotline', 'privilege', '呼入贵宾专线', 'VIP service hotline', 'call', 'member', 0),
            ('limousine', 'privilege', '礼宾车服务', 'Limousine service', 'ride', 'member_and_direct_relatives', 0),
            ('dental_cleaning', 'health', '齿科洁牙', 'Dental cleaning', 'visit', 'member_and_direct_relatives', 0),
            ('doctor_chat', 'doctor', '家庭医生图文咨询', 'Family doctor chat', 'consultation', 'member', 0),
            ('second_opinion', 'medical', '国内专家二次诊疗', 'Second opinion', 'case', 'member', 30)
        ) as services(service_code, service_group, name_zh, name_en, unit, beneficiary_scope, waiting_days)""",
    "marts.fct_benefit_usage": """
        select usage_id, holder_id, service_code, cast(service_date as date) as service_date,
               year(cast(service_date as date)) as entitlement_year, status, quantity, consumed_quantity,
               tier_code_at_service, is_entitled_tier, is_eligible_beneficiary, true as is_eligible_variant,
               false as is_in_waiting_period, is_within_quota, is_compliant, non_compliance_reason,
               cast(cost_amount as decimal(18, 2)) as cost_amount
        from (values
            ('U1', 'H1', 'limousine', '2025-08-02', 'completed', 1, 1, 'star3', true, true, true, true, null, 380),
            ('U2', 'H1', 'limousine', '2025-09-10', 'completed', 1, 1, 'star3', true, true, false, false,
             'over_quota', 380),
            ('U3', 'H2', 'dental_cleaning', '2025-12-01', 'no_show', 1, 1, 'family', false, true, false, false,
             'tier_not_entitled', 150),
            ('U4', 'H3', 'second_opinion', '2025-05-01', 'completed', 1, 1, 'star5', true, false, true, false,
             'beneficiary_not_eligible', 2500),
            ('U5', 'H5', 'doctor_chat', '2026-01-05', 'completed', 1, 1, 'star2', true, true, true, true, null, 0),
            ('U6', 'H4', 'limousine', '2026-01-12', 'cancelled', 1, 0, null, false, true, true, true, null, 0)
        ) as usage(usage_id, holder_id, service_code, service_date, status, quantity, consumed_quantity,
                   tier_code_at_service, is_entitled_tier, is_eligible_beneficiary, is_within_quota, is_compliant,
                   non_compliance_reason, cost_amount)""",
    "marts.mart_benefit_leakage": """
        select usage_id || '|non_compliant' as leakage_id, usage_id, 'non_compliant' as leakage_kind, holder_id,
               service_code, service_date, entitlement_year, status, tier_code_at_service, consumed_quantity,
               non_compliance_reason, non_compliance_reason as non_compliance_reasons, cost_amount,
               'reported' as cost_basis
        from marts.fct_benefit_usage
        where not is_compliant and consumed_quantity > 0""",
    "marts.mart_member_entitlements": """
        select holder_id, entitlement_year, service_code, tier_code, quota, consumed, remaining
        from (values
            ('H1', 2025, 'limousine', 'star3', 1, 2, 0),
            ('H1', 2026, 'limousine', 'star3', 1, 0, 1),
            ('H5', 2026, 'doctor_chat', 'star2', null, 1, null)
        ) as entitlements(holder_id, entitlement_year, service_code, tier_code, quota, consumed, remaining)""",
    "marts.mart_benefit_utilization": """
        select entitlement_year, service_code, tier_code, member_years, members, users, uses,
               consumed_units, entitled_units,
               case when entitled_units > 0 then consumed_units / entitled_units end as utilization_rate,
               non_compliant_uses, cast(cost_amount as decimal(18, 2)) as cost_amount, uses as recorded_uses,
               case when member_years > 0 then uses / member_years end as uses_per_member_year
        from (values
            (2025, 'limousine', 'star3', 0.58, 1, 1, 2, 2.0, 0.58, 1, 760),
            (2025, 'limousine', 'star5', 0.82, 1, 0, 0, 0.0, 0.82, 0, 0),
            (2025, 'limousine', 'star2', 1.2, 2, 0, 0, 0.0, 1.2, 0, 0),
            (2025, 'dental_cleaning', 'family', 0.6, 2, 1, 1, 1.0, 0.0, 1, 150),
            (2025, 'second_opinion', 'star5', 0.82, 1, 1, 1, 1.0, 0.82, 1, 2500),
            (2025, 'doctor_chat', 'star2', 1.2, 2, 0, 0, 0.0, null, 0, 0),
            (2026, 'doctor_chat', 'star2', 0.15, 1, 1, 1, 1.0, null, 0, 0),
            (2026, 'limousine', 'none', 0.0, 0, 0, 0, 0.0, null, 0, 0),
            (2026, 'limousine', 'star4', 0.1, 1, 0, 0, 0.0, 0.1, 0, 0)
        ) as utilization(entitlement_year, service_code, tier_code, member_years, members, users, uses,
                         consumed_units, entitled_units, non_compliant_uses, cost_amount)""",
    "marts.fct_policy_rating": """
        select holder_id, policy_no, coverage_no, slice_kind, cast(base_amount as decimal(18, 2)) as base_amount,
               cast(coefficient as decimal(9, 4)) as coefficient, cast(rated_amount as decimal(18, 2)) as rated_amount,
               cast(counts_from as date) as counts_from, cast(counts_until as date) as counts_until,
               excluded_reason, 'handbook_2026' as rulebook_id
        from (values
            ('H1', 'P1', 0, 'regular', 32000, 1, 32000, '2025-01-10', '2045-01-01', null),
            ('H1', 'P1', 0, 'top_up', 1280000, 0.1, 128000, '2025-06-01', '2027-06-01', null)
        ) as slices(holder_id, policy_no, coverage_no, slice_kind, base_amount, coefficient, rated_amount,
                    counts_from, counts_until, excluded_reason)""",
    "marts.mart_member_exposure": """
        select cast(entitlement_year as varchar) || '/' || tier_code as exposure_id, entitlement_year, tier_code,
               tier_rank, cast(member_years as decimal(18, 6)) as member_years, members
        from (values
            (2025, 'family', 0, 0.6, 2), (2025, 'star2', 2, 1.2, 2), (2025, 'star3', 3, 0.58, 1),
            (2025, 'star5', 5, 0.82, 1), (2026, 'star2', 2, 0.15, 1), (2026, 'star4', 4, 0.1, 1)
        ) as exposure(entitlement_year, tier_code, tier_rank, member_years, members)""",
    "marts.mart_benefit_utilization_monthly": """
        select entitlement_year, cast(month as date) as month_start, service_code, tier_code, member_years, members,
               users, uses, consumed_units, entitled_units, null::double as utilization_rate,
               non_compliant_uses, cast(cost_amount as decimal(18, 2)) as cost_amount
        from (values
            (2026, '2026-01-01', 'doctor_chat', 'star2', 0.08, 1, 1, 1, 1.0, null, 0, 0),
            (2026, '2026-02-01', 'limousine', 'star4', 0.08, 1, 0, 0, 0.0, 0.08, 0, 0)
        ) as monthly(entitlement_year, month, service_code, tier_code, member_years, members, users, uses,
                     consumed_units, entitled_units, non_compliant_uses, cost_amount)""",
    # an older rulebook with twice the thresholds (named to sort last), then one in force on the as-of date:
    # the handbook's tiers but star5 from 600 000 (RULES.md's 500 000 is the notebook's fallback)
    "marts.dim_tier_threshold": """
        select rulebook_id || '/' || tier_code as tier_threshold_id, rulebook_id, tier_code, tier_rank,
               tier_name_zh,
               case when factor = 1 and tier_code = 'star5' then 600000 else lower_bound * factor end as lower_bound,
               case when factor = 1 and tier_code = 'star4' then 600000 else upper_bound * factor end as upper_bound,
               cast(effective_from as date) as rulebook_effective_from,
               cast(effective_until as date) as rulebook_effective_until
        from (values ('family', 0, '家人', 0, 30000), ('star1', 1, '一星', 30000, 45000),
                     ('star2', 2, '二星', 45000, 150000), ('star3', 3, '三星', 150000, 300000),
                     ('star4', 4, '四星', 300000, 500000), ('star5', 5, '五星', 500000, null)
        ) as thresholds(tier_code, tier_rank, tier_name_zh, lower_bound, upper_bound)
        cross join (values ('z_2020', 2, '1900-01-01', '2021-01-01'), ('handbook_2026', 1, '2021-01-01', null))
            as rulebooks(rulebook_id, factor, effective_from, effective_until)""",
    "scenarios.scenario_runs": """
        select scenario_id, description, cast(as_of_date as date) as as_of_date, baseline_rulebook_id,
               reference_year, proposal_yaml
        from (values
            ('raise_star1', '一星门槛 35 000', '2026-02-20', 'handbook_2026', 2025, 'id: raise_star1'),
            ('dental', null, '2026-02-20', 'handbook_2026', 2025, 'id: dental')
        ) as runs(scenario_id, description, as_of_date, baseline_rulebook_id, reference_year, proposal_yaml)""",
    "scenarios.scenario_tier_distribution": """
        select scenario_id, tier_code, tier_rank, baseline_members, proposal_members,
               cast(baseline_rated_premium as decimal(38, 6)) as baseline_rated_premium,
               cast(proposal_rated_premium as decimal(38, 6)) as proposal_rated_premium
        from (values
            ('raise_star1', 'family', 0, 1, 2, 12000, 43000), ('raise_star1', 'star1', 1, 1, 0, 31000, 0),
            ('raise_star1', 'star2', 2, 2, 2, 96000, 96000), ('dental', 'family', 0, 1, 1, 12000, 12000),
            ('dental', 'star1', 1, 1, 1, 31000, 31000), ('dental', 'star2', 2, 2, 2, 96000, 96000)
        ) as tiers(scenario_id, tier_code, tier_rank, baseline_members, proposal_members, baseline_rated_premium,
                   proposal_rated_premium)""",
    "scenarios.scenario_tier_migration": """
        select scenario_id, from_tier_code, to_tier_code, members
        from (values ('raise_star1', 'family', 'family', 1), ('raise_star1', 'star1', 'family', 1),
                     ('raise_star1', 'star2', 'star2', 2), ('dental', 'star2', 'star2', 2)
        ) as migration(scenario_id, from_tier_code, to_tier_code, members)""",
    "scenarios.scenario_member_changes": """
        select 'raise_star1' as scenario_id, 'H6' as holder_id, 'star1' as baseline_tier_code,
               'family' as proposal_tier_code, cast(31000 as decimal(38, 6)) as baseline_rated_premium,
               cast(31000 as decimal(38, 6)) as proposal_rated_premium""",
    "scenarios.scenario_benefit_cost": """
        select scenario_id, service_code, tier_code, cast(baseline_cost as decimal(18, 2)) as baseline_projected_cost,
               cast(proposal_cost as decimal(18, 2)) as proposal_projected_cost,
               cast(proposal_cost - baseline_cost as decimal(18, 2)) as delta_projected_cost,
               baseline_uses as baseline_projected_uses, proposal_uses as proposal_projected_uses
        from (values
            ('raise_star1', 'dental_cleaning', 'star1', 150, 0, 1.0, 0.0),
            ('raise_star1', 'limousine', 'star2', 350, 350, 1.0, 1.0),
            ('dental', 'dental_cleaning_relative', 'star2', 0, 150, 0.0, 1.0)
        ) as cost(scenario_id, service_code, tier_code, baseline_cost, proposal_cost, baseline_uses, proposal_uses)""",
    "quality.dq_check_results": """
        select build_id, cast(checked_at as timestamp) as checked_at, check_name, asset_key, severity, passed,
               failing_rows, sample
        from (values
            ('b1', '2026-02-27 06:00:00', 'dim_member_pk_unique', 'marts/dim_member', 'error', true, 0, null),
            ('b1', '2026-02-27 06:00:01', 'usage_cost_not_negative', 'marts/fct_benefit_usage', 'warn', false, 2,
             '[{"usage_id": "U9"}]'),
            ('b2', '2026-02-28 06:00:00', 'dim_member_pk_unique', 'marts/dim_member', 'error', true, 0, null),
            ('b2', '2026-02-28 06:00:01', 'usage_cost_not_negative', 'marts/fct_benefit_usage', 'warn', true, 0, null)
        ) as results(build_id, checked_at, check_name, asset_key, severity, passed, failing_rows, sample)""",
}


def build_tiny_warehouse(warehouse: Path, tables: dict[str, str] | None = None) -> Path:
    """Create the given tables (default: all of TINY_TABLES) in a warehouse file and publish a snapshot."""
    tables = TINY_TABLES if tables is None else tables
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        for schema in ("marts", "rules", "quality", "scenarios"):
            con.execute(f"create schema if not exists {schema}")
        for name, select in tables.items():
            con.execute(f"create or replace table {name} as {select}")
        publish(con, warehouse)
    return warehouse


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_warehouse(tmp_path_factory.mktemp("dash") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def bare_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published snapshot without any mart: every page must show a notice, not crash."""
    return build_tiny_warehouse(
        tmp_path_factory.mktemp("bare") / "warehouse.duckdb",
        {"marts.dim_tier_threshold": TINY_TABLES["marts.dim_tier_threshold"]},
    )


def _run_page(warehouse: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(queries.WAREHOUSE_ENV, str(warehouse))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    return app


def _assert_clean(app: AppTest, page: str) -> None:
    assert not app.exception, [exception.message for exception in app.exception]
    assert not app.error, [error.value for error in app.error]
    assert [title.value for title in app.title] == [PAGES[page]]


def test_month_end_counts_come_from_intervals(tiny_warehouse: Path) -> None:
    from dagster_project.lib.publish import connect_snapshot

    with connect_snapshot(tiny_warehouse) as con:
        counts = queries.tier_month_end_counts(con)
    by_month = {(str(row.month.date()), row.tier_code): row.members for row in counts.itertuples()}
    assert by_month[("2025-05-01", "star1")] == 1  # H1 still star1 on 31 May
    assert ("2025-06-01", "star1") not in by_month  # upgraded on 1 June
    assert by_month[("2025-11-01", "family")] == 1  # H2 dropped on 15 Nov; H4 left on 30 Sep
    assert counts.groupby("month")["members"].sum().iloc[-1] == 5  # H1, H2, H3, H5, H6
    assert str(counts["snapshot_date"].max().date()) == "2026-02-20"  # the as-of date, not 28 Feb


def test_as_of_date_comes_from_the_best_source_there_is() -> None:
    history = {"marts.fct_member_tier_history": ["holder_id", "valid_from", "valid_to"]}
    assert "fct_member_tier_history" in queries.as_of_sql(history)
    # a snapshot built before build_info, when the entitlement statement still had its reference date
    with_entitlements = history | {"marts.mart_member_entitlements": ["holder_id", "reference_date"]}
    assert "max(reference_date)" in queries.as_of_sql(with_entitlements)
    assert queries.as_of_sql({}) is None


def test_sankey_links_put_joins_left_and_leaves_right() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "from_tier_code": ["none", "star1", "family"],
            "to_tier_code": ["star1", "star3", "none"],
            "members": [3, 2, 1],
        }
    )
    sankey = queries.sankey_links(frame)
    assert sankey.labels == ["入会 join", "家人 family", "一星 star1", "退出 leave", "一星 star1", "三星 star3"]
    assert list(zip(sankey.sources, sankey.targets, sankey.values, strict=True)) == [
        (1, 3, 1.0),
        (0, 4, 3.0),
        (2, 5, 2.0),
    ]
    assert sankey.link_colors == [queries.MIGRATION_KIND_COLORS[kind] for kind in ("leave", "join", "upgrade")]
    assert queries.migration_kind("star5", "star4") == "downgrade"
    assert queries.tier_label("star3") == "三星 star3"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_a_small_snapshot(page: str, tiny_warehouse: Path, monkeypatch) -> None:
    app = _run_page(tiny_warehouse, page, monkeypatch)
    _assert_clean(app, page)
    assert not app.info or page == "benefit_utilization", [info.value for info in app.info]


def test_tier_flows_mark_the_partial_month(tiny_warehouse: Path, monkeypatch) -> None:
    """The tiny snapshot's as-of date is 2026-02-20: February is counted through the 20th only, and its joins
    (H6's, the one row of 2026-02) must not read as a fall in joins."""
    app = _run_page(tiny_warehouse, "tier_migration", monkeypatch)
    _assert_clean(app, "tier_migration")
    assert (
        "2026-02 为本月截至估值日 2026-02-20 的部分数据 — the current month is partial (through the as-of date), "
        "not a fall in joins and tier changes." in [caption.value for caption in app.caption]
    )


def test_pages_react_to_their_controls(tiny_warehouse: Path, monkeypatch) -> None:
    app = _run_page(tiny_warehouse, "benefit_utilization", monkeypatch)
    metric = app.selectbox[1]
    for option in metric.options:
        metric.select(option).run()
        _assert_clean(app, "benefit_utilization")
    app.toggle[0].set_value(True).run()
    app.selectbox[0].select(app.selectbox[0].options[-1]).run()
    _assert_clean(app, "benefit_utilization")

    app = _run_page(tiny_warehouse, "cost_leakage", monkeypatch)
    for option in app.selectbox[0].options:
        app.selectbox[0].select(option).run()
        _assert_clean(app, "cost_leakage")

    app = _run_page(tiny_warehouse, "tier_distribution", monkeypatch)
    app.toggle[0].set_value(False).run()
    app.toggle[1].set_value(True).run()
    _assert_clean(app, "tier_distribution")

    app = _run_page(tiny_warehouse, "data_quality", monkeypatch)
    app.selectbox[0].select("b1").run()
    _assert_clean(app, "data_quality")
    assert app.warning  # b1 has a failing check


def test_tables_are_shown_as_people_read_them() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"day": [pd.Timestamp("2026-11-24"), pd.NaT], "cost": [1234.5, None], "year": [2022, 2023], "note": ["x", None]}
    )
    shown = queries.display_frame(frame, money=("cost",), dates=("day",), integers=("year",))
    assert shown.values.tolist() == [["2026-11-24", "1,234.50", "2022", "x"], ["", "", "2023", ""]]
    labels = {"coverage_term_ended": "保险期间届满 coverage term ended"}
    assert queries.label_reasons("coverage_term_ended; lapse", labels) == "保险期间届满 coverage term ended; lapse"
    assert sorted(["70+", "30-39", "0-29", "—"], key=queries.band_sort_key) == ["0-29", "30-39", "70+", "—"]
    matrix = queries.tier_matrix(
        pd.DataFrame(
            {
                "from_tier_code": ["star5", "none", "family"],
                "to_tier_code": ["star4", "star1", "none"],
                "members": [1, 2, 3],
            }
        ),
        "from_tier_code",
        "to_tier_code",
    )
    assert list(matrix.index) == ["入会 join", "家人 family", "五星 star5"]
    assert list(matrix.columns) == ["一星 star1", "四星 star4", "退出 leave"]


def test_no_deploy_button(tiny_warehouse: Path, monkeypatch) -> None:
    """Readers get the viewer toolbar (no Deploy button, no developer menu), from app.py and from
    .streamlit/config.toml."""
    import tomllib

    from streamlit import config

    _run_page(tiny_warehouse, "overview", monkeypatch)
    assert config.get_option("client.toolbarMode") == "viewer"
    settings = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["client"]["toolbarMode"] == "viewer"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_copes_with_missing_tables(page: str, bare_warehouse: Path, monkeypatch) -> None:
    app = _run_page(bare_warehouse, page, monkeypatch)
    _assert_clean(app, page)
    assert any("尚未发布" in info.value for info in app.info)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_copes_with_nothing_published(page: str, tmp_path: Path, monkeypatch) -> None:
    app = _run_page(tmp_path / "never_built.duckdb", page, monkeypatch)
    _assert_clean(app, page)
    assert any("nothing published yet" in info.value for info in app.info)


# --- a real browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Headless Chromium from Debian (scripts/install_chromium.sh installs it when missing; CI is root)."""
    if not CHROMIUM.exists():
        install_or_skip("install_chromium.sh", "chromium")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dashboard_server(tiny_warehouse: Path, tmp_path: Path) -> Iterator[str]:
    """`vipwh dashboard` on a free port, stopped after the test."""
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("vipwh")),
            "dashboard",
            "--warehouse",
            str(tiny_warehouse),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dashboard did not start: {(tmp_path / 'streamlit.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        log.close()


def _browser(chromium: Path, profile: Path):
    """Headless Chromium driven by Debian's chromedriver (Selenium; no driver download)."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not fetch anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(str(chromium.with_name("chromedriver"))))


# Streamlit's error boxes: an exception (st.exception or an uncaught one) and st.error.
ERROR_SELECTORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
SCRIPT_STATE = (
    "const app = document.querySelector('[data-testid=stApp]'); "
    "return app ? app.getAttribute('data-test-script-state') : null;"
)


def test_every_page_renders_in_chromium_without_errors(chromium: Path, dashboard_server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser(chromium, tmp_path / "profile")
    try:
        for number, (page, title) in enumerate(PAGES.items()):
            # the default page lives at /; the member page shows a member named in its URL (H1 has a history)
            query = "?holder_id=H1" if page == "member" else ""
            browser.get(f"{dashboard_server}/{page if number else ''}{query}")
            # Streamlit renders client-side: wait until the script has run and its output is in the DOM
            WebDriverWait(browser, 60, poll_frequency=0.25).until(
                lambda driver, title=title: (
                    driver.execute_script(SCRIPT_STATE) == "notRunning"
                    and title in driver.find_element(By.TAG_NAME, "body").text
                )
            )
            browser.save_screenshot(str(tmp_path / f"{page}.png"))
            errors = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ERROR_SELECTORS)]
            assert not errors, f"{page}: error box(es) {errors}"
            body = browser.find_element(By.TAG_NAME, "body").text
            assert "Traceback" not in body, f"{page}: {body[-2000:]}"
            assert "Page not found" not in body, f"{page}: {body[:500]}"
            headings = [element.text for element in browser.find_elements(By.TAG_NAME, "h1")]
            assert headings == [title], f"{page}: {headings}"
            assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stPlotlyChart"]'), f"{page}: no chart"
    finally:
        browser.quit()
