"""Data-quality checks: on a tiny hand-made warehouse every check passes; break one thing and exactly the
check that guards it fails. Rows are worked out by hand from RULES.md (§2 coefficients, §3 exclusions,
§4 tiers, §6 entitlements) and CONTRACT.md (the ledger).

The rule invariants are dbt tests (dbt_project/tests/quality/): the session compiles them once with dbt
against the hand-made warehouse (after `dbt seed` of the handbook fixture and `dbt run` of the status view
they read), then each broken copy runs the compiled SQL, which returns the offending rows exactly as
`dbt test` counts them; one test runs `dbt test` itself. The great-expectations checks run through
quality.run_check."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.lib import quality
from dagster_project.lib.warehouse import create_raw_tables
from tests.conftest import dbt

SCHEMA = """
create schema staging;
create schema marts;
create schema rules;

create table staging.stg_core__policies (
    policy_no varchar, coverage_no integer, holder_id varchar, product_category varchar, is_group boolean,
    coverage_term_months integer, payment_mode varchar, payment_years integer, modal_premium decimal(18, 2),
    effective_date date, free_look_end_date date, status varchar, status_date date
);
create table staging.stg_core__policy_transactions (
    txn_id varchar, policy_no varchar, coverage_no integer, txn_type varchar, effective_date date,
    modal_premium_after decimal(18, 2), amount decimal(18, 2), recorded_at timestamp
);
create table marts.fct_policy_rating (
    holder_id varchar, policy_no varchar, coverage_no integer, slice_kind varchar, base_amount decimal(18, 2),
    coefficient decimal(9, 4), rated_amount decimal(18, 2), counts_from date, counts_until date,
    excluded_reason varchar, rulebook_id varchar
);
create table marts.fct_member_rated_premium_history (
    holder_id varchar, valid_from date, valid_to date, rated_premium decimal(18, 2)
);
create table marts.fct_member_tier_history (
    holder_id varchar, valid_from date, valid_to date, tier_code varchar, tier_rank integer,
    rated_premium decimal(18, 2), previous_tier_code varchar, change_type varchar, change_reason varchar,
    rulebook_id varchar
);
create table rules.tier_thresholds (
    rulebook_id varchar, tier_code varchar, tier_rank integer, tier_name_zh varchar,
    lower_bound decimal(18, 2), upper_bound decimal(18, 2)
);
create table marts.dim_rulebook (rulebook_id varchar, effective_from date, effective_until date, description varchar);
create table marts.dim_entitlement (
    rulebook_id varchar, service_code varchar, tier_code varchar, variant varchar, quota_kind varchar,
    quota integer, quota_group varchar
);
create table marts.fct_benefit_usage (
    usage_id varchar, holder_id varchar, service_code varchar, service_date date, tier_code_at_service varchar,
    is_entitled_tier boolean
);
"""

# policy_no, coverage_no, holder, category, group, term months, mode, Y, modal premium, effective, free look end,
# status, status date
POLICIES = """
insert into staging.stg_core__policies values
    ('P1', 0, 'H1', 'whole_life', false, null, 'annual', 20, 20000,
      '2024-03-01', '2024-03-15', 'in_force', '2024-03-01'),
    ('P2', 0, 'H1', 'endowment', false, 120, 'monthly', 5, 3000,
      '2024-06-01', '2024-06-15', 'in_force', '2024-06-01'),
    ('P3', 0, 'H2', 'universal', false, null, 'single', null, 1000000,
      '2025-01-10', '2025-01-24', 'in_force', '2025-01-10'),
    ('P4', 0, 'H3', 'annuity', false, null, 'single', null, 5000000,
      '2025-01-10', '2025-01-24', 'in_force', '2025-01-10'),
    ('P4', 1, 'H3', 'participating', false, 240, 'single', null, 100000,
      '2025-01-10', '2025-01-24', 'in_force', '2025-01-10'),
    ('P5', 0, 'H2', 'medical', true, 12, 'annual', 1, 500, '2025-01-01', null, 'in_force', '2025-01-01'),
    ('P6', 0, 'H2', 'accident', false, 6, 'single', null, 200, '2025-01-01', null, 'in_force', '2025-01-01'),
    ('P7', 0, 'H2', 'critical_illness', false, null, 'annual', 10, 8000,
      '2025-02-01', '2025-02-15', 'free_look_cancelled', '2025-02-10'),
    ('P8', 0, 'H4', 'term_life', false, 240, 'quarterly', 15, 1000,
      '2023-01-01', '2023-01-15', 'in_force', '2025-04-01'),
    ('P8', 1, 'H4', 'medical', false, 12, 'annual', 1, 600,
      '2023-01-01', '2023-01-15', 'in_force', '2025-04-01'),
    ('P9', 0, 'H4', 'whole_life', false, null, 'annual', 10, 12000,
      '2022-05-01', '2022-05-15', 'surrendered', '2025-06-01'),
    ('P9', 1, 'H4', 'critical_illness', false, 240, 'annual', 8, 2000,
      '2022-05-01', '2022-05-15', 'surrendered', '2025-06-01');
