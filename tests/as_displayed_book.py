"""A hand-made book for the tests that read figures as people see them (dashboard, MetricFlow, notebooks).

As of 2026-06-30 (the one batch's extract date), rulebook handbook_2026. Worked out by hand from RULES.md:

* HA — whole life, annual 200 000 × 20 years from 2025-01-01, free look to 2025-01-15: 200 000 × 1 from
  2025-01-16 → star3 (150 000 ≤ 200 000 < 300 000), current; the slice counts until 2045-01-01.
* HB — whole life, annual 50 000 × 10 years, same dates: 50 000 × 1 → star2 from 2025-01-16.
* HC — whole life, annual 20 000 × 20 years, same dates: 20 000 → family from 2025-01-16.
* HD — annuity, single premium 5 000 000 from 2024-08-01, free look to 2024-08-15: × 0.1 = 500 000 → star5
  from 2024-08-16 until 2026-08-16 (two years), then 0 → family (the annuity stays in force): the drop on
  2026-08-16 is 47 days after the as-of date (inside 90 days), reason single_premium_window_ended.
* HE — whole life, annual 200 000 × 20 years from 2026-03-01, free look to 2026-03-15 → star3 from 2026-03-16.

Exposure in 2026 (365 days), counted through the as-of date: 1 Jan – 30 Jun = 31+28+31+30+31+30 = 181 days.
  star3: HA 181 + HE 16+30+31+30 = 107 → 288 days → 288/365 = 0.789041 member-years, 2 members
  star2: HB 181 → 0.495890; family: HC 181 → 0.495890; star5: HD 181 → 0.495890; 1 member each.
  All tiers: 831 days → 2.276712 (sum of the rounded rows 2.276711).
Uses in 2026 (all completed):
  HA limousine 2026-03-01, 300.00 (star3 quota 1: first, compliant); HA health_checkup 2026-04-01, 800.00
  (star3 quota 1, compliant); HE limousine 2026-05-01, 300.00 (compliant); HB dental_cleaning 2026-02-01,
  150.00 (star2 quota 1, compliant); HC limousine 2026-02-10, 300.00 (family is not entitled: non-compliant).
  Cost per tier: star3 1 400, star2 150, family 300, star5 0; all 1 850; non-compliant 300.
Cost per member-year 2026:
  star3 1 400 ÷ 0.789041 = 1 774.31; star2 150 ÷ 0.495890 = 302.49; family 300 ÷ 0.495890 = 604.97;
  star5 0.00; all tiers 1 850 ÷ 2.276711 = 812.58 (exactly 1 850 × 365 / 831 = 812.575…).
  (Summing member_years over service rows, the old bug, would divide by many times the exposure.)
Utilization 2026 at star3: limousine 2 rides ÷ (quota 1 × 0.789041) = 253.5%; health_checkup 1 ÷ 0.789041 =
  126.7%. Members today: family 1, star2 1, star3 2, star5 1.
HA's entitlements 2026: limousine quota 1, consumed 1, remaining 0; health_checkup 1, 1, 0; lounge 2, 0, 2.
"""

from __future__ import annotations

from pathlib import Path

from vipwh.landing import write_batch

AS_OF = "2026-06-30"
HOLDERS = ("HA", "HB", "HC", "HD", "HE")


def _customer(holder_id: str, number: int) -> dict:
    return dict(
        holder_id=holder_id,
        gender="F",
        birth_date="1970-05-01",
        province="广东省",
        city="广州市",
        id_number=f"44010119700501{number:03d}X",
    )


def _policy(policy_no, holder_id, category, mode, years, premium, effective, free_look_end):
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
        effective_date=effective,
        free_look_end_date=free_look_end,
        status="in_force",
        status_date=effective,
    )


POLICIES = [
    _policy("PA", "HA", "whole_life", "annual", 20, "200000.00", "2025-01-01", "2025-01-15"),
    _policy("PB", "HB", "whole_life", "annual", 10, "50000.00", "2025-01-01", "2025-01-15"),
    _policy("PC", "HC", "whole_life", "annual", 20, "20000.00", "2025-01-01", "2025-01-15"),
    _policy("PD", "HD", "annuity", "single", "", "5000000.00", "2024-08-01", "2024-08-15"),
    _policy("PE", "HE", "whole_life", "annual", 20, "200000.00", "2026-03-01", "2026-03-15"),
]


def _use(usage_id, holder_id, service_code, service_date, cost):
    return dict(
        usage_id=usage_id,
        holder_id=holder_id,
        beneficiary_id="",
        beneficiary_relation="self",
        service_code=service_code,
        variant="",
        service_date=service_date,
        quantity="1",
        status="completed",
        vendor="供应商",
        cost_amount=cost,
        updated_at=f"{service_date} 12:00:00",
    )


USES = [
    _use("UA1", "HA", "limousine", "2026-03-01", "300.00"),
    _use("UA2", "HA", "health_checkup", "2026-04-01", "800.00"),
    _use("UE1", "HE", "limousine", "2026-05-01", "300.00"),
    _use("UB1", "HB", "dental_cleaning", "2026-02-01", "150.00"),
    _use("UC1", "HC", "limousine", "2026-02-10", "300.00"),
]


def write_book(landing: Path) -> Path:
    write_batch(
        landing,
        AS_OF,
        {
            "customers.csv": [_customer(holder, number) for number, holder in enumerate(HOLDERS, start=1)],
            "policies.csv": POLICIES,
            "policy_transactions.csv": [
                dict(
                    txn_id=f"T{policy['policy_no']}",
                    policy_no=policy["policy_no"],
                    coverage_no=0,
                    txn_type="new_business",
                    effective_date=policy["effective_date"],
                    modal_premium_after=policy["modal_premium"],
                    recorded_at=f"{policy['effective_date']} 10:00:00",
                )
                for policy in POLICIES
            ],
            "service_usage.csv": USES,
        },
    )
    return landing
