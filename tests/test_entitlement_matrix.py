"""Hold the benefit rule seeds to the handbook, cell by cell.

The expected matrix below is typed from the handbook's overview table (增值服务概览, the seed document
`../shared/seeds/000_c10c219af24d2c6b.txt`) and the services' own pages, as restated in RULES.md §6. It is
deliberately NOT read from the seed: the test fails when entitlements.csv or services.csv drift from it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "benefits"
RULEBOOK = "handbook_2026"
TIERS = ("family", "star1", "star2", "star3", "star4", "star5")  # 家人, 一星 … 五星

# One cell of the overview table: "-" not entitled, "inf" 不限次, "N/yr" N 次(小时/人次)/年, "once" 1次 (ever).
HANDBOOK_OVERVIEW: dict[str, tuple[str, str, str, str, str, str]] = {
    # 专属荟员礼遇
    "vip_hotline": ("-", "inf", "inf", "inf", "inf", "inf"),  # 呼入贵宾专线
    "legal_consult": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 电话法律咨询 1小时/年
    "limousine": ("-", "-", "1/yr", "1/yr", "1/yr", "2/yr"),  # 礼宾车服务
    "lounge": ("-", "-", "2/yr", "2/yr", "3/yr", "3/yr"),  # 机场/高铁休息室 人次/年
    # 优质健康管家
    "health_checkup": ("-", "-", "1/yr", "1/yr", "1/yr", "1/yr"),  # 健康体检
    "gi_endoscopy": ("-", "-", "-", "-", "once", "once"),  # 胃肠镜高端体检 1次
    "dental_cleaning": ("-", "1/yr", "1/yr", "1/yr", "1/yr", "1/yr"),  # 齿科洁牙
    "cell_storage": ("-", "-", "-", "-", "once", "once"),  # 细胞存储 10年 / 20年
    # 贴心预防保健
    "health_assessment": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 健康测评
    "medical_video": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 医学科普视频
    "health_article": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 健康资讯文章
    "doctor_chat": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 家庭医生图文咨询
    "doctor_video": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 家庭医生实时视频咨询
    "doctor_phone": ("inf", "inf", "inf", "inf", "inf", "inf"),  # 家庭医生电话咨询
    # 专业就医助理
    "outpatient_green": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 门诊绿通 不点名 / 点名
    "hospital_escort": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 院内陪诊
    "critical_illness_green": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 重疾手术/住院绿通
    "proton_green": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 质子重离子绿通
    "second_opinion": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 国内专家二次诊疗
    "mdt_consult": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # MDT 专家多学科会诊
    # 养老管家服务
    "elderly_butler": ("-", "-", "-", "inf", "inf", "inf"),  # 养老健康管家
    "home_care": ("-", "-", "-", "1/yr", "1/yr", "1/yr"),  # 康护到家服务 2选1 1次/年 | 各1次
}

# Variant rules (the services' pages; RULES.md §6). Per (service, tier): the quota pools, each a set of
# variants sharing one quota. A cell not listed here is a single pool open to any variant.
_CHECKUP_PACKAGES = ("star2", "star3", "star4", "star5")  # 体检套餐 by star; not above the holder's tier
HANDBOOK_VARIANT_POOLS: dict[tuple[str, str], list[frozenset[str]]] = {
    # 门诊绿通: 三星 不可指定专家; 四星、五星 可指定专家 — one appointment a year either way.
    ("outpatient_green", "star3"): [frozenset({"standard"})],
    ("outpatient_green", "star4"): [frozenset({"standard", "named_expert"})],
    ("outpatient_green", "star5"): [frozenset({"standard", "named_expert"})],
    # 细胞存储: 四星 10 年权益, 五星 20 年权益 (20y needs star5, 10y star4+) — once.
    ("cell_storage", "star4"): [frozenset({"10y"})],
    ("cell_storage", "star5"): [frozenset({"10y", "20y"})],
    # 康护到家: 三星 护工或保洁 二选一 1次/年; 四星、五星 两项各1次/年.
    ("home_care", "star3"): [frozenset({"nursing", "cleaning"})],
    ("home_care", "star4"): [frozenset({"nursing"}), frozenset({"cleaning"})],
    ("home_care", "star5"): [frozenset({"nursing"}), frozenset({"cleaning"})],
}
for _rank, _tier in enumerate(("star2", "star3", "star4", "star5")):
    HANDBOOK_VARIANT_POOLS[("health_checkup", _tier)] = [frozenset(_CHECKUP_PACKAGES[: _rank + 1])]

# The catalogue (RULES.md §6 columns unit and "who may use it"; handbook 服务板块 and 服务对象).
HANDBOOK_SERVICES: dict[str, tuple[str, str, str, int]] = {
    # service_code: (service_group, unit, beneficiary_scope, waiting_days)
    "vip_hotline": ("privilege", "call", "member", 0),
    "legal_consult": ("privilege", "hour", "member_and_direct_relatives", 0),
    "limousine": ("privilege", "ride", "member_and_direct_relatives", 0),
    "lounge": ("privilege", "person-visit", "member_and_direct_relatives", 0),
    "health_checkup": ("health_management", "check-up", "member_and_direct_relatives", 0),
    "gi_endoscopy": ("health_management", "check-up", "member", 0),
    "dental_cleaning": ("health_management", "visit", "member_and_direct_relatives", 0),
    "cell_storage": ("health_management", "storage", "member", 0),
    "health_assessment": ("preventive_care", "assessment", "member", 0),
    "medical_video": ("preventive_care", "view", "member", 0),
    "health_article": ("preventive_care", "view", "member", 0),
    "doctor_chat": ("preventive_care", "consultation", "member", 0),
    "doctor_video": ("preventive_care", "consultation", "member", 0),
    "doctor_phone": ("preventive_care", "consultation", "member", 0),
    "outpatient_green": ("medical_assistance", "appointment", "member_and_direct_relatives", 0),
    "hospital_escort": ("medical_assistance", "visit", "member_and_direct_relatives", 0),
    "critical_illness_green": ("medical_assistance", "case", "member", 30),
    "proton_green": ("medical_assistance", "case", "member", 30),
    "second_opinion": ("medical_assistance", "case", "member", 30),
    "mdt_consult": ("medical_assistance", "case", "member", 30),
    "elderly_butler": ("elderly_care", "request", "member_and_one_designated_relative", 0),
    "home_care": ("elderly_care", "service", "member_and_one_designated_relative", 0),
}
NO_SHOW_CONSUMES = {"dental_cleaning"}  # 未及时取消且未就诊视为已享受
CONSUMES_BY_QUANTITY = {"legal_consult", "lounge"}  # hours, person-visits
VARIANT_REQUIRED = {"home_care"}  # nursing or cleaning

Pool = tuple[str, float | None, frozenset[str] | None]  # (quota_kind, quota, variants or None = any)


def _read(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected_pools(service: str, tier_index: int) -> set[Pool]:
    cell = HANDBOOK_OVERVIEW[service][tier_index]
    if cell == "-":
        return set()
    if cell == "inf":
        kind, quota = "unlimited", None
    elif cell == "once":
        kind, quota = "once", 1.0
    else:
        kind, quota = "per_year", float(cell.removesuffix("/yr"))
    variant_pools = HANDBOOK_VARIANT_POOLS.get((service, TIERS[tier_index]))
    if variant_pools is None:
        return {(kind, quota, None)}
    return {(kind, quota, variants) for variants in variant_pools}


def _seed_pools() -> dict[tuple[str, str], set[Pool]]:
    grouped: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    for row in _read("entitlements.csv"):
        if row["rulebook_id"] != RULEBOOK:
            continue
        pool_key = row["quota_group"] or row["variant"] or "*"
        grouped[(row["service_code"], row["tier_code"], pool_key, row["quota_kind"])].append(row)
    pools: dict[tuple[str, str], set[Pool]] = defaultdict(set)
    for (service, tier, _pool, kind), rows in grouped.items():
        quotas = {row["quota"] for row in rows}
        assert len(quotas) == 1, f"{service} {tier}: rows of one pool disagree on the quota: {quotas}"
        quota = quotas.pop()
        variants = frozenset(row["variant"] for row in rows if row["variant"])
        if variants and len(variants) != len(rows):
            raise AssertionError(f"{service} {tier}: a pool mixes any-variant and named-variant rows")
        pools[(service, tier)].add((kind, float(quota) if quota else None, variants or None))
    return pools


SEED_POOLS = _seed_pools()


@pytest.mark.parametrize("tier_index", range(len(TIERS)), ids=TIERS)
@pytest.mark.parametrize("service", sorted(HANDBOOK_OVERVIEW))
def test_entitlement_cell_matches_handbook(service: str, tier_index: int) -> None:
    tier = TIERS[tier_index]
    assert SEED_POOLS.get((service, tier), set()) == _expected_pools(service, tier_index), (
        f"entitlements.csv {RULEBOOK} {service} × {tier} differs from the handbook overview "
        f"cell {HANDBOOK_OVERVIEW[service][tier_index]!r}"
    )


def test_entitlements_name_only_handbook_services_and_tiers() -> None:
    for row in _read("entitlements.csv"):
        assert row["service_code"] in HANDBOOK_OVERVIEW, row
        assert row["tier_code"] in TIERS, row
        assert row["quota_kind"] in {"unlimited", "per_year", "once"}, row
        assert (row["quota"] == "") == (row["quota_kind"] == "unlimited"), row


def test_entitlement_rows_are_unique() -> None:
    keys = [(r["rulebook_id"], r["service_code"], r["tier_code"], r["variant"]) for r in _read("entitlements.csv")]
    assert len(keys) == len(set(keys))


def test_catalogue_matches_handbook() -> None:
    rows = {row["service_code"]: row for row in _read("services.csv")}
    assert set(rows) == set(HANDBOOK_SERVICES)
    assert len(rows) == 22
    for code, (group, unit, scope, waiting_days) in HANDBOOK_SERVICES.items():
        row = rows[code]
        assert (row["service_group"], row["unit"], row["beneficiary_scope"], int(row["waiting_days"])) == (
            group,
            unit,
            scope,
            waiting_days,
        ), code
        assert (row["is_no_show_counted"] == "true") == (code in NO_SHOW_CONSUMES), code
        assert (row["is_counted_by_quantity"] == "true") == (code in CONSUMES_BY_QUANTITY), code
        assert (row["is_variant_required"] == "true") == (code in VARIANT_REQUIRED), code


def test_beneficiary_scopes_match_rules() -> None:
    scopes: dict[str, dict[str, str]] = defaultdict(dict)
    for row in _read("beneficiary_scopes.csv"):
        scopes[row["beneficiary_scope"]][row["beneficiary_relation"]] = row["eligibility"]
    assert scopes["member"] == {"self": "always"}
    # 直系亲属 = spouse, parents, children.
    assert scopes["member_and_direct_relatives"] == {
        "self": "always",
        "spouse": "always",
        "parent": "always",
        "child": "always",
    }
    # 指定一位家属: any one relative, the first to use the service in the year.
    assert scopes["member_and_one_designated_relative"] == {
        "self": "always",
        "spouse": "designated",
        "parent": "designated",
        "child": "designated",
        "other": "designated",
    }


def test_unit_costs_cover_every_service() -> None:
    costed = {row["service_code"] for row in _read("unit_costs.csv") if not row["variant"]}
    assert costed == set(HANDBOOK_SERVICES)
    for row in _read("unit_costs.csv"):
        assert float(row["unit_cost"]) >= 0 and row["assumption"], row
