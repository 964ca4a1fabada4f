"""Benefit-redesign scenarios: proposal validation, `vipwh scenario run | compare` on a hand-made book, the page.

The book (one batch, extract date 2026-11-23 = the as-of date; benefit rates from 2025, the last complete year).
Every policy is effective 2024-01-01 with free look to 2024-01-15, so it counts from 2024-01-16; rated premiums
on 2026-11-23 worked out by hand from RULES §2 / §4 (handbook_2026):

* A1 29 999.99 (annual whole life, 10 years) family · A2 30 000 star1 · A3 34 999.99 star1 · A4 35 000 star1 ·
  A5 44 999.99 star1 · A6 45 000 star2 · A7 50 000 star2;
* B1 annual 15 000 × 20 years (× 1) + monthly 3 000 × 5 years: 36 000 × 5 × 0.1 = 18 000 → 33 000 star1;
* C1 universal annual 20 000 × 20 years (× 1) + a 1 000 000 top-up on 2024-12-01 (× 0.02 for two years, to
  2026-12-01) = 20 000 → 40 000 star1 (since 2024-12-01);
* D1 60 000 surrendered 2024-06-01: out of the programme, never counted.

So the baseline on 2026-11-23: family 1 (29 999.99), star1 6 (217 999.98), star2 2 (95 000). In 2025 every one of
them held the same tier all year: member-years family 1, star1 6, star2 2. Uses in 2025 (completed, by the
member): A4 dental cleaning (star1), A6 dental cleaning and a limousine ride (star2). Take-up: dental star1
1 / (1 × 6) = 1/6, dental star2 1 / (1 × 2) = 0.5, limousine star2 1 / 2 = 0.5; nothing else is used.
Baseline projection for a year: dental star1 6 × 1/6 = 1 visit = 150.00; dental star2 2 × 0.5 = 1 visit = 150.00;
limousine star2 2 × 0.5 = 1 ride = 350.00.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, query
from vipwh.cli import main
from vipwh.landing import write_batch
from vipwh.scenarios.proposal import Catalogue, ProposalError, parse_proposal, proposal_rules

EXAMPLES = REPO_ROOT / "data" / "scenarios"


def _customer(holder_id: str) -> dict:
    return dict(
        holder_id=holder_id,
        gender="F",
        birth_date="1980-02-02",
        province="浙江省",
        city="杭州市",
        id_number=f"33010219800202{holder_id}X",
    )


def _policy(
    policy_no,
    holder_id,
    premium,
    category="whole_life",
    mode="annual",
    years=10,
    status="in_force",
    status_date="2024-01-01",
):
    return dict(
        policy_no=policy_no,
        coverage_no=0,
        holder_id=holder_id,
        insured_id=holder_id,
        product_code=category[:4].upper(),
        product_category=category,
        is_group=0,
        coverage_term_months="",
        payment_mode=mode,
        payment_years=years,
        modal_premium=premium,
        effective_date="2024-01-01",
        free_look_end_date="2024-01-15",
        status=status,
        status_date=status_date,
    )


def _txn(txn_id, policy_no, txn_type, effective, premium="", amount=""):
    return dict(
        txn_id=txn_id,
        policy_no=policy_no,
        coverage_no=0,
        txn_type=txn_type,
        effective_date=effective,
        modal_premium_after=premium,
        amount=amount,
        recorded_at=f"{effective} 09:00:00",
    )


def _use(usage_id, holder_id, service_code, service_date, cost):
    return dict(
        usage_id=usage_id,
        holder_id=holder_id,
        beneficiary_relation="self",
        service_code=service_code,
        service_date=service_date,
        quantity="1",
        status="completed",
        vendor="v",
        cost_amount=cost,
        updated_at=f"{service_date} 12:00:00",
    )


POLICIES = [
    _policy("PA1", "A1", "29999.99"),
    _policy("PA2", "A2", "30000.00"),
    _policy("PA3", "A3", "34999.99"),
    _policy("PA4", "A4", "35000.00"),
    _policy("PA5", "A5", "44999.99"),
    _policy("PA6", "A6", "45000.00"),
    _policy("PA7", "A7", "50000.00"),
    _policy("PB1A", "B1", "15000.00", years=20),
    _policy("PB1B", "B1", "3000.00", "critical_illness", "monthly", 5),
    _policy("PC1", "C1", "20000.00", "universal", years=20),
    _policy("PD1", "D1", "60000.00", status="surrendered", status_date="2024-06-01"),
]
HOLDERS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "B1", "C1", "D1"]

COEFFICIENTS = """
id: coefficients_test
base_rulebook: handbook_2026
coefficients:
  regular: {per_year_under_10: 0.08}
  single: {universal: 0.015}