"""

TRANSACTIONS = """
insert into staging.stg_core__policy_transactions values
    ('T1', 'P1', 0, 'new_business', '2024-03-01', 20000, null, '2024-03-01 10:00:00'),
    ('T3', 'P3', 0, 'top_up', '2025-03-01', null, 50000, '2025-03-01 10:00:00'),
    ('T7', 'P7', 0, 'new_business', '2025-02-01', 8000, null, '2025-02-01 10:00:00'),
    ('T7b', 'P7', 0, 'free_look_cancel', '2025-02-10', null, null, '2025-02-10 10:00:00'),
    ('T8', 'P8', null, 'lapse', '2025-01-01', null, null, '2025-01-05 10:00:00'),
    ('T8b', 'P8', null, 'reinstate', '2025-04-01', null, null, '2025-04-01 10:00:00'),
    ('T9', 'P9', null, 'surrender', '2025-06-01', null, null, '2025-06-20 10:00:00');
"""

# RULES §2 by hand: P2 monthly 3 000 × 12, Y = 5 → 0.5; P3 universal single 0.02 (its top-up too); P4 annuity 0.1,
# participating 0.03; P8 Y = 15 → 1, lapsed 2025-01-01 … reinstated 2025-04-01; P8/1 one-year term 1;
# P9 surrendered (whole policy) 2025-06-01, P9/1 Y = 8 → 0.8. P5 group, P6 six months, P7 free-look cancelled.
RATING = """
insert into marts.fct_policy_rating values
    ('H1', 'P1', 0, 'regular', 20000, 1, 20000, '2024-03-16', '2044-03-01', null, 'handbook_2026'),
    ('H1', 'P1', 0, 'regular', 20000, 0.7, 14000, '2027-01-01', '2044-03-01', null, 'rules_2027'),
    ('H1', 'P2', 0, 'regular', 36000, 0.5, 18000, '2024-06-16', '2029-06-01', null, 'handbook_2026'),
    ('H2', 'P3', 0, 'single', 1000000, 0.02, 20000, '2025-01-25', '2027-01-25', null, 'handbook_2026'),
    ('H2', 'P3', 0, 'top_up', 50000, 0.02, 1000, '2025-03-01', '2027-03-01', null, 'handbook_2026'),
    ('H3', 'P4', 0, 'single', 5000000, 0.1, 500000, '2025-01-25', '2027-01-25', null, 'handbook_2026'),
    ('H3', 'P4', 1, 'single', 100000, 0.03, 3000, '2025-01-25', '2027-01-25', null, 'handbook_2026'),
    ('H2', 'P5', 0, 'one_year', 500, 1, 500, '2025-01-01', '2026-01-01', 'group', 'handbook_2026'),
    ('H2', 'P6', 0, 'single', 200, 0.1, 20, '2025-01-01', '2025-07-01', 'term_under_12_months', 'handbook_2026'),
    ('H2', 'P7', 0, 'regular', 8000, 1, 8000, '2025-02-16', '2035-02-01', 'free_look_cancelled', 'handbook_2026'),
    ('H4', 'P8', 0, 'regular', 4000, 1, 4000, '2023-01-16', '2025-01-01', null, 'handbook_2026'),
    ('H4', 'P8', 0, 'regular', 4000, 1, 4000, '2025-01-01', '2025-04-01', 'lapsed', 'handbook_2026'),
    ('H4', 'P8', 0, 'regular', 4000, 1, 4000, '2025-04-01', '2038-01-01', null, 'handbook_2026'),
    ('H4', 'P8', 1, 'one_year', 600, 1, 600, '2023-01-16', '2024-01-01', null, 'handbook_2026'),
    ('H4', 'P9', 0, 'regular', 12000, 1, 12000, '2022-05-16', '2025-06-01', null, 'handbook_2026'),
    ('H4', 'P9', 1, 'regular', 2000, 0.8, 1600, '2022-05-16', '2025-06-01', null, 'handbook_2026');
