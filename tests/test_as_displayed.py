"""Figures as people read them, on the hand-made book of tests/as_displayed_book.py (`vipwh build`, as of
2026-06-30): the dashboard's metrics and tables (Streamlit AppTest), `mf query` and the notebook's cells.

Every expected value is worked out by hand in that module's docstring, never by the code under test.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.as_displayed_book import write_book
from tests.conftest import build_on
from vipwh.dashboard import queries

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "vipwh" / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("as_displayed")
    return build_on("duckdb", write_book(root / "landing"), root)


def _page(warehouse: Path, page: str, monkeypatch: pytest.MonkeyPatch, **query_params: str) -> AppTest:
    monkeypatch.setenv(queries.WAREHOUSE_ENV, str(warehouse))
    app = AppTest.from_file(str(APP), default_timeout=90)
    for name, value in query_params.items():
        app.query_params[name] = value
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert not app.error, [error.value for error in app.error]
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _table(app: AppTest, first_column: str) -> pd.DataFrame:
    """The displayed table whose first column is ``first_column``."""
    for frame in app.dataframe:
        value = frame.value
        if len(value.columns) and value.columns[0] == first_column:
            return value
        if value.index.name == first_column:
            return value.reset_index()
    raise AssertionError(f"no table starting with {first_column!r}: {[list(f.value.columns) for f in app.dataframe]}")


def test_cost_per_member_year_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "cost_leakage", monkeypatch)
    assert app.selectbox[0].value == 2026  # the latest entitlement year by default
    metrics = _metrics(app)
    assert metrics["每会员人年成本 cost per member-year (CNY)"] == "812.58"  # 1 850 ÷ 2.276711
    assert metrics["会员权益成本 benefit cost of members (CNY)"] == "1,850.00"
    assert metrics["违规成本 non-compliant cost (CNY)"] == "300.00"  # HC's limousine at family
    table = _table(app, "星级 tier")
    assert table.values.tolist() == [  # member-years shown to 2 decimals
        ["家人 family", 1, "0.50", "300.00", "604.97"],
        ["二星 star2", 1, "0.50", "150.00", "302.49"],
        ["三星 star3", 2, "0.79", "1,400.00", "1,774.31"],
        ["五星 star5", 1, "0.50", "0.00", "0.00"],
    ]
    reasons = _table(app, "usage_id")
    assert reasons[["usage_id", "service_date", "reason", "cost_amount"]].values.tolist() == [
        ["UC1", "2026-02-10", "星级无此权益 tier not entitled", "300.00"]
    ]


def test_utilization_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "benefit_utilization", monkeypatch)
    metrics = _metrics(app)
    assert metrics["会员人年 member-years"] == "2.28"  # 831 days ÷ 365
    assert metrics["成本 cost (CNY)"] == "1,850.00"
    rows = _table(app, "服务 service").set_index(["服务 service", "星级 tier"])
    limousine = rows.loc[("礼宾车服务 limousine", "三星 star3")]
    assert limousine["利用率 utilization"] == "253.5%"  # 2 rides ÷ (1 × 0.789041)
    assert limousine["会员人年 member-years"] == "0.79"
    assert rows.loc[("健康体检 health_checkup", "三星 star3"), "利用率 utilization"] == "126.7%"  # 1 ÷ 0.789041
    assert rows.loc[("齿科洁牙 dental_cleaning", "二星 star2"), "利用率 utilization"] == "201.7%"  # 1 ÷ 0.495890


def test_members_per_tier_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "overview", monkeypatch)
    metrics = _metrics(app)
    assert metrics["会员 members in the programme"] == "5"
    assert metrics["星级会员 star members"] == "4"
    assert metrics["定级保费 rated premium (CNY)"] == "970,000.00"  # 200 000 × 2 + 50 000 + 20 000 + 500 000
    table = _table(app, "星级 tier")
    assert table[["星级 tier", "会员数 members", "定级保费合计 rated premium (CNY)"]].values.tolist() == [
        ["家人 family", 1, "20,000.00"],
        ["二星 star2", 1, "50,000.00"],
        ["三星 star3", 2, "400,000.00"],
        ["五星 star5", 1, "500,000.00"],
    ]


def test_upcoming_drops_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "upcoming_drops", monkeypatch)
    metrics = _metrics(app)
    assert metrics["90 天内降级 drops within 90 days"] == "1"  # HD on 2026-08-16, 47 days after 2026-06-30
    assert metrics["30 天内降级 drops within 30 days"] == "0"
    stars = _table(app, "投保人 holder")
    assert stars[["投保人 holder", "降级日 drop date", "当前星级 tier now", "降级后 tier after"]].values.tolist() == [
        ["HD", "2026-08-16", "五星 star5", "家人 family"]
    ]
    assert stars["原因 reason"].tolist() == ["趸交计入期满 single-premium window ended"]


def test_member_page_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "member", monkeypatch, holder_id="HA")
    assert app.text_input[0].value == "HA"
    metrics = _metrics(app)
    assert metrics["当前星级 tier"] == "三星 star3"
    assert metrics["定级保费 rated premium (CNY)"] == "200,000.00"
    assert metrics["星级起始 tier since"] == "2025-01-16"
    history = _table(app, "起 from")
    assert history[["起 from", "止 until", "星级 tier", "定级保费 rated premium"]].values.tolist() == [
        ["2025-01-16", "", "三星 star3", "200,000.00"]
    ]
    assert history["原因 reason"].tolist() == ["新保 new business"]
    slices = _table(app, "保单 policy")
    assert slices[
        [
            "保单 policy",
            "类型 kind",
            "基数 base",
            "系数 coefficient",
            "定级金额 rated",
            "计入起 counts from",
            "计入止 counts until",
        ]
    ].values.tolist()[0] == ["PA", "regular", "200,000.00", "1", "200,000.00", "2025-01-16", "2045-01-01"]
    assert len(slices) == 1
    assert any("2045-01-01" in markdown.value and "家人 family" in markdown.value for markdown in app.markdown)
    entitlements = _table(app, "服务 service").set_index("服务 service")
    assert entitlements.loc["礼宾车服务 limousine"].tolist() == ["1", "1", "0"]
    assert entitlements.loc["健康体检 health_checkup"].tolist() == ["1", "1", "0"]
    assert entitlements.loc["机场/高铁休息室 lounge"].tolist() == ["2", "0", "2"]
    uses = _table(app, "编号 usage")
    assert uses[["编号 usage", "日期 date", "判定 verdict", "成本 cost (CNY)"]].values.tolist() == [
        ["UA2", "2026-04-01", "合规 compliant", "800.00"],
        ["UA1", "2026-03-01", "合规 compliant", "300.00"],
    ]

    other = _page(warehouse, "member", monkeypatch)
    other.text_input[0].input("HD").run()
    assert _metrics(other)["当前星级 tier"] == "五星 star5"
    assert other.query_params["holder_id"] in ("HD", ["HD"])


def test_metricflow_cost_per_member_year(warehouse: Path, tmp_path: Path) -> None:
    tool = Path(sys.executable).with_name
    env = {
        **os.environ,
        "VIPWH_WAREHOUSE": str(warehouse),
        "VIPWH_DBT_TARGET": "duckdb",
        "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
    }
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    parsed = subprocess.run(
        [str(tool("dbt")), "parse", "--quiet"], cwd=project, env=env, capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr

    def mf(group_by: str) -> list[dict]:
        out = tmp_path / f"{group_by.replace(',', '_')}.csv"
        done = subprocess.run(
            [
                str(tool("mf")),
                "query",
                "--metrics",
                "cost_per_member_year,member_years",
                "--group-by",
                group_by,
                "--csv",
                str(out),
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with out.open() as handle:
            return [row for row in csv.DictReader(handle) if row["metric_time__year"].startswith("2026")]

    (overall,) = mf("metric_time__year")
    assert f"{float(overall['cost_per_member_year']):.2f}" == "812.58"
    per_tier = {
        row["exposure_cell__tier_code"]: f"{float(row['cost_per_member_year']):.2f}"
        for row in mf("metric_time__year,exposure_cell__tier_code")
    }
    assert per_tier == {"family": "604.97", "star2": "302.49", "star3": "1774.31", "star5": "0.00"}


def test_benefit_utilization_notebook_cells(warehouse: Path, monkeypatch) -> None:
    monkeypatch.setenv(queries.WAREHOUSE_ENV, str(warehouse))
    notebook = REPO_ROOT / "notebooks" / "benefit_utilization.py"
    spec = importlib.util.spec_from_file_location("notebook_as_displayed", notebook)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _outputs, defs = module.app.run()
    defs["con"].close()
    per_tier = defs["cost_per_member_year"]
    shown = {
        row.tier_code: f"{row.cost_per_member_year:,.2f}"
        for row in per_tier[per_tier["entitlement_year"] == 2026].itertuples()
    }
    assert shown == {"family": "604.97", "star2": "302.49", "star3": "1,774.31", "star5": "0.00"}
    assert f"{defs['overall_cost_per_member_year'][2026]:.2f}" == "812.58"
    rates = defs["utilization_grid"]
    assert f"{rates.loc['礼宾车服务 limousine', '三星 star3']:.1%}" == "253.5%"


def test_tier_analysis_notebook_cells(warehouse: Path, monkeypatch) -> None:
    monkeypatch.setenv(queries.WAREHOUSE_ENV, str(warehouse))
    notebook = REPO_ROOT / "notebooks" / "tier_analysis.py"
    spec = importlib.util.spec_from_file_location("notebook_tier_analysis_as_displayed", notebook)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _outputs, defs = module.app.run()
    defs["con"].close()
    mix = defs["tier_mix"]
    latest = mix[mix["month"] == mix["month"].max()]
    assert str(latest["snapshot_date"].max())[:10] == "2026-06-30"
    assert dict(zip(latest["tier_code"], latest["members"], strict=True)) == {
        "family": 1,
        "star2": 1,
        "star3": 2,
        "star5": 1,
    }  # HC; HB; HA, HE; HD (until 2026-08-16)


def test_tier_distribution_page_as_displayed(warehouse: Path, monkeypatch) -> None:
    app = _page(warehouse, "tier_distribution", monkeypatch)
    table = app.dataframe[0].value
    june = table.loc["2026-06"]  # 30 June is a month end: not partial
    assert june.to_dict() == {"家人 family": 1, "二星 star2": 1, "三星 star3": 2, "五星 star5": 1}
    march = table.loc["2026-03"]  # HE joined on 16 March
    assert march["三星 star3"] == 2
    assert table.loc["2026-02", "三星 star3"] == 1