"""
ENTITLEMENTS = """
id: entitlements_test
base_rulebook: handbook_2026
entitlements:
  limousine: {star2: 2}
  dental_cleaning: {star1: none}
unit_costs:
  limousine: 400
"""


def _scenario(warehouse: Path, proposal: Path, *extra: str) -> int:
    return main(["scenario", "run", str(proposal), "--warehouse", str(warehouse), *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built once, then the four scenarios run on it (the two examples and two test proposals)."""
    root = tmp_path_factory.mktemp("scenarios")
    landing, warehouse = root / "landing", root / "wh.duckdb"
    write_batch(
        landing,
        "2026-11-23",
        {
            "customers.csv": [_customer(holder) for holder in HOLDERS],
            "policies.csv": POLICIES,
            "policy_transactions.csv": [
                *[
                    _txn(f"T{p['policy_no']}", p["policy_no"], "new_business", "2024-01-01", p["modal_premium"])
                    for p in POLICIES
                ],
                _txn("TC1", "PC1", "top_up", "2024-12-01", amount="1000000.00"),
                _txn("TD1", "PD1", "surrender", "2024-06-01"),
            ],
            "service_usage.csv": [
                _use("U1", "A4", "dental_cleaning", "2025-04-01", "150.00"),
                _use("U2", "A6", "dental_cleaning", "2025-03-01", "150.00"),
                _use("U3", "A6", "limousine", "2025-05-01", "350.00"),
            ],
        },
    )
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    (root / "coefficients.yaml").write_text(COEFFICIENTS, encoding="utf-8")
    (root / "entitlements.yaml").write_text(ENTITLEMENTS, encoding="utf-8")
    for proposal in (
        EXAMPLES / "raise_star1_35000.yaml",
        EXAMPLES / "star2_dental_relative.yaml",
        root / "coefficients.yaml",
        root / "entitlements.yaml",
    ):
        assert _scenario(warehouse, proposal) == 0, proposal
    return warehouse


def _distribution(warehouse: Path, scenario_id: str) -> list[tuple]:
    return query(
        warehouse,
        """select tier_code, baseline_members, proposal_members, baseline_rated_premium,
                                      proposal_rated_premium
                               from scenarios.scenario_tier_distribution where scenario_id = ? order by tier_rank""",
        [scenario_id],
    )


def _changes(warehouse: Path, scenario_id: str) -> list[tuple]:
    return query(
        warehouse,
        """select holder_id, baseline_tier_code, proposal_tier_code, baseline_rated_premium,
                                      proposal_rated_premium
                               from scenarios.scenario_member_changes where scenario_id = ? order by holder_id""",
        [scenario_id],
    )


def _cost(warehouse: Path, scenario_id: str) -> dict[tuple[str, str], tuple]:
    rows = query(
        warehouse,
        """select service_code, tier_code, baseline_projected_units, baseline_projected_cost,
                                      proposal_projected_units, proposal_projected_cost, delta_projected_cost
                               from scenarios.scenario_benefit_cost where scenario_id = ?""",
        [scenario_id],
    )
    return {(row[0], row[1]): row[2:] for row in rows}


# --- on the built book --------------------------------------------------------------------------------------


def test_baseline_is_the_marts_tier_on_the_as_of_date(built: Path):
    members = query(
        built,
        """select tier_code, count(*), sum(rated_premium) from marts.dim_member
                              where tier_code is not null group by 1 order by 1""",
    )
    assert members == [
        ("family", 1, Decimal("29999.99")),
        ("star1", 6, Decimal("217999.98")),
        ("star2", 2, Decimal("95000")),
    ]
    for scenario_id in ("raise_star1_35000", "coefficients_test"):
        baseline = [
            (tier, before, premium) for tier, before, _, premium, _ in _distribution(built, scenario_id) if before
        ]
        assert baseline == members


