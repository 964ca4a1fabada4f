"""The analysts' marimo notebooks run to the end against a small published snapshot (and cope with a bare one)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_dashboard import TINY_TABLES, build_tiny_warehouse
from vipwh.dashboard import queries

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.py"))
MARIMO = Path(sys.executable).with_name("marimo")


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_warehouse(tmp_path_factory.mktemp("notebooks") / "warehouse.duckdb")


def _env(warehouse: Path) -> dict[str, str]:
    return {**os.environ, queries.WAREHOUSE_ENV: str(warehouse), "PYTHONPATH": str(REPO_ROOT)}


def test_both_notebooks_are_there() -> None:
    assert [path.name for path in NOTEBOOKS] == ["benefit_utilization.py", "tier_analysis.py"]


def test_notebooks_pass_marimo_check() -> None:
    done = subprocess.run(
        [str(MARIMO), "check", "--strict", *map(str, NOTEBOOKS)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_exports_to_html_without_error(notebook: Path, tiny_warehouse: Path, tmp_path: Path) -> None:
    """`marimo export html` runs every cell; it exits non-zero when any cell raised."""
    copy = tmp_path / notebook.name  # marimo keeps session state beside the notebook: not in the work tree
    shutil.copy(notebook, copy)
    html = tmp_path / f"{notebook.stem}.html"
    done = subprocess.run(
        [str(MARIMO), "export", "html", str(copy), "-o", str(html)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tiny_warehouse),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert html.stat().st_size > 10_000


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_as_a_script_on_a_bare_snapshot(notebook: Path, tmp_path: Path) -> None:
    """With no mart published yet, every section shows a notice instead of failing."""
    warehouse = build_tiny_warehouse(
        tmp_path / "warehouse.duckdb", {"marts.dim_tier_threshold": TINY_TABLES["marts.dim_tier_threshold"]}
    )
    done = subprocess.run(
        [sys.executable, str(notebook)], capture_output=True, text=True, cwd=tmp_path, env=_env(warehouse), timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _run_in_process(notebook: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv(queries.WAREHOUSE_ENV, str(warehouse))
    spec = importlib.util.spec_from_file_location(f"notebook_{notebook.stem}", notebook)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _outputs, defs = module.app.run()
    defs["con"].close()
    return defs


def test_tier_analysis_computes_its_tables(tiny_warehouse: Path, monkeypatch) -> None:
    defs = _run_in_process(REPO_ROOT / "notebooks" / "tier_analysis.py", tiny_warehouse, monkeypatch)
    latest = defs["tier_mix"][defs["tier_mix"]["month"] == defs["tier_mix"]["month"].max()]
    assert latest["members"].sum() == 5
    assert set(defs["migration"]["kind"]) == {"join", "upgrade", "downgrade", "leave"}
    # the thresholds of the rulebook in force on the as-of date, from marts.dim_tier_threshold
    assert defs["thresholds"].values.tolist() == [
        ["star1", 30000.0],
        ["star2", 45000.0],
        ["star3", 150000.0],
        ["star4", 300000.0],
        ["star5", 600000.0],
    ]
    near = defs["near_thresholds"].set_index("threshold")
    # H6 31 000, H5 46 000, H1 160 000, H3 320 000: each just above its tier's lower bound
    assert near["within 10% above"].to_dict() == {
        "一星 star1": 1,
        "二星 star2": 1,
        "三星 star3": 1,
        "四星 star4": 1,
        "五星 star5": 0,
    }
    assert near["within 10% below"].sum() == 0


def test_benefit_utilization_computes_its_tables(tiny_warehouse: Path, monkeypatch) -> None:
    defs = _run_in_process(REPO_ROOT / "notebooks" / "benefit_utilization.py", tiny_warehouse, monkeypatch)
    assert sorted(defs["non_compliant"]["usage_id"]) == ["U2", "U3", "U4"]
    assert defs["non_compliant"]["cost_amount"].sum() == pytest.approx(3030.0)
    assert "礼宾车服务 limousine" in defs["uses_grid"].index
    rates = defs["utilization_grid"]  # 2026: doctor_chat unlimited (no rate), limousine at star4 0 of 0.1 rides
    assert rates.loc["家庭医生图文咨询 doctor_chat"].isna().all()
    assert rates.loc["礼宾车服务 limousine", "四星 star4"] == 0.0
    per_tier = defs["cost_per_member_year"].set_index(["entitlement_year", "tier_code"])["cost_per_member_year"]
    # star5's 2025 exposure is 0.82 member-years (mart_member_exposure), not 0.82 once per service row
    assert per_tier[(2025, "star5")] == pytest.approx(2500 / 0.82)
    assert defs["overall_cost_per_member_year"][2025] == pytest.approx((760 + 150 + 2500) / (0.6 + 1.2 + 0.58 + 0.82))


def test_offline_export_needs_no_network(tiny_warehouse: Path, tmp_path: Path) -> None:
    """The exported page loads nothing from the internet to render: no http(s) URL is left in it, and every
    asset it names is in the local copy beside it (python -m vipwh.notebook_export)."""
    import re

    from vipwh.notebook_export import ASSETS, export_offline

    notebook = tmp_path / "tier_analysis.py"
    shutil.copy(REPO_ROOT / "notebooks" / "tier_analysis.py", notebook)
    out = tmp_path / "html"
    page = export_offline(notebook, out, env=_env(tiny_warehouse))
    html = page.read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in html
    assert not re.findall(r"""(?:src|href)=["']https?://""", html)
    assets = re.findall(rf"""(?:src|href)=["']({ASSETS}/[^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets)
    missing = [asset for asset in assets if not (out / asset).is_file()]
    assert missing == []
