"""The extract contract (CONTRACT.md §1) as data: files, keys, columns, types and code lists.

One place for the generator, the ingest validation and the tests. Service codes are not listed here:
the service catalogue is a rule table (dbt seed ``services.csv``), read by :func:`service_codes`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_SEED = REPO_ROOT / "dbt_project" / "seeds" / "benefits" / "services.csv"

GENDERS = ("M", "F")
PRODUCT_CATEGORIES = (
    "whole_life",
    "term_life",
    "annuity",
    "critical_illness",
    "endowment",
    "participating",
    "universal",
    "medical",
    "accident",
    "other",
)
PAYMENT_MODES = ("annual", "semi_annual", "quarterly", "monthly", "single")
POLICY_STATUSES = (
    "in_force",
    "free_look_cancelled",
    "surrendered",
    "lapsed",
    "reduced_paid_up",
    "premium_waived",
    "terminated",
)
TXN_TYPES = (
    "new_business",
    "free_look_cancel",
    "surrender",
    "lapse",
    "reinstate",
    "reduced_paid_up",
    "premium_waiver",
    "terminate",
    "add_coverage",
    "reduce_coverage",
    "add_rider",
    "top_up",
)
STATUS_TXN_TYPES = (
    "free_look_cancel",
    "surrender",
    "lapse",
    "reinstate",
    "reduced_paid_up",
    "premium_waiver",
    "terminate",
)
RELATIONS = ("spouse", "parent", "child", "other")
BENEFICIARY_RELATIONS = ("self", "spouse", "parent", "child", "other")
USAGE_STATUSES = ("booked", "completed", "cancelled", "no_show")


@dataclass(frozen=True)
class Column:
    """One extract column: its name, warehouse type, and whether it must be present."""

    name: str
    type: str  # varchar, date, timestamp, integer, decimal, flag
    required: bool = False
    codes: tuple[str, ...] | None = None  # allowed values, when a code list
    non_negative: bool = False


@dataclass(frozen=True)
class ExtractFile:
    name: str  # file name in the batch folder, e.g. "policies.csv"
    table: str  # raw table name
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str = "varchar", **kw) -> Column:
    return Column(name, type_, **kw)


EXTRACT_FILES: tuple[ExtractFile, ...] = (
    ExtractFile(
        "customers.csv",
        "customers",
        ("holder_id",),
        (
            _c("holder_id", required=True),
            _c("gender", codes=GENDERS),
            _c("birth_date", "date"),
            _c("province"),
            _c("city"),
            _c("id_number"),
        ),
    ),
    ExtractFile(
        "policies.csv",
        "policies",
        ("policy_no", "coverage_no"),
        (
            _c("policy_no", required=True),
            _c("coverage_no", "integer", required=True, non_negative=True),
            _c("holder_id", required=True),
            _c("insured_id"),
            _c("product_code"),
            _c("product_category", required=True, codes=PRODUCT_CATEGORIES),
            _c("is_group", "flag", required=True),
            _c("coverage_term_months", "integer", non_negative=True),
            _c("payment_mode", required=True, codes=PAYMENT_MODES),
            _c("payment_years", "integer", non_negative=True),
            _c("modal_premium", "decimal", required=True, non_negative=True),
            _c("effective_date", "date", required=True),
            _c("free_look_end_date", "date"),
            _c("status", required=True, codes=POLICY_STATUSES),
            _c("status_date", "date"),
        ),
    ),
    ExtractFile(
        "policy_transactions.csv",
        "policy_transactions",
        ("txn_id",),
        (
            _c("txn_id", required=True),
            _c("policy_no", required=True),
            _c("coverage_no", "integer", non_negative=True),
            _c("txn_type", required=True, codes=TXN_TYPES),
            _c("effective_date", "date", required=True),
            _c("modal_premium_after", "decimal", non_negative=True),
            _c("amount", "decimal", non_negative=True),
            _c("recorded_at", "timestamp", required=True),
        ),
    ),
    ExtractFile(
        "relatives.csv",
        "relatives",
        ("relative_id",),
        (
            _c("relative_id", required=True),
            _c("holder_id", required=True),
            _c("relation", required=True, codes=RELATIONS),
        ),
    ),
    ExtractFile(
        "service_activations.csv",
        "service_activations",
        ("holder_id", "service_code"),
        (
            _c("holder_id", required=True),
            _c("service_code", required=True, codes=None),  # checked against the service catalogue
            _c("activated_at", "date", required=True),
        ),
    ),
    ExtractFile(
        "service_usage.csv",
        "service_usage",
        ("usage_id",),
        (
            _c("usage_id", required=True),
            _c("holder_id", required=True),
            _c("beneficiary_id"),
            _c("beneficiary_relation", codes=BENEFICIARY_RELATIONS),
            _c("service_code", required=True, codes=None),  # checked against the service catalogue
            _c("variant"),
            _c("service_date", "date", required=True),
            _c("quantity", "decimal", required=True, non_negative=True),
            _c("status", required=True, codes=USAGE_STATUSES),
            _c("vendor"),
            _c("cost_amount", "decimal", non_negative=True),
            _c("updated_at", "timestamp"),
        ),
    ),
)

FILES_BY_NAME = {f.name: f for f in EXTRACT_FILES}

SERVICE_CODE_COLUMNS = {("service_activations.csv", "service_code"), ("service_usage.csv", "service_code")}


@cache
def service_codes(seed_path: Path = SERVICES_SEED) -> tuple[str, ...]:
    """Service codes of the catalogue seed (every rulebook's services)."""
    with seed_path.open(encoding="utf-8") as fh:
        return tuple(row["service_code"] for row in csv.DictReader(fh))