def test_threshold_change_moves_exactly_the_holders_between_the_bounds(built: Path):
    # star1 from 35 000: those rated in [30 000, 35 000) - A2 30 000, A3 34 999.99, B1 33 000 - become family;
    # A4 at 35 000 stays star1, A1 at 29 999.99 was family already.
    assert _changes(built, "raise_star1_35000") == [
        ("A2", "star1", "family", Decimal("30000"), Decimal("30000")),
        ("A3", "star1", "family", Decimal("34999.99"), Decimal("34999.99")),
        ("B1", "star1", "family", Decimal("33000"), Decimal("33000")),
    ]
    assert _distribution(built, "raise_star1_35000") == [
        ("family", 1, 4, Decimal("29999.99"), Decimal("127999.98")),
        ("star1", 6, 3, Decimal("217999.98"), Decimal("119999.99")),
        ("star2", 2, 2, Decimal("95000"), Decimal("95000")),
        ("star3", 0, 0, Decimal("0"), Decimal("0")),
        ("star4", 0, 0, Decimal("0"), Decimal("0")),
        ("star5", 0, 0, Decimal("0"), Decimal("0")),
    ]
    migration = query(
        built,
        """select from_tier_code, to_tier_code, change_type, members
                                from scenarios.scenario_tier_migration where scenario_id = 'raise_star1_35000'
                                order by from_tier_rank, to_tier_rank""",
    )
    assert migration == [
        ("family", "family", "stay", 1),
        ("star1", "family", "downgrade", 3),
        ("star1", "star1", "stay", 3),
        ("star2", "star2", "stay", 2),
    ]


def test_threshold_change_moves_benefit_cost_with_the_members(built: Path):
    # star1 keeps 3 of its 6 members: dental 3 × 1/6 = 0.5 visit = 75.00 instead of 150.00; family has no dental.
    cost = _cost(built, "raise_star1_35000")
    assert cost[("dental_cleaning", "star1")] == (
        Decimal("1"),
        Decimal("150"),
        Decimal("0.5"),
        Decimal("75"),
        Decimal("-75"),
    )
    assert cost[("limousine", "star2")] == (Decimal("1"), Decimal("350"), Decimal("1"), Decimal("350"), Decimal("0"))
    assert sum(row[4] for row in cost.values()) == Decimal("-75")


def test_coefficient_change_rerates_by_hand_computed_amounts(built: Path):
    # Y<10 per year 0.1 → 0.08: B1's monthly slice 36 000 × 5 × 0.08 = 14 400 (was 18 000) → 29 400, family.
    # Universal single 0.02 → 0.015: C1's top-up 1 000 000 × 0.015 = 15 000 (was 20 000) → 35 000, still star1.
    assert _changes(built, "coefficients_test") == [("B1", "star1", "family", Decimal("33000"), Decimal("29400"))]
    assert _distribution(built, "coefficients_test")[:3] == [
        ("family", 1, 2, Decimal("29999.99"), Decimal("59399.99")),
        ("star1", 6, 5, Decimal("217999.98"), Decimal("179999.98")),
        ("star2", 2, 2, Decimal("95000"), Decimal("95000")),
    ]
    rules = query(
        built,
        """select rule_no, coefficient, coefficient_per_payment_year, product_categories
                            from scenarios.scenario_rating_coefficients where scenario_id = 'coefficients_test'
                            and rule_no in (2, 4, 7) order by rule_no""",
    )
    assert rules == [
        (2, None, Decimal("0.08"), "*"),
        (4, None, Decimal("0.08"), "*"),
        (7, Decimal("0.015"), None, "universal"),
    ]


