"""A benefit-redesign proposal: a YAML file that changes a base rulebook, validated and turned into rule rows.

The format (docs/scenarios.md has the full description)::

    id: raise_star1_35000            # required: names the scenario (and its rulebook)
    base_rulebook: handbook_2026     # required: the rulebook whose rule rows the proposal starts from
    description: 一星门槛提高到 35 000
    effective_from: 2027-01-01       # the day the rulebook would take effect (recorded with the proposal)
    tier_thresholds: {star1: 35000}  # CNY lower bound per tier (family always starts at 0)
    coefficients:                    # overrides of the conversion table (RULES §2)
      regular: {at_least_10_years: 1, per_year_under_10: 0.08}
      single: {universal: 0.015}     # by product category; '*' = the categories the table does not name
      one_year: 1                    # top-ups follow the single-premium coefficient of their category
    entitlements:                    # quota per service × tier: a positive number a year, once, unlimited, none
      limousine: {star2: none, star5: 3}
    services:                        # new services, with how much they would be used
      dental_cleaning_relative: {name_zh: 亲属洁牙, unit: visit, like: dental_cleaning}
    unit_costs: {dental_cleaning_relative: 150}   # CNY per unit; or {variant: cost, default: cost}

The proposal's rule rows are the base rulebook's rows with the overrides applied (:func:`proposal_rules`);
the scenario models look coefficients, tiers and quotas up in those rows exactly as the rating and benefit
models look them up in the seeds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import yaml

from dagster_project.lib.warehouse import ADOPTED_RULE_TABLES, adopted_table, table_exists
from vipwh.contract import PRODUCT_CATEGORIES

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"

TOP_LEVEL_KEYS = (
    "id",
    "description",
    "base_rulebook",
    "effective_from",
    "tier_thresholds",
    "coefficients",
    "entitlements",
    "services",
    "unit_costs",
)
COEFFICIENT_KEYS = ("regular", "single", "one_year")
REGULAR_KEYS = {"at_least_10_years": "coefficient", "per_year_under_10": "coefficient_per_payment_year"}
NEW_SERVICE_KEYS = ("name_zh", "name_en", "unit", "service_group", "like", "take_up", "units_per_member_year")
OTHER_CATEGORIES = "*"  # the conversion table's 等: every category no row names
DEFAULT_VARIANT = "default"  # unit_costs key for the row of a use that names no variant
REMOVED = ("none", "-", "–")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# Columns of the rule tables, as the seeds have them (the work tables copy the warehouse's types).
RULE_COLUMNS: dict[str, tuple[str, ...]] = {
    "rulebooks": ("rulebook_id", "effective_from", "effective_until", "description"),
    "tier_thresholds": ("rulebook_id", "tier_code", "tier_rank", "tier_name_zh", "lower_bound", "upper_bound"),
    "rating_coefficients": (
        "rulebook_id",
        "rule_no",
        "policy_type_zh",
        "coverage_kind",
        "payment_modes",
        "min_payment_years",
        "max_payment_years",
        "product_categories",
        "slice_kind",
        "base_zh",
        "coefficient",
        "coefficient_per_payment_year",
        "window_anchor",
        "window_basis",
        "window_years",
        "window_end_reason",
    ),
    "entitlements": ("rulebook_id", "service_code", "tier_code", "variant", "quota_kind", "quota", "quota_group"),
    "unit_costs": ("rulebook_id", "service_code", "variant", "unit_cost", "assumption"),
    "services": (
        "service_code",
        "service_group",
        "service_group_zh",
        "name_zh",
        "name_en",
        "unit",
        "beneficiary_scope",
        "waiting_days",
        "is_no_show_counted",
        "is_counted_by_quantity",
        "is_variant_required",
    ),
}
DECIMAL_COLUMNS = {"lower_bound", "upper_bound", "coefficient", "coefficient_per_payment_year", "quota", "unit_cost"}
INTEGER_COLUMNS = {"tier_rank", "rule_no", "min_payment_years", "max_payment_years", "window_years", "waiting_days"}

Row = dict[str, Any]


class ProposalError(ValueError):
    """The proposal file is not valid; ``errors`` lists one message per bad key ("key.path: what is wrong")."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"invalid proposal {source}:\n" + "\n".join(f"  - {error}" for error in errors))