"""

# RULES §4 and §7 examples 1, 2 and 4.
TIERS = """
insert into rules.tier_thresholds values
    ('handbook_2026', 'family', 0, '家人', 0, 30000),
    ('handbook_2026', 'star1', 1, '一星', 30000, 45000),
    ('handbook_2026', 'star2', 2, '二星', 45000, 150000),
    ('handbook_2026', 'star3', 3, '三星', 150000, 300000),
    ('handbook_2026', 'star4', 4, '四星', 300000, 500000),
    ('handbook_2026', 'star5', 5, '五星', 500000, null);
insert into marts.fct_member_rated_premium_history values
    ('H1', '2024-03-16', '2024-06-16', 20000),
    ('H1', '2024-06-16', null, 38000),
    ('H3', '2025-01-25', '2027-01-25', 503000),
    ('H3', '2027-01-25', null, 0);
insert into marts.fct_member_tier_history values
    ('H1', '2024-03-16', '2024-06-16', 'family', 0, 20000, null, 'join', 'new_business', 'handbook_2026'),
    ('H1', '2024-06-16', null, 'star1', 1, 38000, 'family', 'upgrade', 'new_business', 'handbook_2026'),
    ('H3', '2025-01-25', '2027-01-25', 'star5', 5, 503000, null, 'join', 'new_business', 'handbook_2026'),
    ('H3', '2027-01-25', null, 'family', 0, 0, 'star5', 'downgrade', 'single_premium_window_ended',
     'handbook_2026');
"""

# RULES §6, one line per dim_entitlement row: service tier variant quota_kind quota quota_group ("-" = null).
ENTITLEMENT_ROWS = """
vip_hotline star1 - unlimited - -
vip_hotline star2 - unlimited - -
vip_hotline star3 - unlimited - -
vip_hotline star4 - unlimited - -
vip_hotline star5 - unlimited - -
legal_consult star3 - per_year 1 -
legal_consult star4 - per_year 1 -
legal_consult star5 - per_year 1 -
limousine star2 - per_year 1 -
limousine star3 - per_year 1 -
limousine star4 - per_year 1 -
limousine star5 - per_year 2 -
lounge star2 - per_year 2 -
lounge star3 - per_year 2 -
lounge star4 - per_year 3 -
lounge star5 - per_year 3 -
health_checkup star2 star2 per_year 1 health_checkup
health_checkup star3 star2 per_year 1 health_checkup
health_checkup star3 star3 per_year 1 health_checkup
health_checkup star4 star2 per_year 1 health_checkup
health_checkup star4 star3 per_year 1 health_checkup
health_checkup star4 star4 per_year 1 health_checkup
health_checkup star5 star2 per_year 1 health_checkup
health_checkup star5 star3 per_year 1 health_checkup
health_checkup star5 star4 per_year 1 health_checkup
health_checkup star5 star5 per_year 1 health_checkup
gi_endoscopy star4 - once 1 -
gi_endoscopy star5 - once 1 -
dental_cleaning star1 - per_year 1 -
dental_cleaning star2 - per_year 1 -
dental_cleaning star3 - per_year 1 -
dental_cleaning star4 - per_year 1 -
dental_cleaning star5 - per_year 1 -
cell_storage star4 10y once 1 cell_storage
cell_storage star5 10y once 1 cell_storage
cell_storage star5 20y once 1 cell_storage
outpatient_green star3 standard per_year 1 outpatient_green
outpatient_green star4 standard per_year 1 outpatient_green
outpatient_green star4 named_expert per_year 1 outpatient_green
outpatient_green star5 standard per_year 1 outpatient_green
outpatient_green star5 named_expert per_year 1 outpatient_green
elderly_butler star3 - unlimited - -
elderly_butler star4 - unlimited - -
elderly_butler star5 - unlimited - -
home_care star3 nursing per_year 1 home_care
home_care star3 cleaning per_year 1 home_care
home_care star4 nursing per_year 1 -
home_care star4 cleaning per_year 1 -
home_care star5 nursing per_year 1 -
home_care star5 cleaning per_year 1 -
"""
EVERY_TIER = ("family", "star1", "star2", "star3", "star4", "star5")
UNLIMITED_FOR_ALL = (
    "health_assessment",
    "medical_video",
    "health_article",
    "doctor_chat",
    "doctor_video",
    "doctor_phone",
)
ONCE_A_YEAR_FROM_STAR3 = ("hospital_escort", "critical_illness_green", "proton_green", "second_opinion", "mdt_consult")

BENEFITS = """
insert into marts.dim_rulebook values ('handbook_2026', '1900-01-01', null, 'the handbook');
insert into marts.fct_benefit_usage values
    ('U1', 'H1', 'dental_cleaning', '2025-01-10', 'star1', true),
    ('U2', 'H1', 'limousine', '2025-02-10', 'star1', false),
    ('U3', 'H9', 'health_assessment', '2025-03-01', null, false),
    ('U4', 'H3', 'home_care', '2026-01-02', 'star5', true);