def test_entitlement_change_moves_projected_cost_by_uses_times_unit_cost(built: Path):
    # limousine star2 quota 1 → 2 at 400: take-up 0.5 × 2 × 2 members = 2 rides × 400 = 800.00 (was 1 × 350);
    # dental cleaning withdrawn at star1: 1 visit × 150 = 150.00 → 0.
    cost = _cost(built, "entitlements_test")
    assert cost[("limousine", "star2")] == (Decimal("1"), Decimal("350"), Decimal("2"), Decimal("800"), Decimal("450"))
    assert cost[("dental_cleaning", "star1")] == (
        Decimal("1"),
        Decimal("150"),
        Decimal("0"),
        Decimal("0"),
        Decimal("-150"),
    )
    assert sum(row[4] for row in cost.values()) == Decimal("300")
    assert _changes(built, "entitlements_test") == []


def test_new_service_for_relatives_costs_its_take_up_times_unit_cost(built: Path):
    # dental_cleaning_relative at star2, used like dental cleaning at star2 (take-up 0.5): 2 × 0.5 × 1 = 1 visit
    # × 150 = 150.00, where the baseline has nothing.
    cost = _cost(built, "star2_dental_relative")
    assert cost[("dental_cleaning_relative", "star2")] == (
        Decimal("0"),
        Decimal("0"),
        Decimal("1"),
        Decimal("150"),
        Decimal("150"),
    )
    assert sum(row[4] for row in cost.values()) == Decimal("150")
    basis = query(
        built,
        """select rate_service_code, baseline_rate_basis, proposal_rate_basis, reference_year
                            from scenarios.scenario_benefit_cost where scenario_id = 'star2_dental_relative'
                            and service_code = 'dental_cleaning_relative'""",
    )
    assert basis == [("dental_cleaning", "not entitled", "observed at this tier", 2025)]


def test_rerunning_replaces_the_scenarios_rows(built: Path):
    tables = (
        "scenario_runs",
        "scenario_tier_distribution",
        "scenario_tier_migration",
        "scenario_member_changes",
        "scenario_benefit_cost",
        "scenario_tier_thresholds",
        "scenario_entitlements",
    )
    count = " union all ".join(
        f"select '{t}', count(*) from scenarios.{t} where scenario_id = 'raise_star1_35000'" for t in tables
    )
    before = query(built, count)
    assert _scenario(built, EXAMPLES / "raise_star1_35000.yaml") == 0
    assert query(built, count) == before
    assert dict(before)["scenario_member_changes"] == 3
    assert query(built, "select count(distinct scenario_id) from scenarios.scenario_runs") == [(4,)]


def test_compare_prints_the_scenarios_side_by_side(built: Path, capsys):
    capsys.readouterr()
    assert main(["scenario", "compare", "raise_star1_35000", "coefficients_test", "--warehouse", str(built)]) == 0
    out = capsys.readouterr().out
    assert "raise_star1_35000" in out and "coefficients_test" in out
    header, _, *rows = out.splitlines()
    assert header.split() == [
        "baseline",
        "raise_star1_35000",
        "Δ",
        "raise_star1_35000",
        "coefficients_test",
        "Δ",
        "coefficients_test",
    ]
    star1 = next(row for row in rows if row.startswith("members star1")).split()[2:]
    assert star1 == ["6", "3", "-3", "5", "-1"]
    assert main(["scenario", "compare", "nope", "--warehouse", str(built)]) == 2
    assert "unknown scenario(s) nope" in capsys.readouterr().err


def test_the_snapshot_publishes_the_scenarios(built: Path):
    from dagster_project.lib.publish import connect_snapshot

    with connect_snapshot(built) as con:
        ids = [row[0] for row in con.sql("select scenario_id from scenarios.scenario_runs order by 1").fetchall()]
    assert ids == ["coefficients_test", "entitlements_test", "raise_star1_35000", "star2_dental_relative"]