def rule_rows_sql(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], schema: str = "rules") -> str:
    """SQL for a rule table's rows in a warehouse: the seed's (``rules.<table>``) and, for a rulebook-keyed table,
    those of the rulebooks adopted with `vipwh rulebook adopt` (``raw.adopted_<table>``), as ``stg_rules__`` reads
    them (macro ``rule_rows``)."""
    select = ", ".join(f'"{column}"' for column in columns)
    sql = f'select {select} from "{schema}"."{table}"'
    if schema == "rules" and table in ADOPTED_RULE_TABLES and table_exists(con, adopted_table(table)):
        sql += f" union all select {select} from {adopted_table(table)}"
    return sql


# rulebook-keyed rule tables a proposal does not change: the base rulebook's rows, under the proposal's id
COPIED_FROM_BASE = ("rating_coverage_kinds", "rating_exclusions")


def base_rule_rows(con: duckdb.DuckDBPyConnection, base_rulebook: str, rulebook_id: str) -> dict[str, list[Row]]:
    """The base rulebook's rows of the rule tables a proposal does not change (coverage kinds, exclusions), under
    ``rulebook_id``: what a stored scenario and an adopted rulebook both take over unchanged."""
    tables = {}
    for table in COPIED_FROM_BASE:
        columns = [name for name, _ in ADOPTED_RULE_TABLES[table]]
        cursor = con.execute(
            f"select * from ({rule_rows_sql(con, table, columns)}) where rulebook_id = ?", [base_rulebook]
        )
        tables[table] = [
            {**dict(zip(columns, row, strict=True)), "rulebook_id": rulebook_id} for row in cursor.fetchall()
        ]
    return tables


@dataclass(frozen=True)
class Catalogue:
    """The rule tables a proposal is checked against and built from (``rules.*`` of a warehouse, or the seeds)."""

    rulebooks: dict[str, Row]
    tier_thresholds: list[Row]
    rating_coefficients: list[Row]
    entitlements: list[Row]
    unit_costs: list[Row]
    services: dict[str, Row]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, schema: str = "rules") -> Catalogue:
        def rows(table: str) -> list[Row]:
            columns = RULE_COLUMNS[table]
            try:
                fetched = con.execute(rule_rows_sql(con, table, columns, schema)).fetchall()
            except duckdb.CatalogException as exc:
                raise FileNotFoundError(
                    f"rule table {schema}.{table} is missing: build the warehouse first (`vipwh build`)"
                ) from exc
            return [
                {column: _typed(column, value) for column, value in zip(columns, row, strict=True)} for row in fetched
            ]

        return cls(
            rulebooks={row["rulebook_id"]: row for row in rows("rulebooks")},
            tier_thresholds=sorted(rows("tier_thresholds"), key=lambda row: (row["rulebook_id"], row["tier_rank"])),
            rating_coefficients=sorted(
                rows("rating_coefficients"), key=lambda row: (row["rulebook_id"], row["rule_no"])
            ),
            entitlements=rows("entitlements"),
            unit_costs=rows("unit_costs"),
            services={row["service_code"]: row for row in rows("services")},
        )

    @classmethod
    def from_seeds(cls, seeds_dir: Path = SEEDS_DIR) -> Catalogue:
        """The catalogue of the repository's seeds (what `vipwh build` loads into ``rules``)."""
        with duckdb.connect() as con:
            con.execute("create schema rules")
            for table in RULE_COLUMNS:
                path = next(seeds_dir.rglob(f"{table}.csv"))
                con.execute(
                    f"create table rules.{table} as select * from read_csv(?, all_varchar = true, header = true)",
                    [str(path)],
                )
            return cls.load(con)

    def tiers(self, rulebook_id: str) -> list[Row]:
        return [row for row in self.tier_thresholds if row["rulebook_id"] == rulebook_id]

    def rows(self, table: str, rulebook_id: str) -> list[Row]:
        return [dict(row) for row in getattr(self, table) if row["rulebook_id"] == rulebook_id]


@dataclass(frozen=True)
class Quota:
    """One entitlement cell of a proposal: quota_kind (per_year, once, unlimited) and quota (None = unlimited)."""

    quota_kind: str
    quota: Decimal | None


@dataclass(frozen=True)
class NewService:
    service_code: str
    name_zh: str
    name_en: str
    unit: str
    service_group: str
    like: str | None
    take_up: Decimal | None
    units_per_member_year: Decimal | None


