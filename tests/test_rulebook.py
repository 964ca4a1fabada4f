"""Issue 15 item 5: `vipwh rulebook adopt` makes a proposal the rulebook in force from a date (RULES §5).

A hand-made book, valued on 2026-11-23, rated under handbook_2026 and then under the example proposal
`data/scenarios/raise_star1_35000.yaml` (star1 from 35 000 instead of 30 000, every other rule the handbook's)
adopted from 2026-01-01. Every figure below is worked by hand from RULES.md:

Each holder has one whole-life policy paid annually for 10 years from 2024-01-01, free look to 2024-01-15, so
it counts from 2024-01-16 at premium × 1 (RULES §2, annual ≥ 10 years).

* R1 — 32 000: star1 under handbook_2026 (30 000 ≤ 32 000 < 45 000). Under the new rulebook 32 000 < 35 000 is
  family: the tier row splits on 2026-01-01 — star1 [2024-01-16, 2026-01-01), then family from 2026-01-01, a
  downgrade with reason rule_change, rulebook raise_star1_35000 (the rulebook in force on valid_from).
* R2 — 36 000: star1 under both (≥ 35 000): one row from 2024-01-16, never split, rulebook handbook_2026.
* R3 — 50 000: star2 under both (45 000 ≤ 50 000 < 150 000): one row, never split.
* R4 — 20 000: family under both: one row, never split.

handbook_2026 now ends where the new rulebook starts: effective_until 2026-01-01 (exclusive: its last day is
2025-12-31), and dim_rulebook lists both; dim_tier_threshold has the new rulebook's tiers: the handbook's
(RULES §4: family 0, star1 30 000, star2 45 000, star3 150 000, star4 300 000, star5 500 000) with star1 from
35 000, so family up to 35 000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.lib.publish import current_snapshot
from tests.conftest import REPO_ROOT, query
from tests.test_e2e_rules import _customer, _new_business, _policy
from vipwh.cli import main
from vipwh.landing import write_batch

PROPOSAL = REPO_ROOT / "data" / "scenarios" / "raise_star1_35000.yaml"
PREMIUMS = {"R1": "32000.00", "R2": "36000.00", "R3": "50000.00", "R4": "20000.00"}


def _book(landing: Path) -> None:
    write_batch(
        landing,
        "2026-11-23",
        {
            "customers.csv": [_customer(holder) for holder in PREMIUMS],
            "policies.csv": [
                _policy(f"P{holder}", holder, "whole_life", "annual", 10, premium, "2024-01-01", "2024-01-15")
                for holder, premium in PREMIUMS.items()
            ],
            "policy_transactions.csv": [
                _new_business(f"T{holder}", f"P{holder}", premium, "2024-01-01") for holder, premium in PREMIUMS.items()
            ],
        },
    )


def _history(warehouse: Path) -> list[tuple]:
    return query(
        current_snapshot(warehouse),
        """
        select holder_id, valid_from, valid_to, tier_code, rated_premium, change_type, change_reason, rulebook_id
        from marts.fct_member_tier_history order by holder_id, valid_from""",
    )


def _adopt(warehouse: Path, proposal: Path = PROPOSAL, effective_from: str = "2026-01-01") -> int:
    return main(["rulebook", "adopt", str(proposal), "--effective-from", effective_from, "--warehouse", str(warehouse)])


@pytest.fixture(scope="module")
def adopted(tmp_path_factory) -> tuple[Path, list[tuple], str]:
    """The warehouse built, the proposal adopted from 2026-01-01, built again; the history before adoption."""
    root = tmp_path_factory.mktemp("rulebook")
    _book(root / "landing")
    warehouse = root / "wh.duckdb"
    build = ["build", "--landing", str(root / "landing"), "--warehouse", str(warehouse), "--quiet"]
    assert main(build) == 0
    before = _history(warehouse)
    assert _adopt(warehouse) == 0
    assert main(build) == 0
    return warehouse, before, current_snapshot(warehouse)


START = date(2024, 1, 16)
CHANGE = date(2026, 1, 1)


def test_before_adoption_the_handbook_rates_every_row(adopted):
    _, before, _ = adopted
    assert before == [
        ("R1", START, None, "star1", Decimal("32000"), "join", "new_business", "handbook_2026"),
        ("R2", START, None, "star1", Decimal("36000"), "join", "new_business", "handbook_2026"),
        ("R3", START, None, "star2", Decimal("50000"), "join", "new_business", "handbook_2026"),
        ("R4", START, None, "family", Decimal("20000"), "join", "new_business", "handbook_2026"),
    ]


def test_the_next_build_re_rates_from_the_date_splitting_only_where_the_tier_changes(adopted):
    warehouse, _, _ = adopted
    assert _history(warehouse) == [
        ("R1", START, CHANGE, "star1", Decimal("32000"), "join", "new_business", "handbook_2026"),
        ("R1", CHANGE, None, "family", Decimal("32000"), "downgrade", "rule_change", "raise_star1_35000"),
        ("R2", START, None, "star1", Decimal("36000"), "join", "new_business", "handbook_2026"),
        ("R3", START, None, "star2", Decimal("50000"), "join", "new_business", "handbook_2026"),
        ("R4", START, None, "family", Decimal("20000"), "join", "new_business", "handbook_2026"),
    ]
    assert query(
        current_snapshot(warehouse), "select holder_id, tier_code from marts.dim_member order by holder_id"
    ) == [("R1", "family"), ("R2", "star1"), ("R3", "star2"), ("R4", "family")]


def test_dim_rulebook_lists_the_adopted_rulebook_and_the_previous_one_closed(adopted):
    warehouse, _, _ = adopted
    assert query(
        current_snapshot(warehouse),
        "select rulebook_id, effective_from, effective_until from marts.dim_rulebook order by effective_from",
    ) == [
        ("handbook_2026", date(1900, 1, 1), CHANGE),
        ("raise_star1_35000", CHANGE, None),
    ]
    # the tiers in force on the as-of date: the handbook's, star1 from 35 000 (family up to it)
    assert query(
        current_snapshot(warehouse),
        """select tier_code, lower_bound, upper_bound from marts.dim_tier_threshold
           where rulebook_effective_from <= date '2026-11-23'
             and (rulebook_effective_until is null or rulebook_effective_until > date '2026-11-23')
           order by tier_rank""",
    ) == [
        ("family", Decimal("0"), Decimal("35000")),
        ("star1", Decimal("35000"), Decimal("45000")),
        ("star2", Decimal("45000"), Decimal("150000")),
        ("star3", Decimal("150000"), Decimal("300000")),
        ("star4", Decimal("300000"), Decimal("500000")),
        ("star5", Decimal("500000"), None),
    ]


def test_what_cannot_be_adopted_is_refused_and_nothing_is_written(adopted, tmp_path: Path, capsys):
    warehouse, _, snapshot = adopted
    capsys.readouterr()
    assert _adopt(warehouse) == 2  # adopted already
    assert "'raise_star1_35000' is an existing rulebook" in capsys.readouterr().err
    services = REPO_ROOT / "data" / "scenarios" / "star2_dental_relative.yaml"  # adds a service
    assert _adopt(warehouse, services, "2027-01-01") == 2
    assert "adds services (dental_cleaning_relative)" in capsys.readouterr().err
    stale = tmp_path / "stale.yaml"  # based on the handbook, which is no longer the latest rulebook
    stale.write_text("id: star1_33000\nbase_rulebook: handbook_2026\ntier_thresholds: {star1: 33000}\n")
    assert _adopt(warehouse, stale, "2027-01-01") == 2
    assert "the latest rulebook is raise_star1_35000" in capsys.readouterr().err
    early = tmp_path / "early.yaml"  # on the latest, but not after it took effect
    early.write_text("id: star1_36000\nbase_rulebook: raise_star1_35000\ntier_thresholds: {star1: 36000}\n")
    assert _adopt(warehouse, early, "2025-06-01") == 2
    assert "is not after raise_star1_35000 took effect (2026-01-01)" in capsys.readouterr().err
    assert _adopt(tmp_path / "nowhere.duckdb") == 1
    assert "no warehouse at" in capsys.readouterr().err
    assert query(warehouse, "select rulebook_id from raw.adopted_rulebooks") == [("raise_star1_35000",)]
    assert current_snapshot(warehouse) == snapshot