"""

LEDGER = """
insert into raw.batches (extract_date, status, files) values ('2026-01-05', 'loaded', 1), ('2026-01-06', 'rejected', 1);
insert into raw.batch_files (extract_date, file_name, rows_in_manifest, rows_in_file, rows_loaded, rows_quarantined)
    values ('2026-01-05', 'customers.csv', 201, 201, 200, 1),
           ('2026-01-06', 'customers.csv', 50, 40, 0, 40);
insert into raw.customers (holder_id, _extract_date, _source_line, _loaded_at)
    select 'C' || cast(range as varchar), date '2026-01-05', range + 2, timestamp '2026-01-05 12:00:00' from range(200);
insert into raw.quarantine values ('2026-01-05', 'customers.csv', 7, 'missing holder_id', '{}', '2026-01-05 12:00:00');
"""


def _entitlement_inserts() -> str:
    rows = [line.split() for line in ENTITLEMENT_ROWS.strip().splitlines()]
    rows += [[service, tier, "-", "unlimited", "-", "-"] for service in UNLIMITED_FOR_ALL for tier in EVERY_TIER]
    rows += [
        [service, tier, "-", "per_year", "1", "-"]
        for service in ONCE_A_YEAR_FROM_STAR3
        for tier in ("star3", "star4", "star5")
    ]

    def literal(value: str) -> str:
        return "null" if value == "-" else f"'{value}'"

    values = ",\n".join(f"('handbook_2026', {', '.join(literal(v) for v in row)})" for row in rows)
    return f"insert into marts.dim_entitlement values\n{values};"


QUALITY_TESTS = "path:tests/quality"


@dataclass(frozen=True)
class DbtTest:
    name: str
    severity: str  # blocking | warning
    asset: str  # the model its dagster check is attached to
    sql: str  # compiled


@dataclass(frozen=True)
class Failure:
    check_name: str
    severity: str
    failing_rows: int
    rows: list[dict]
    message: str = ""


def _compile(warehouse: Path, *extra: str) -> dict[str, DbtTest]:
    compiled = dbt(warehouse, "compile", "--select", QUALITY_TESTS, *extra)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    target = warehouse.parent / "dbt_target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    tests = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node["original_file_path"].startswith("tests/quality/"):
            continue
        ref = (node["config"].get("meta") or {}).get("dagster", {}).get("ref", {}).get("name")
        if ref is None:
            [parent] = node["depends_on"]["nodes"]
            ref = parent.split(".")[-1]
        sql = (target / "compiled" / "vipwh" / node["original_file_path"]).read_text(encoding="utf-8")
        tests[node["name"]] = DbtTest(
            node["name"], "blocking" if node["config"]["severity"].upper() == "ERROR" else "warning", ref, sql
        )
    return tests


@pytest.fixture(scope="session")
def clean_warehouse(tmp_path_factory) -> Path:
    # every copy keeps the file name: the compiled SQL names the catalog ("warehouse")
    path = tmp_path_factory.mktemp("quality") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        for sql in (SCHEMA, POLICIES, TRANSACTIONS, RATING, TIERS, _entitlement_inserts(), BENEFITS, LEDGER):
            con.execute(sql)
    steps = (
        ("seed", "--select", "handbook_fixture"),
        # the staged thresholds (tier_codes reads every rulebook's): the seed's rows and none adopted
        ("run", "--select", "int_quality__coverage_status_events", "stg_rules__tier_thresholds"),
    )
    for step in steps:
        done = dbt(path, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    return path


@pytest.fixture(scope="session")
def dbt_tests(clean_warehouse: Path) -> dict[str, DbtTest]:
    return _compile(clean_warehouse)


@pytest.fixture
def warehouse(clean_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(clean_warehouse, copy)
    return copy


def _break(path: Path, sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def _run_dbt_test(path: Path, test: DbtTest) -> Failure | None:
    """The offending rows of one compiled dbt test on the warehouse; None when there are none."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            cursor = con.execute(test.sql)
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        return Failure(test.name, test.severity, 0, [], f"query failed: {exc}")
    return Failure(test.name, test.severity, len(rows), rows) if rows else None