@dataclass(frozen=True)
class Proposal:
    id: str
    base_rulebook: str
    description: str = ""
    effective_from: date | None = None
    tier_thresholds: dict[str, Decimal] = field(default_factory=dict)
    regular: dict[str, Decimal] = field(default_factory=dict)  # column of the regular rows → value
    single: dict[str, Decimal] = field(default_factory=dict)  # product category or '*' → coefficient
    one_year: Decimal | None = None
    entitlements: dict[str, dict[str, Quota | None] | None] = field(default_factory=dict)  # None = withdrawn
    services: dict[str, NewService] = field(default_factory=dict)
    unit_costs: dict[str, dict[str | None, Decimal] | Decimal] = field(default_factory=dict)
    source_text: str = ""


@dataclass(frozen=True)
class ProposalRules:
    """The proposal as a rulebook: its rows of each rule table (rulebook_id = the proposal's id)."""

    rulebooks: list[Row]
    tier_thresholds: list[Row]
    rating_coefficients: list[Row]
    entitlements: list[Row]
    unit_costs: list[Row]
    services: list[Row]  # new services only, with the usage assumption

    def tables(self) -> dict[str, list[Row]]:
        return {
            "rulebooks": self.rulebooks,
            "tier_thresholds": self.tier_thresholds,
            "rating_coefficients": self.rating_coefficients,
            "entitlements": self.entitlements,
            "unit_costs": self.unit_costs,
            "services": self.services,
        }


# --- parsing and validation ----------------------------------------------------------------------------