def test_scenario_page_runs_on_the_published_scenarios(built: Path, tmp_path: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VIPWH_WAREHOUSE", str(built))
    app = AppTest.from_file(str(REPO_ROOT / "vipwh" / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("views/scenarios.py").run()
    assert not app.exception, [exception.message for exception in app.exception]
    assert not app.error, [error.value for error in app.error]
    assert [title.value for title in app.title] == ["方案对比 Scenarios"]
    app.selectbox[0].select("raise_star1_35000").run()
    assert not app.exception
    monkeypatch.setenv("VIPWH_WAREHOUSE", str(tmp_path / "never_built.duckdb"))
    app = AppTest.from_file(str(REPO_ROOT / "vipwh" / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("views/scenarios.py").run()
    assert not app.exception and any("nothing published yet" in info.value for info in app.info)


def test_run_refuses_an_invalid_proposal_and_an_as_of_before_every_rulebook(built: Path, tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nbase_rulebook: handbook_2026\ntier_thresholds: {star2: 25000}\n", encoding="utf-8")
    assert _scenario(built, bad) == 2
    assert "tier_thresholds.star2: 25000 is not above star1 (30000)" in capsys.readouterr().err
    assert _scenario(built, EXAMPLES / "raise_star1_35000.yaml", "--as-of", "1899-12-31") == 1
    assert "no rulebook of the warehouse is in force" in capsys.readouterr().err


def test_run_waits_for_no_one_while_a_build_holds_the_warehouse(built: Path, capsys):
    """A scenario run writes to the warehouse, so it takes the writer lock: with a build running (another
    process holding ``<warehouse>.lock``) it exits at once, saying so, and writes nothing."""
    import subprocess
    import sys

    lock_file = built.with_name(built.name + ".lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(lock_file)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.ftruncate(fd, 0); os.write(fd, b'4242 2026-12-01T10:11:12 build')\n"
            "print('held', flush=True); time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = query(built, "select count(*) from scenarios.scenario_runs")
        assert _scenario(built, EXAMPLES / "raise_star1_35000.yaml") == 1
        err = capsys.readouterr().err
        assert "a build is running (pid 4242, since 10:11:12)" in err  # the holder's kind, from the lock file
        assert query(built, "select count(*) from scenarios.scenario_runs") == before
    finally:
        holder.kill()
        holder.wait()


# --- the proposal file alone ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_seeds()


def _errors(catalogue: Catalogue, text: str) -> list[str]:
    with pytest.raises(ProposalError) as raised:
        parse_proposal(text, catalogue)
    return raised.value.errors


BASE = "id: p\nbase_rulebook: handbook_2026\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("tier_threshold: {star1: 35000}\n", "tier_threshold: unknown key"),
        ("tier_thresholds: {star2: 25000}\n", "tier_thresholds.star2: 25000 is not above star1 (30000)"),
        ("tier_thresholds: {star1: 50000}\n", "tier_thresholds.star1: 50000 is not below star2 (45000)"),
        ("tier_thresholds: {star6: 1}\n", "tier_thresholds.star6: unknown tier"),
        ("tier_thresholds: {star1: -1}\n", "tier_thresholds.star1: -1 is negative"),
        ("tier_thresholds: {star1: 30000.001}\n", "tier_thresholds.star1: 30000.001 has more than 2 decimals"),
        (
            "coefficients: {regular: {per_year_under_10: -0.1}}\n",
            "coefficients.regular.per_year_under_10: -0.1 is negative",
        ),
        ("coefficients: {regular: {y_lt_10: 0.08}}\n", "coefficients.regular.y_lt_10: unknown key"),
        ("coefficients: {single: {universl: 0.01}}\n", "coefficients.single.universl: unknown product category"),
        ("coefficients: {top_up: 0.01}\n", "coefficients.top_up: top-ups take the single-premium coefficient"),
        ("entitlements: {dental_cleanin: {star1: 1}}\n", "entitlements.dental_cleanin: unknown service"),
        ("entitlements: {limousine: {star9: 1}}\n", "entitlements.limousine.star9: unknown tier"),
        ("entitlements: {limousine: {star2: -2}}\n", "entitlements.limousine.star2: -2 is negative"),
        ("entitlements: {limousine: {star2: lots}}\n", "entitlements.limousine.star2: 'lots' is not a quota"),
        ("unit_costs: {limousine: -5}\n", "unit_costs.limousine: -5 is negative"),
        ("unit_costs: {health_checkup: {star9: 100}}\n", "unit_costs.health_checkup.star9: unknown variant"),
        ("services: {spa: {like: dental_cleaning}}\n", "services.spa: a new service needs its cost"),
        ("services: {limousine: {like: lounge}}\n", "services.limousine: already in the service catalogue"),
    ],
)
def test_validation_errors_name_the_bad_key(catalogue: Catalogue, body: str, expected: str):
    assert any(error.startswith(expected) for error in _errors(catalogue, BASE + body)), _errors(catalogue, BASE + body)


def test_id_and_base_rulebook_are_required_and_checked(catalogue: Catalogue):
    assert _errors(catalogue, "tier_thresholds: {star1: 35000}\n")[:2] == ["id: required", "base_rulebook: required"]
    errors = _errors(catalogue, "id: handbook_2026\nbase_rulebook: handbook_1999\n")
    assert errors[0].startswith("id: 'handbook_2026' is an existing rulebook")
    assert errors[1].startswith("base_rulebook: unknown rulebook 'handbook_1999'")


def test_the_examples_are_valid(capsys):
    for example in sorted(EXAMPLES.glob("*.yaml")):
        assert main(["scenario", "validate", str(example)]) == 0, capsys.readouterr().err


def test_proposal_rules_are_the_base_rows_with_the_overrides(catalogue: Catalogue):
    proposal = parse_proposal(
        BASE
        + """
tier_thresholds: {star1: 35000}
coefficients: {single: {endowment: 0.05, medical: 0.2}, one_year: 0.9}
entitlements: {limousine: {star2: none, star5: 3}, legal_consult: none, vip_hotline: {family: unlimited}}
unit_costs: {health_checkup: {star5: 7000}}
""",
        catalogue,
    )
    rules = proposal_rules(proposal, catalogue)
    assert [(row["tier_code"], row["lower_bound"], row["upper_bound"]) for row in rules.tier_thresholds][:3] == [
        ("family", 0, Decimal("35000")),
        ("star1", Decimal("35000"), Decimal("45000")),
        ("star2", Decimal("45000"), Decimal("150000")),
    ]
    singles = {
        row["product_categories"]: (row["rule_no"], row["coefficient"])
        for row in rules.rating_coefficients
        if row["slice_kind"] in ("single", "one_year")
    }
    # endowment leaves its row with participating; medical (rated by '*' today) gets a row of its own
    assert singles == {
        "whole_life term_life annuity critical_illness *": (5, Decimal("0.1")),
        "participating": (6, Decimal("0.03")),
        "endowment": (10, Decimal("0.05")),
        "universal": (7, Decimal("0.02")),
        "medical": (9, Decimal("0.2")),
        "*": (8, Decimal("0.9")),
    }
    cells = {
        (row["service_code"], row["tier_code"]): (row["quota_kind"], row["quota"])
        for row in rules.entitlements
        if row["service_code"] in ("limousine", "legal_consult", "vip_hotline")
    }
    assert cells == {
        ("limousine", "star3"): ("per_year", 1),
        ("limousine", "star4"): ("per_year", 1),
        ("limousine", "star5"): ("per_year", Decimal("3")),
        ("vip_hotline", "family"): ("unlimited", None),
        **{("vip_hotline", f"star{n}"): ("unlimited", None) for n in range(1, 6)},
    }
    costs = {row["variant"]: row["unit_cost"] for row in rules.unit_costs if row["service_code"] == "health_checkup"}
    assert costs == {
        "star2": Decimal("1500"),
        "star3": Decimal("2500"),
        "star4": Decimal("4000"),
        "star5": Decimal("7000"),
        None: Decimal("2500"),
    }


def test_the_stored_scenarios_are_the_partitions_the_ui_lists(built: Path):
    # the sensor keeps the dynamic partitions (one per scenario) equal to the scenarios stored in the warehouse
    import dagster as dg

    from dagster_project.defs.scenarios import SCENARIOS, scenario_partitions
    from dagster_project.settings import Settings

    stored = sorted(row[0] for row in query(built, "select scenario_id from raw.proposal_runs"))
    assert stored == ["coefficients_test", "entitlements_test", "raise_star1_35000", "star2_dental_relative"]
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(SCENARIOS.name, ["dropped_since"])
        context = dg.build_sensor_context(instance=instance, resources={"settings": Settings(warehouse=str(built))})
        result = scenario_partitions(context)
        requests = {type(request).__name__: request.partition_keys for request in result.dynamic_partitions_requests}
    assert requests == {"AddDynamicPartitionsRequest": stored, "DeleteDynamicPartitionsRequest": ["dropped_since"]}