def _failed(path: Path, tests: dict[str, DbtTest], settings: quality.Settings | None = None) -> dict[str, Failure]:
    failures = {name: failure for name, test in tests.items() if (failure := _run_dbt_test(path, test))}
    for result in quality.run_checks(quality.CHECKS, path, settings):
        if not result.passed:
            failures[result.check_name] = Failure(
                result.check_name, result.severity, result.failing_rows, result.sample, result.message
            )
    return failures


# today's checks and their severity; each is a dbt test or a GX check, none dropped
SEVERITIES = {
    "coefficients": "blocking",
    "exclusions": "blocking",
    "tier_thresholds": "blocking",
    "tier_codes": "blocking",
    "tier_intervals": "blocking",
    "rated_premium_intervals": "blocking",
    "tier_premium_agreement": "blocking",
    "entitlement_matrix": "blocking",
    "usage_entitlement": "blocking",
    "status_transitions": "warning",
    "policy_status": "warning",
    "batch_reconciliation": "blocking",
    "quarantine_rate": "warning",
    "no_national_id_in_clear": "blocking",  # tests/test_hardening.py tests what it finds
}
ATTACHED_TO = {
    "coefficients": "fct_policy_rating",
    "exclusions": "fct_policy_rating",
    "tier_thresholds": "tier_thresholds",
    "tier_codes": "fct_member_tier_history",
    "tier_intervals": "fct_member_tier_history",
    "rated_premium_intervals": "fct_member_rated_premium_history",
    "tier_premium_agreement": "fct_member_tier_history",
    "entitlement_matrix": "dim_entitlement",
    "usage_entitlement": "fct_benefit_usage",
    "status_transitions": "stg_core__policy_transactions",
    "policy_status": "stg_core__policies",
    "batch_reconciliation": "dq_batch_ledger",
}


def test_every_check_is_a_dbt_test_or_a_gx_check_with_its_severity(dbt_tests: dict[str, DbtTest]):
    assert set(dbt_tests) | set(quality.CHECKS_BY_NAME) == set(SEVERITIES)
    assert not set(dbt_tests) & set(quality.CHECKS_BY_NAME)
    assert {name: test.severity for name, test in dbt_tests.items()} == {
        name: severity for name, severity in SEVERITIES.items() if name in dbt_tests
    }
    assert {name: check.severity for name, check in quality.CHECKS_BY_NAME.items()} == {
        name: severity for name, severity in SEVERITIES.items() if name in quality.CHECKS_BY_NAME
    }
    assert {name: test.asset for name, test in dbt_tests.items()} == ATTACHED_TO