def load_proposal(path: Path, catalogue: Catalogue) -> Proposal:
    """Read and validate a proposal file; raises ProposalError naming every bad key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProposalError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_proposal(text, catalogue, source=str(path))


def parse_proposal(text: str, catalogue: Catalogue, source: str = "<proposal>") -> Proposal:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProposalError(source, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(document, Mapping):
        raise ProposalError(source, ["the file must be a YAML mapping with at least `id` and `base_rulebook`"])
    checker = _Checker(catalogue)
    proposal = checker.proposal(document, text)
    if checker.errors:
        raise ProposalError(source, checker.errors)
    return proposal


class _Checker:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.errors: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{key}: {message}")

    def proposal(self, document: Mapping, text: str) -> Proposal:
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                self.error(str(key), f"unknown key (known: {', '.join(TOP_LEVEL_KEYS)})")
        proposal_id = self.identifier(document, "id")
        if proposal_id and proposal_id in self.catalogue.rulebooks:
            self.error("id", f"{proposal_id!r} is an existing rulebook; give the proposal a name of its own")
        base = self.identifier(document, "base_rulebook")
        if base and base not in self.catalogue.rulebooks:
            known = ", ".join(sorted(self.catalogue.rulebooks))
            self.error("base_rulebook", f"unknown rulebook {base!r} (known: {known})")
            base = None
        description = document.get("description") or ""
        if not isinstance(description, str):
            self.error("description", "must be text")
            description = str(description)
        effective_from = self.effective_from(document.get("effective_from"))
        thresholds = self.tier_thresholds(document.get("tier_thresholds"), base) if base else {}
        regular, single, one_year = self.coefficients(document.get("coefficients"), base)
        services = self.new_services(document.get("services"))
        known_services = set(self.catalogue.services) | set(services)
        entitlements = self.entitlements(document.get("entitlements"), known_services, base)
        unit_costs = self.unit_costs(document.get("unit_costs"), known_services, base)
        for code in services:
            if code not in unit_costs:
                self.error(f"services.{code}", "a new service needs its cost: add it under unit_costs")
            if not any(quota is not None for quota in (entitlements.get(code) or {}).values()):
                self.error(f"services.{code}", "not entitled at any tier: add it under entitlements")
        return Proposal(
            id=proposal_id or "",
            base_rulebook=base or "",
            description=description,
            effective_from=effective_from,
            tier_thresholds=thresholds,
            regular=regular,
            single=single,
            one_year=one_year,
            entitlements=entitlements,
            services=services,
            unit_costs=unit_costs,
            source_text=text,
        )

    def identifier(self, document: Mapping, key: str) -> str | None:
        value = document.get(key)
        if value is None:
            self.error(key, "required")
            return None
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.error(key, f"{value!r} must be lowercase letters, digits and _ (starting with a letter)")
            return None
        return value

    def effective_from(self, value: Any) -> date | None:
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error("effective_from", f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def number(self, key: str, value: Any, decimals: int, maximum: Decimal | None = None) -> Decimal | None:
        """A non-negative exact number with at most ``decimals`` decimals (else an error naming ``key``)."""
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.error(key, f"{value!r} is not a number")
            return None
        try:
            number = Decimal(str(value).replace("_", ""))
        except InvalidOperation:
            self.error(key, f"{value!r} is not a number")
            return None
        if not number.is_finite():
            self.error(key, f"{value!r} is not a finite number")
            return None
        if number < 0:
            self.error(key, f"{value} is negative")
            return None
        if -number.normalize().as_tuple().exponent > decimals:
            self.error(key, f"{value} has more than {decimals} decimals")
            return None
        if maximum is not None and number > maximum:
            self.error(key, f"{value} is above {maximum}")
            return None
        return number

    def mapping(self, key: str, value: Any) -> Mapping | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(key, "must be a mapping (key: value lines)")
            return None
        return value

    def tier_thresholds(self, value: Any, base: str) -> dict[str, Decimal]:
        given = self.mapping("tier_thresholds", value) or {}
        tiers = self.catalogue.tiers(base)
        codes = [row["tier_code"] for row in tiers]
        overrides: dict[str, Decimal] = {}
        for code, raw in given.items():
            key = f"tier_thresholds.{code}"
            if code not in codes:
                self.error(key, f"unknown tier (known: {', '.join(codes)})")
                continue
            number = self.number(key, raw, decimals=2)
            if number is None:
                continue
            if code == tiers[0]["tier_code"] and number != tiers[0]["lower_bound"]:
                self.error(key, f"the lowest tier always starts at {_plain(tiers[0]['lower_bound'])}")
                continue
            overrides[code] = number
        bounds = [(row["tier_code"], overrides.get(row["tier_code"], row["lower_bound"])) for row in tiers]
        for (lower_code, lower), (upper_code, upper) in zip(bounds, bounds[1:], strict=False):
            if upper <= lower:
                if upper_code in overrides:
                    self.error(
                        f"tier_thresholds.{upper_code}",
                        f"{_plain(upper)} is not above {lower_code} ({_plain(lower)}): thresholds must increase",
                    )
                else:
                    self.error(
                        f"tier_thresholds.{lower_code}",
                        f"{_plain(lower)} is not below {upper_code} ({_plain(upper)}): thresholds must increase",
                    )
        return overrides

    def coefficients(
        self, value: Any, base: str | None
    ) -> tuple[dict[str, Decimal], dict[str, Decimal], Decimal | None]:
        given = self.mapping("coefficients", value) or {}
        rules = self.catalogue.rows("rating_coefficients", base) if base else []
        regular: dict[str, Decimal] = {}
        single: dict[str, Decimal] = {}
        one_year = None
        for key in given:
            if key == "top_up":
                self.error(
                    "coefficients.top_up",
                    "top-ups take the single-premium coefficient of their category: "
                    "change it under coefficients.single",
                )
            elif key not in COEFFICIENT_KEYS:
                self.error(f"coefficients.{key}", f"unknown key (known: {', '.join(COEFFICIENT_KEYS)})")
        for name, raw in (self.mapping("coefficients.regular", given.get("regular")) or {}).items():
            key = f"coefficients.regular.{name}"
            if name not in REGULAR_KEYS:
                self.error(key, f"unknown key (known: {', '.join(REGULAR_KEYS)})")
                continue
            column = REGULAR_KEYS[name]
            number = self.number(key, raw, decimals=4)
            if number is None:
                continue
            if base and not any(rule["slice_kind"] == "regular" and rule[column] is not None for rule in rules):
                self.error(key, f"rulebook {base} has no regular-premium row with a {column} to change")
                continue
            regular[column] = number
        categories = (*PRODUCT_CATEGORIES, OTHER_CATEGORIES)
        for category, raw in (self.mapping("coefficients.single", given.get("single")) or {}).items():
            key = f"coefficients.single.{category}"
            if category not in categories:
                self.error(
                    key,
                    f"unknown product category (known: {', '.join(categories)}; "
                    "'*' = the categories the table does not name)",
                )
                continue
            number = self.number(key, raw, decimals=4)
            if number is not None:
                single[category] = number
        if base and single and not any(rule["slice_kind"] == "single" for rule in rules):
            self.error("coefficients.single", f"rulebook {base} has no single-premium row")
        if "one_year" in given:
            one_year = self.number("coefficients.one_year", given["one_year"], decimals=4)
            if one_year is not None and base and not any(rule["slice_kind"] == "one_year" for rule in rules):
                self.error("coefficients.one_year", f"rulebook {base} has no one-year row")
        return regular, single, one_year

    def quota(self, key: str, value: Any) -> Quota | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in REMOVED):
            return None
        if isinstance(value, str) and value.strip().lower() in ("unlimited", "∞"):
            return Quota("unlimited", None)
        if isinstance(value, str) and value.strip().lower() == "once":
            return Quota("once", Decimal(1))
        if isinstance(value, str) and not re.match(r"^-?[0-9.]+$", value.strip()):
            self.error(key, f"{value!r} is not a quota (a positive number a year, once, unlimited or none)")
            return None
        number = self.number(key, value, decimals=2)
        if number is None:
            return None
        if number == 0:
            self.error(key, "0 is not a quota: write none to remove the entitlement")
            return None
        return Quota("per_year", number)

    def entitlements(
        self, value: Any, services: set[str], base: str | None
    ) -> dict[str, dict[str, Quota | None] | None]:
        given = self.mapping("entitlements", value) or {}
        codes = [row["tier_code"] for row in self.catalogue.tiers(base)] if base else []
        result: dict[str, dict[str, Quota | None] | None] = {}
        for service, cells in given.items():
            key = f"entitlements.{service}"
            if service not in services:
                self.error(key, "unknown service (not in the catalogue nor under services)")
                continue
            if cells is None or (isinstance(cells, str) and cells.strip().lower() in REMOVED):
                result[service] = None  # withdrawn at every tier
                continue
            if not isinstance(cells, Mapping):
                self.error(key, "must map tiers to quotas (e.g. {star2: 1}), or be none to withdraw the service")
                continue
            parsed: dict[str, Quota | None] = {}
            for tier, raw in cells.items():
                if tier not in codes:
                    self.error(f"{key}.{tier}", f"unknown tier (known: {', '.join(codes)})")
                    continue
                before = len(self.errors)
                quota = self.quota(f"{key}.{tier}", raw)
                if len(self.errors) == before:
                    parsed[tier] = quota
            result[service] = parsed
        return result

    def new_services(self, value: Any) -> dict[str, NewService]:
        given = self.mapping("services", value) or {}
        result: dict[str, NewService] = {}
        for code, spec in given.items():
            key = f"services.{code}"
            if code in self.catalogue.services:
                self.error(
                    key,
                    "already in the service catalogue: change its quotas under entitlements and its "
                    "cost under unit_costs",
                )
                continue
            if not isinstance(code, str) or not ID_PATTERN.match(code):
                self.error(key, "a service code is lowercase letters, digits and _")
                continue
            spec = self.mapping(key, spec if spec is not None else {}) or {}
            for name in spec:
                if name not in NEW_SERVICE_KEYS:
                    self.error(f"{key}.{name}", f"unknown key (known: {', '.join(NEW_SERVICE_KEYS)})")
            like = spec.get("like")
            if like is not None and like not in self.catalogue.services:
                self.error(f"{key}.like", f"unknown service {like!r} (an existing service whose use it would follow)")
                like = None
            take_up = (
                self.number(f"{key}.take_up", spec["take_up"], decimals=6, maximum=Decimal(1))
                if "take_up" in spec
                else None
            )
            per_member = (
                self.number(f"{key}.units_per_member_year", spec["units_per_member_year"], decimals=6)
                if "units_per_member_year" in spec
                else None
            )
            if not any(name in spec for name in ("like", "take_up", "units_per_member_year")):
                self.error(
                    key,
                    "say how much it would be used: like (an existing service), take_up (share of the "
                    "quota used a year) or units_per_member_year (for an unlimited quota)",
                )
            texts = {name: spec.get(name) for name in ("name_zh", "name_en", "unit", "service_group")}
            for name, text in texts.items():
                if text is not None and not isinstance(text, str):
                    self.error(f"{key}.{name}", "must be text")
            liked = self.catalogue.services.get(like) if like else None
            result[code] = NewService(
                service_code=code,
                name_zh=str(texts["name_zh"] or code),
                name_en=str(texts["name_en"] or code),
                unit=str(texts["unit"] or (liked["unit"] if liked else "use")),
                service_group=str(texts["service_group"] or (liked["service_group"] if liked else "proposed")),
                like=like,
                take_up=take_up,
                units_per_member_year=per_member,
            )
        return result

    def unit_costs(
        self, value: Any, services: set[str], base: str | None
    ) -> dict[str, dict[str | None, Decimal] | Decimal]:
        given = self.mapping("unit_costs", value) or {}
        rows = self.catalogue.rows("unit_costs", base) if base else []
        result: dict[str, dict[str | None, Decimal] | Decimal] = {}
        for service, raw in given.items():
            key = f"unit_costs.{service}"
            if service not in services:
                self.error(key, "unknown service (not in the catalogue nor under services)")
                continue
            if not isinstance(raw, Mapping):
                number = self.number(key, raw, decimals=2)
                if number is not None:
                    result[service] = number
                continue
            variants = {row["variant"] for row in rows if row["service_code"] == service and row["variant"]}
            variants |= {
                row["variant"]
                for row in self.catalogue.rows("entitlements", base or "")
                if row["service_code"] == service and row["variant"]
            }
            costs: dict[str | None, Decimal] = {}
            for variant, cost in raw.items():
                if variant != DEFAULT_VARIANT and variant not in variants:
                    known = ", ".join(sorted(variants | {DEFAULT_VARIANT}))
                    self.error(f"{key}.{variant}", f"unknown variant of {service} (known: {known})")
                    continue
                number = self.number(f"{key}.{variant}", cost, decimals=2)
                if number is not None:
                    costs[None if variant == DEFAULT_VARIANT else variant] = number
            result[service] = costs
        return result


# --- the proposal as rule rows -------------------------------------------------------------------------


def proposal_rules(proposal: Proposal, catalogue: Catalogue) -> ProposalRules:
    """The base rulebook's rows of every rule table with the proposal's overrides applied."""
    rulebook_id = proposal.id
    base = catalogue.rulebooks[proposal.base_rulebook]
    rulebooks = [
        {
            "rulebook_id": rulebook_id,
            "effective_from": proposal.effective_from or base["effective_from"],
            "effective_until": None,
            "description": proposal.description or f"proposal {rulebook_id} on {proposal.base_rulebook}",
        }
    ]
    return ProposalRules(
        rulebooks=rulebooks,
        tier_thresholds=_thresholds(proposal, catalogue),
        rating_coefficients=_coefficients(proposal, catalogue),
        entitlements=_entitlements(proposal, catalogue),
        unit_costs=_unit_costs(proposal, catalogue),
        services=[
            {
                "service_code": service.service_code,
                "service_group": service.service_group,
                "name_zh": service.name_zh,
                "name_en": service.name_en,
                "unit": service.unit,
                "like_service_code": service.like,
                "take_up": service.take_up,
                "units_per_member_year": service.units_per_member_year,
            }
            for service in proposal.services.values()
        ],
    )


def _thresholds(proposal: Proposal, catalogue: Catalogue) -> list[Row]:
    rows = catalogue.rows("tier_thresholds", proposal.base_rulebook)
    for row in rows:
        row["rulebook_id"] = proposal.id
        row["lower_bound"] = proposal.tier_thresholds.get(row["tier_code"], row["lower_bound"])
    for row, above in zip(rows, [*rows[1:], None], strict=True):
        row["upper_bound"] = above["lower_bound"] if above else None
    return rows


def _coefficients(proposal: Proposal, catalogue: Catalogue) -> list[Row]:
    rules = catalogue.rows("rating_coefficients", proposal.base_rulebook)
    next_rule_no = max((rule["rule_no"] for rule in rules), default=0) + 1
    named = {
        category
        for rule in rules
        if rule["slice_kind"] == "single"
        for category in rule["product_categories"].split()
        if category != OTHER_CATEGORIES
    }
    rows: list[Row] = []
    for rule in rules:
        rule["rulebook_id"] = proposal.id
        if rule["slice_kind"] == "regular":
            for column, value in proposal.regular.items():
                if rule[column] is not None:
                    rule[column] = value
        elif rule["slice_kind"] == "one_year" and proposal.one_year is not None:
            rule["coefficient"] = proposal.one_year
        if rule["slice_kind"] != "single" or not proposal.single:
            rows.append(rule)
            continue
        categories = rule["product_categories"].split()
        if OTHER_CATEGORIES in categories:  # a category no row names is rated by this row: name it to change it
            at = categories.index(OTHER_CATEGORIES)
            categories[at:at] = [
                category for category in proposal.single if category != OTHER_CATEGORIES and category not in named
            ]
        groups: dict[Decimal, list[str]] = {rule["coefficient"]: []}  # the unchanged categories keep the row
        for category in categories:
            groups.setdefault(proposal.single.get(category, rule["coefficient"]), []).append(category)
        kept = False
        for coefficient, members in groups.items():
            if not members:
                continue
            row = {**rule, "coefficient": coefficient, "product_categories": " ".join(members)}
            if not kept:
                kept = True
            else:  # the categories that now differ from the rest of their row get a row of their own
                row["rule_no"] = next_rule_no
                row["policy_type_zh"] = f"{rule['policy_type_zh']} ({' '.join(members)}: {proposal.id})"
                next_rule_no += 1
            rows.append(row)
    return sorted(rows, key=lambda row: row["rule_no"])


def _entitlements(proposal: Proposal, catalogue: Catalogue) -> list[Row]:
    rows = catalogue.rows("entitlements", proposal.base_rulebook)
    result: list[Row] = []
    for row in rows:
        row["rulebook_id"] = proposal.id
        if row["service_code"] not in proposal.entitlements:
            result.append(row)
            continue
        cells = proposal.entitlements[row["service_code"]]
        if cells is None:
            continue  # the service is withdrawn
        if row["tier_code"] not in cells:
            result.append(row)
            continue
        quota = cells[row["tier_code"]]
        if quota is None:
            continue  # not entitled at this tier any more
        result.append({**row, "quota_kind": quota.quota_kind, "quota": quota.quota})
    entitled = {(row["service_code"], row["tier_code"]) for row in rows}
    for service, cells in proposal.entitlements.items():
        for tier, quota in (cells or {}).items():
            if quota is not None and (service, tier) not in entitled:  # a tier newly entitled: any variant
                result.append(
                    {
                        "rulebook_id": proposal.id,
                        "service_code": service,
                        "tier_code": tier,
                        "variant": None,
                        "quota_kind": quota.quota_kind,
                        "quota": quota.quota,
                        "quota_group": None,
                    }
                )
    return result


def _unit_costs(proposal: Proposal, catalogue: Catalogue) -> list[Row]:
    rows = catalogue.rows("unit_costs", proposal.base_rulebook)
    result: list[Row] = []
    for row in rows:
        row["rulebook_id"] = proposal.id
        override = proposal.unit_costs.get(row["service_code"])
        if isinstance(override, Decimal):
            row = {**row, "unit_cost": override, "assumption": f"proposal {proposal.id}"}
        elif override and row["variant"] in override:
            row = {**row, "unit_cost": override[row["variant"]], "assumption": f"proposal {proposal.id}"}
        result.append(row)
    priced = {(row["service_code"], row["variant"]) for row in result}
    for service, override in proposal.unit_costs.items():
        costs = {None: override} if isinstance(override, Decimal) else override
        for variant, cost in costs.items():
            if (service, variant) not in priced:
                result.append(
                    {
                        "rulebook_id": proposal.id,
                        "service_code": service,
                        "variant": variant,
                        "unit_cost": cost,
                        "assumption": f"proposal {proposal.id}",
                    }
                )
    return result


def _plain(number: Decimal) -> str:
    """30000.00 → '30000', 0.080 → '0.08' (numbers in messages as one would write them)."""
    return format(number.normalize(), "f")


def _typed(column: str, value: Any) -> Any:
    """Seed values read as text (from_seeds) or typed (a warehouse) → one Python type per column."""
    if value is None or value == "":
        return None
    if column in DECIMAL_COLUMNS:
        return Decimal(str(value))
    if column in INTEGER_COLUMNS:
        return int(value)
    if column in ("effective_from", "effective_until"):
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if column in ("is_no_show_counted", "is_counted_by_quantity", "is_variant_required"):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value