def test_every_check_passes_on_the_clean_warehouse(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    assert {name: (f.message, f.rows[:3]) for name, f in _failed(warehouse, dbt_tests).items()} == {}
    results = quality.run_checks(quality.CHECKS, warehouse)
    assert all(r.passed and r.failing_rows == 0 and r.sample == [] for r in results)


BREAKS = {
    # RULES §2: a Y = 5 regular slice at 0.2 instead of 5/10 (a wrong seed would give this)
    "coefficient_copy_at_0.2": (
        "coefficients",
        """
        insert into marts.fct_policy_rating
        select * replace (0.2 as coefficient) from marts.fct_policy_rating where policy_no = 'P2'""",
    ),
    "universal_single_at_0.1": (
        "coefficients",
        """
        update marts.fct_policy_rating set coefficient = 0.1 where policy_no = 'P3' and slice_kind = 'single'""",
    ),
    "top_up_not_the_single_coefficient": (
        "coefficients",
        """
        update marts.fct_policy_rating set coefficient = 1 where slice_kind = 'top_up'""",
    ),
    "unknown_slice_kind": (
        "coefficients",
        """
        update marts.fct_policy_rating set slice_kind = 'bonus' where policy_no = 'P4' and coverage_no = 1""",
    ),
    # RULES §3
    "group_policy_counts": (
        "exclusions",
        """
        update marts.fct_policy_rating set excluded_reason = null where policy_no = 'P5'""",
    ),
    "six_month_cover_counts": (
        "exclusions",
        """
        update marts.fct_policy_rating set excluded_reason = null where policy_no = 'P6'""",
    ),
    "free_look_cancelled_counts": (
        "exclusions",
        """
        update marts.fct_policy_rating set excluded_reason = null where policy_no = 'P7'""",
    ),
    "counts_into_the_lapse": (
        "exclusions",
        """
        update marts.fct_policy_rating set counts_until = '2025-02-01'
        where policy_no = 'P8' and coverage_no = 0 and counts_from = '2023-01-16'""",
    ),
    "counts_after_whole_policy_surrender": (
        "exclusions",
        """
        update marts.fct_policy_rating set counts_until = '2026-01-01' where policy_no = 'P9' and coverage_no = 1""",
    ),
    # RULES §4
    "threshold_gap": (
        "tier_thresholds",
        "update rules.tier_thresholds set lower_bound = 46000 where tier_code = 'star2'",
    ),
    "threshold_overlap": (
        "tier_thresholds",
        "update rules.tier_thresholds set upper_bound = 310000 where tier_code = 'star3'",
    ),
    "tier_code_off_its_premium": (
        "tier_codes",
        """
        update marts.fct_member_tier_history set tier_code = 'star2' where holder_id = 'H1' and tier_rank = 1""",
    ),
    "tier_rows_overlap": (
        "tier_intervals",
        """
        update marts.fct_member_tier_history set valid_to = '2024-07-01'
        where holder_id = 'H1' and valid_from = '2024-03-16'""",
    ),
    "rated_premium_rows_overlap": (
        "rated_premium_intervals",
        """
        insert into marts.fct_member_rated_premium_history values ('H1', '2030-01-01', '2031-01-01', 38000)""",
    ),
    "tier_premium_disagrees_with_history": (
        "tier_premium_agreement",
        """
        update marts.fct_member_tier_history set rated_premium = 39000 where holder_id = 'H1' and tier_rank = 1""",
    ),
    # RULES §6
    "limousine_star5_once_a_year": (
        "entitlement_matrix",
        """
        update marts.dim_entitlement set quota = 1 where service_code = 'limousine' and tier_code = 'star5'""",
    ),
    "hotline_for_family": (
        "entitlement_matrix",
        """
        insert into marts.dim_entitlement values
            ('handbook_2026', 'vip_hotline', 'family', null, 'unlimited', null, null)""",
    ),
    "home_care_star3_both": (
        "entitlement_matrix",
        """
        update marts.dim_entitlement set quota_group = null
        where service_code = 'home_care' and tier_code = 'star3'""",
    ),
    "star2_may_book_star3_checkup": (
        "entitlement_matrix",
        """
        insert into marts.dim_entitlement values
            ('handbook_2026', 'health_checkup', 'star2', 'star3', 'per_year', 1, 'health_checkup')""",
    ),
    "limousine_at_star1_judged_entitled": (
        "usage_entitlement",
        """
        update marts.fct_benefit_usage set is_entitled_tier = true where usage_id = 'U2'""",
    ),
    "dental_at_family_judged_entitled": (
        "usage_entitlement",
        """
        update marts.fct_benefit_usage set tier_code_at_service = 'family' where usage_id = 'U1'""",
    ),
    # inputs
    "reinstate_without_lapse": (
        "status_transitions",
        """
        insert into staging.stg_core__policy_transactions values
            ('T1b', 'P1', 0, 'reinstate', '2025-01-01', null, null, '2025-01-01 10:00:00')""",
    ),
    "lapse_after_surrender": (
        "status_transitions",
        """
        insert into staging.stg_core__policy_transactions values
            ('T9b', 'P9', null, 'lapse', '2025-07-01', null, null, '2025-07-01 10:00:00')""",
    ),
    "snapshot_status_disagrees": (
        "policy_status",
        "update staging.stg_core__policies set status = 'lapsed' where policy_no = 'P1'",
    ),
    "manifest_disagrees": (
        "batch_reconciliation",
        """
        update raw.batch_files set rows_in_manifest = 202 where extract_date = '2026-01-05'""",
    ),
    "raw_table_lost_a_row": (
        "batch_reconciliation",
        """
        delete from raw.customers where holder_id = 'C7'""",
    ),
    # 6 quarantined of 206 rows = 2.9 %: over 1 %, and 6 rows is at least the 5-row minimum
    "quarantine_rate_over_1_percent": (
        "quarantine_rate",
        """
        update raw.batch_files set rows_in_manifest = 206, rows_in_file = 206, rows_quarantined = 6
        where extract_date = '2026-01-05';
        insert into raw.quarantine values
            ('2026-01-05', 'customers.csv', 8, 'missing holder_id', '{}', '2026-01-05 12:00:00'),
            ('2026-01-05', 'customers.csv', 9, 'missing holder_id', '{}', '2026-01-05 12:00:00'),
            ('2026-01-05', 'customers.csv', 10, 'missing holder_id', '{}', '2026-01-05 12:00:00'),
            ('2026-01-05', 'customers.csv', 11, 'missing holder_id', '{}', '2026-01-05 12:00:00'),
            ('2026-01-05', 'customers.csv', 12, 'missing holder_id', '{}', '2026-01-05 12:00:00')""",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKS))
def test_one_broken_thing_fails_exactly_its_check(warehouse: Path, dbt_tests: dict[str, DbtTest], breakage: str):
    check_name, sql = BREAKS[breakage]
    _break(warehouse, sql)
    failed = _failed(warehouse, dbt_tests)
    assert set(failed) == {check_name}, {name: (f.message, f.rows[:3]) for name, f in failed.items()}
    failure = failed[check_name]
    assert failure.failing_rows >= 1 and failure.rows and "query failed" not in failure.message
    assert failure.severity == SEVERITIES[check_name]
    json.dumps(failure.rows, default=str)


def test_failing_rows_name_the_offending_rows(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    _break(warehouse, BREAKS["coefficient_copy_at_0.2"][1])
    failure = _failed(warehouse, dbt_tests)["coefficients"]
    assert failure.failing_rows == 1
    [row] = failure.rows
    assert (
        row["problem"],
        row["policy_no"],
        row["slice_kind"],
        row["product_category"],
        row["payment_mode"],
        row["payment_years"],
        float(row["coefficient"]),
        float(row["handbook_coefficient"]),
    ) == ("coefficient differs from the handbook", "P2", "regular", "endowment", "monthly", 5, 0.2, 0.5)
    _break(warehouse, BREAKS["counts_into_the_lapse"][1])
    exclusions = _failed(warehouse, dbt_tests)["exclusions"]
    assert exclusions.failing_rows == 1
    assert exclusions.rows[0]["problem"] == "counts after lapse"
    assert exclusions.rows[0]["stop_from"] == date(2025, 1, 1)


def test_stop_periods_after_the_valuation_date_are_not_judged(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    _break(warehouse, BREAKS["counts_after_whole_policy_surrender"][1])
    assert "exclusions" in _failed(warehouse, dbt_tests)
    at_may_31 = _compile(warehouse, "--vars", '{"as_of_date": "2025-05-31"}')
    assert "exclusions" not in _failed(warehouse, at_may_31)


def test_quarantine_threshold_is_configurable(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    _break(warehouse, BREAKS["quarantine_rate_over_1_percent"][1])
    assert set(_failed(warehouse, dbt_tests)) == {"quarantine_rate"}
    assert _failed(warehouse, dbt_tests, quality.Settings(quarantine_rate_max=0.03)) == {}


def test_a_few_bad_rows_in_a_small_file_are_not_a_rate(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    # 3 quarantined of 203 rows = 1.5 %, but fewer than the 5-row minimum: judged as noise
    _break(
        warehouse,
        """
        update raw.batch_files set rows_in_manifest = 203, rows_in_file = 203, rows_quarantined = 3
        where extract_date = '2026-01-05';
        insert into raw.quarantine values
            ('2026-01-05', 'customers.csv', 8, 'missing holder_id', '{}', '2026-01-05 12:00:00'),
            ('2026-01-05', 'customers.csv', 9, 'missing holder_id', '{}', '2026-01-05 12:00:00')""",
    )
    assert _failed(warehouse, dbt_tests) == {}
    assert set(_failed(warehouse, dbt_tests, quality.Settings(quarantine_min_rows=3))) == {"quarantine_rate"}


def test_a_missing_table_fails_with_a_clear_message(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    _break(warehouse, "drop table marts.fct_policy_rating")
    failed = _failed(warehouse, dbt_tests)
    assert set(failed) == {"coefficients", "exclusions"}
    assert "fct_policy_rating does not exist" in failed["coefficients"].message
    _break(warehouse, "drop table raw.batch_files")
    result = quality.run_check(quality.CHECKS_BY_NAME["quarantine_rate"], warehouse)
    assert not result.passed and "raw.batch_files does not exist yet" in result.message


def test_a_missing_warehouse_fails_with_a_clear_message(tmp_path: Path):
    result = quality.run_check(quality.CHECKS[0], tmp_path / "nowhere.duckdb")
    assert not result.passed and "does not exist" in result.message


def test_dbt_test_reports_failing_rows_and_severity(warehouse: Path, dbt_tests: dict[str, DbtTest]):
    _break(warehouse, BREAKS["coefficient_copy_at_0.2"][1] + ";\n" + BREAKS["snapshot_status_disagrees"][1])
    tested = dbt(warehouse, "test", "--select", QUALITY_TESTS)
    assert tested.returncode == 1, tested.stdout + tested.stderr  # an error-severity test failed
    results = json.loads((warehouse.parent / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    outcomes = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in results["results"]
        if r["unique_id"].startswith("test.")
    }
    assert outcomes == {name: ("pass", 0) for name in dbt_tests} | {
        "coefficients": ("fail", 1),
        "policy_status": ("warn", 1),
    }


def test_record_results_writes_rows(tmp_path: Path):
    results = [
        quality.CheckResult(
            "coefficients",
            "marts/fct_policy_rating",
            "blocking",
            False,
            3,
            [{"slice_kind": "regular", "coefficient": 0.2}],
            "pair not equal",
        ),
        quality.CheckResult(
            "not_null_stg_core__customers_holder_id", "staging/stg_core__customers", "blocking", True, 0
        ),
    ]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        assert quality.record_results(con, "build-1", results) == 2
        assert quality.record_results(con, "build-2", results[:1]) == 1
        rows = con.execute(
            """select build_id, check_name, asset_key, severity, passed, failing_rows, cast(sample as varchar),
                      checked_at is not null
               from quality.dq_check_results order by build_id, check_name"""
        ).fetchall()
    assert [row[:6] for row in rows] == [
        ("build-1", "coefficients", "marts/fct_policy_rating", "blocking", False, 3),
        ("build-1", "not_null_stg_core__customers_holder_id", "staging/stg_core__customers", "blocking", True, 0),
        ("build-2", "coefficients", "marts/fct_policy_rating", "blocking", False, 3),
    ]
    assert json.loads(rows[0][6]) == [{"slice_kind": "regular", "coefficient": 0.2}]
    assert all(row[7] for row in rows)


def _run_dagster_checks(path: Path, monkeypatch) -> dg.ExecuteInProcessResult:
    from dagster_project.defs.quality import asset_checks
    from dagster_project.settings import Settings

    monkeypatch.setenv("VIPWH_WAREHOUSE", str(path))
    monkeypatch.delenv("VIPWH_AS_OF", raising=False)
    keys = {check.asset_key for check in quality.CHECKS} | {dep for check in quality.CHECKS for dep in check.deps}
    defs = dg.Definitions(
        assets=[dg.AssetSpec(dg.AssetKey(list(key))) for key in sorted(keys)],
        asset_checks=asset_checks,
        jobs=[
            dg.define_asset_job(
                "quality", selection=dg.AssetSelection.all_asset_checks(), executor_def=dg.in_process_executor
            )
        ],
        resources={"settings": Settings()},
    )
    return defs.resolve_job_def("quality").execute_in_process(
        raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    )


def test_dagster_asset_checks_run_and_convert_to_results(warehouse: Path, monkeypatch):
    result = _run_dagster_checks(warehouse, monkeypatch)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == set(quality.CHECKS_BY_NAME)
    converted = [quality.from_evaluation(e) for e in evaluations]
    assert all(r.passed and r.failing_rows == 0 for r in converted)
    assert {(r.check_name, r.asset_key, r.severity) for r in converted} == {
        (c.name, "/".join(c.asset_key), c.severity) for c in quality.CHECKS
    }


def test_dagster_warning_check_fails_without_failing_the_run_and_is_recorded(warehouse: Path, monkeypatch):
    _break(warehouse, BREAKS["quarantine_rate_over_1_percent"][1])
    result = _run_dagster_checks(warehouse, monkeypatch)
    assert result.success  # a warning does not block
    converted = {r.check_name: r for r in map(quality.from_evaluation, result.get_asset_check_evaluations())}
    assert not converted["quarantine_rate"].passed and converted["quarantine_rate"].severity == "warning"
    assert converted["quarantine_rate"].failing_rows == 1
    assert converted["quarantine_rate"].sample[0]["rows_quarantined"] == 6
    with duckdb.connect(str(warehouse), read_only=True) as con:
        recorded = con.execute(
            "select check_name, severity, passed, failing_rows from quality.dq_check_results order by check_name"
        ).fetchall()
    # every check of the run is recorded by its own step: the warning that failed, and the ID scan that passed
    assert recorded == [("no_national_id_in_clear", "blocking", True, 0), ("quarantine_rate", "warning", False, 1)]


def test_from_evaluation_converts_a_dbt_test_result():
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["staging", "stg_core__customers"]),
        check_name="not_null_stg_core__customers_holder_id",
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"dagster_dbt/failed_row_count": 4},
    )
    assert quality.from_evaluation(evaluation) == quality.CheckResult(
        "not_null_stg_core__customers_holder_id", "staging/stg_core__customers", "blocking", False, 4
    )
