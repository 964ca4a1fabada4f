"""The generator's model of the book: who buys what, how often things happen, what services cost.

These are assumptions of the *synthetic data*, not business rules: the warehouse never reads them.
Rates are per year unless said otherwise; money is CNY.
"""

from __future__ import annotations

# --- Geography: province, 2-digit code of the national id, weight, cities with weights ---------------
PROVINCES: tuple[tuple[str, int, float, tuple[tuple[str, float], ...]], ...] = (
    ("北京市", 11, 5.0, (("北京市", 1.0),)),
    ("天津市", 12, 2.0, (("天津市", 1.0),)),
    ("河北省", 13, 4.5, (("石家庄市", 0.45), ("唐山市", 0.3), ("保定市", 0.25))),
    ("山西省", 14, 2.0, (("太原市", 0.6), ("大同市", 0.4))),
    ("内蒙古自治区", 15, 1.5, (("呼和浩特市", 0.55), ("包头市", 0.45))),
    ("辽宁省", 21, 3.0, (("沈阳市", 0.55), ("大连市", 0.45))),
    ("吉林省", 22, 1.5, (("长春市", 0.65), ("吉林市", 0.35))),
    ("黑龙江省", 23, 2.0, (("哈尔滨市", 0.65), ("大庆市", 0.35))),
    ("上海市", 31, 5.0, (("上海市", 1.0),)),
    ("江苏省", 32, 9.0, (("南京市", 0.25), ("苏州市", 0.3), ("无锡市", 0.18), ("常州市", 0.12), ("南通市", 0.15))),
    ("浙江省", 33, 7.0, (("杭州市", 0.4), ("宁波市", 0.3), ("温州市", 0.17), ("绍兴市", 0.13))),
    ("安徽省", 34, 3.5, (("合肥市", 0.65), ("芜湖市", 0.35))),
    ("福建省", 35, 3.5, (("福州市", 0.35), ("厦门市", 0.35), ("泉州市", 0.3))),
    ("江西省", 36, 2.5, (("南昌市", 0.65), ("赣州市", 0.35))),
    ("山东省", 37, 8.0, (("济南市", 0.3), ("青岛市", 0.35), ("烟台市", 0.18), ("潍坊市", 0.17))),
    ("河南省", 41, 6.0, (("郑州市", 0.65), ("洛阳市", 0.35))),
    ("湖北省", 42, 4.5, (("武汉市", 0.75), ("宜昌市", 0.25))),
    ("湖南省", 43, 4.0, (("长沙市", 0.7), ("株洲市", 0.3))),
    ("广东省", 44, 12.0, (("广州市", 0.3), ("深圳市", 0.3), ("东莞市", 0.15), ("佛山市", 0.15), ("汕头市", 0.1))),
    ("广西壮族自治区", 45, 2.5, (("南宁市", 0.6), ("桂林市", 0.4))),
    ("海南省", 46, 0.8, (("海口市", 0.6), ("三亚市", 0.4))),
    ("重庆市", 50, 2.5, (("重庆市", 1.0),)),
    ("四川省", 51, 6.0, (("成都市", 0.75), ("绵阳市", 0.25))),
    ("贵州省", 52, 1.5, (("贵阳市", 0.7), ("遵义市", 0.3))),
    ("云南省", 53, 2.5, (("昆明市", 0.7), ("曲靖市", 0.3))),
    ("西藏自治区", 54, 0.2, (("拉萨市", 1.0),)),
    ("陕西省", 61, 3.0, (("西安市", 0.8), ("宝鸡市", 0.2))),
    ("甘肃省", 62, 1.2, (("兰州市", 1.0),)),
    ("青海省", 63, 0.4, (("西宁市", 1.0),)),
    ("宁夏回族自治区", 64, 0.5, (("银川市", 1.0),)),
    ("新疆维吾尔自治区", 65, 1.3, (("乌鲁木齐市", 1.0),)),
)

# --- Products ------------------------------------------------------------------------------------------
# Category order is vipwh.contract.PRODUCT_CATEGORIES.
CATEGORY_PREFIX = {
    "whole_life": "WL",
    "term_life": "TL",
    "annuity": "AN",
    "critical_illness": "CI",
    "endowment": "EN",
    "participating": "PA",
    "universal": "UL",
    "medical": "MD",
    "accident": "AC",
    "other": "OT",
}
PRODUCTS_PER_CATEGORY = 4

# Share of purchases by category for three wealth bands (low, middle, high).
CATEGORY_MIX = {
    "whole_life": (0.08, 0.14, 0.20),
    "term_life": (0.08, 0.06, 0.04),
    "annuity": (0.05, 0.10, 0.18),
    "critical_illness": (0.26, 0.22, 0.14),
    "endowment": (0.05, 0.06, 0.06),
    "participating": (0.03, 0.07, 0.12),
    "universal": (0.01, 0.03, 0.07),
    "medical": (0.24, 0.18, 0.10),
    "accident": (0.16, 0.10, 0.06),
    "other": (0.04, 0.04, 0.03),
}

# Annualised regular premium: median and log-sd (before the holder's wealth factor).
ANNUAL_PREMIUM = {
    "whole_life": (15_000, 0.8),
    "term_life": (1_500, 0.6),
    "annuity": (25_000, 0.8),
    "critical_illness": (5_500, 0.6),
    "endowment": (12_000, 0.7),
    "participating": (20_000, 0.8),
    "universal": (10_000, 0.8),
    "medical": (700, 0.5),
    "accident": (250, 0.5),
    "other": (4_000, 0.6),
}
# Single premium (趸交): share of long-term purchases paid in one go, median, log-sd.
SINGLE_PREMIUM = {
    "whole_life": (0.12, 150_000, 1.0),
    "annuity": (0.35, 200_000, 1.1),
    "endowment": (0.30, 100_000, 0.9),
    "participating": (0.35, 150_000, 1.0),
    "universal": (0.75, 200_000, 1.1),
}
# Payment years of regular-premium long-term coverages: options and probabilities.
PAYMENT_YEARS = {
    "whole_life": ((3, 5, 10, 20), (0.2, 0.3, 0.35, 0.15)),
    "term_life": ((10, 15, 20), (0.3, 0.1, 0.6)),
    "annuity": ((3, 5, 10), (0.3, 0.35, 0.35)),
    "critical_illness": ((5, 10, 15, 20), (0.05, 0.25, 0.15, 0.55)),
    "endowment": ((3, 5, 10), (0.3, 0.4, 0.3)),
    "participating": ((3, 5, 10, 20), (0.25, 0.35, 0.3, 0.1)),
    "universal": ((5, 10, 20), (0.4, 0.4, 0.2)),
    "other": ((10, 20), (0.4, 0.6)),
}
# Coverage term in months (0 = whole life) for long-term categories.
TERM_MONTHS = {
    "whole_life": ((0,), (1.0,)),
    "term_life": ((120, 240, 360), (0.3, 0.4, 0.3)),
    "annuity": ((0, 180, 240), (0.6, 0.2, 0.2)),
    "critical_illness": ((0, 360, 240), (0.65, 0.2, 0.15)),
    "endowment": ((60, 72, 120, 240), (0.25, 0.25, 0.3, 0.2)),
    "participating": ((0, 120, 180, 240), (0.4, 0.2, 0.2, 0.2)),
    "universal": ((0,), (1.0,)),
    "other": ((0, 240), (0.5, 0.5)),
}
ALLOWED_PAYMENT_YEARS = (1, 3, 5, 10, 15, 20)
GROUP_SHARE = 0.10  # of one-year medical / accident purchases
SUB_YEAR_ACCIDENT_SHARE = 0.12  # travel accident: 6 or 3 months, single premium
RENEWAL_PROB = {"medical": 0.75, "accident": 0.6, "group": 0.8}
MAX_RENEWALS = 6

# Riders sold with a long-term regular-premium main coverage.
RIDER_COUNT_PROBS = (0.55, 0.32, 0.10, 0.03)
RIDER_CATEGORIES = ("critical_illness", "medical", "accident", "other")
RIDER_CATEGORY_PROBS = (0.3, 0.3, 0.2, 0.2)
RIDER_ANNUAL_PREMIUM = {"critical_illness": 1_500, "medical": 400, "accident": 200, "other": 300}
ADD_RIDER_PROB = 0.04

# --- Events (per year unless said otherwise) --------------------------------------------------------------
FREE_LOOK_DAYS = 15
FREE_LOOK_CANCEL = {"long": 0.02, "bank": 0.035, "short": 0.004}
BANK_CATEGORIES = ("annuity", "participating", "universal", "whole_life")
SURRENDER_RATE = {"long": 0.015, "single": 0.025, "short": 0.01}
LAPSE_RATE = {"annual": 0.03, "frequent": 0.05}
REDUCED_PAID_UP_RATE = 0.004
PREMIUM_WAIVER_RATE = 0.002
DEATH_RATE = 0.0015
REINSTATE_PROB = 0.3
PERMANENT_LAPSE_PROB = 0.4  # lapses neither reinstated nor terminated stay lapsed
SURRENDER_AFTER_REINSTATE_PROB = 0.12
MATURITY_TERMINATE_PROB = {"long": 0.9, "short": 0.5}
PREMIUM_CHANGE_RATE = 0.02
TOP_UP_RATE = {"universal": 0.35, "annuity": 0.03, "participating": 0.03, "endowment": 0.02}
TOP_UP_MEDIAN = 30_000
# Recording lag of events (days): probabilities of same day, 1-3 days, 4-45 days, 46-120 days.
RECORD_LAG_PROBS = (0.65, 0.2, 0.12, 0.03)

# --- Relatives -------------------------------------------------------------------------------------------
SPOUSE_PROB = 0.65
CHILDREN_PROBS = (0.4, 0.4, 0.17, 0.03)
PARENTS_PROBS = (0.6, 0.2, 0.2)
OTHER_RELATIVE_PROB = 0.03
RELATIVE_AT_JOIN_PROB = 0.55
RELATIVE_LATER_MEAN_DAYS = 400

# --- Services --------------------------------------------------------------------------------------------
# uses per member-year by tier (family, star1..star5); booked ahead?; billed cost a unit (None = not
# billed per use, 0 = by variant; close to the warehouse's unit-cost assumptions);
# whether relatives may use it ("rel" = direct relatives, "one" = one designated relative, "" = member).
TIER_THRESHOLDS = (30_000, 45_000, 150_000, 300_000, 500_000)
SERVICES: dict[str, tuple[tuple[float, ...], bool, float | None, str, tuple[str, ...]]] = {
    "vip_hotline": ((0, 0.35, 0.4, 0.5, 0.6, 0.7), False, None, "", ("荟员服务中心",)),
    "legal_consult": ((0, 0, 0, 0.3, 0.35, 0.4), True, 600, "rel", ("明理律师事务所", "正衡法律服务")),
    "limousine": ((0, 0, 0.5, 0.6, 0.7, 1.2), True, 350, "rel", ("华夏礼宾出行", "途安专车")),
    "lounge": ((0, 0, 0.6, 0.7, 1.0, 1.2), False, 200, "rel", ("云途贵宾厅", "龙腾出行")),
    "health_checkup": ((0, 0, 0.55, 0.6, 0.65, 0.7), True, 0, "rel", ("康宁体检中心", "瑞康健康管理")),
    "gi_endoscopy": ((0, 0, 0, 0, 0.15, 0.2), True, 3_500, "", ("康宁体检中心", "仁和内镜中心")),
    "dental_cleaning": ((0, 0.4, 0.45, 0.5, 0.5, 0.55), True, 150, "rel", ("安心齿科", "皓齿口腔")),
    "cell_storage": ((0, 0, 0, 0, 0.04, 0.08), True, 0, "", ("生命之源细胞库",)),
    "health_assessment": ((0.3, 0.3, 0.35, 0.4, 0.4, 0.4), False, None, "", ("荟员健康App",)),
    "medical_video": ((1.4, 1.5, 1.6, 1.6, 1.6, 1.6), False, None, "", ("荟员健康App",)),
    "health_article": ((1.3, 1.4, 1.5, 1.5, 1.5, 1.5), False, None, "", ("荟员健康App",)),
    "doctor_chat": ((0.45, 0.5, 0.55, 0.6, 0.6, 0.6), False, 15, "", ("微诊家庭医生", "平和互联网医院")),
    "doctor_video": ((0.06, 0.08, 0.1, 0.12, 0.12, 0.12), True, 30, "", ("微诊家庭医生", "平和互联网医院")),
    "doctor_phone": ((0.1, 0.12, 0.14, 0.16, 0.16, 0.16), False, 25, "", ("微诊家庭医生",)),
    "outpatient_green": ((0, 0, 0, 0.3, 0.35, 0.4), True, 0, "rel", ("就医无忧", "康途医疗服务")),
    "hospital_escort": ((0, 0, 0, 0.2, 0.22, 0.25), True, 400, "rel", ("就医无忧", "暖心陪诊")),
    "critical_illness_green": ((0, 0, 0, 0.02, 0.02, 0.025), True, 3_000, "", ("康途医疗服务",)),
    "proton_green": ((0, 0, 0, 0.003, 0.004, 0.005), True, 5_000, "", ("康途医疗服务",)),
    "second_opinion": ((0, 0, 0, 0.03, 0.03, 0.035), True, 3_000, "", ("名医汇", "康途医疗服务")),
    "mdt_consult": ((0, 0, 0, 0.01, 0.012, 0.015), True, 8_000, "", ("名医汇",)),
    "elderly_butler": ((0, 0, 0, 0.3, 0.35, 0.4), False, 30, "one", ("颐年养老管家",)),
    "home_care": ((0, 0, 0, 0.3, 0.4, 0.45), True, 0, "one", ("颐和居家护理", "安家保洁服务")),
}
# Uses by tiers a service is not entitled to: about this share of the service's uses, spread over the
# lower tiers (approximate member shares by tier scale the rate).
NON_ENTITLED_SHARE = 0.03
TIER_SHARE_APPROX = (0.86, 0.047, 0.074, 0.014, 0.0038, 0.0018)
WAITING_SERVICES = ("critical_illness_green", "proton_green", "second_opinion", "mdt_consult")
ACTIVATION_PROB = {"waiting": 0.7, "digital": 0.3, "other": 0.2}
DIGITAL_SERVICES = (
    "health_assessment",
    "medical_video",
    "health_article",
    "doctor_chat",
    "doctor_video",
    "doctor_phone",
)
CHECKUP_COST = {"star2": 1_500, "star3": 2_500, "star4": 4_000, "star5": 6_500}
CELL_STORAGE_COST = {"10y": 20_000, "20y": 35_000}
HOME_CARE_COST = {"nursing": 2_400, "cleaning": 300}
OUTPATIENT_COST = {"standard": 800, "named_expert": 1_500}
UNRECORDED_VARIANT_SHARE = 0.03  # health_checkup / outpatient_green uses with no variant
UNRECORDED_VARIANT_COST = {"health_checkup": 2_500, "outpatient_green": 800}
VARIABLE_COST_SERVICES = (
    "limousine",
    "gi_endoscopy",
    "critical_illness_green",
    "proton_green",
    "second_opinion",
    "mdt_consult",
)
LEGAL_HOURS = (0.5, 1, 1, 1, 1.5, 2)
RELATIVE_USE_SHARE = {"rel": 0.3, "one": 0.5, "": 0.005}
# Uses a year (by tier, family..star5) members mostly stop at, knowing their quota; "once" services
# count over all years. Beyond it, only this share of further uses happens.
USUAL_LIMIT = {
    "legal_consult": (1, 1, 1, 1, 1, 1),
    "limousine": (1, 1, 1, 1, 1, 2),
    "lounge": (1, 1, 1, 1, 2, 2),
    "health_checkup": (1, 1, 1, 1, 1, 1),
    "gi_endoscopy": (1, 1, 1, 1, 1, 1),
    "dental_cleaning": (1, 1, 1, 1, 1, 1),
    "cell_storage": (1, 1, 1, 1, 1, 1),
    "outpatient_green": (1, 1, 1, 1, 1, 1),
    "hospital_escort": (1, 1, 1, 1, 1, 1),
    "critical_illness_green": (1, 1, 1, 1, 1, 1),
    "proton_green": (1, 1, 1, 1, 1, 1),
    "second_opinion": (1, 1, 1, 1, 1, 1),
    "mdt_consult": (1, 1, 1, 1, 1, 1),
    "home_care": (1, 1, 1, 1, 2, 2),
}
ONCE_SERVICES = ("gi_endoscopy", "cell_storage")
BEYOND_LIMIT_SHARE = 0.1
LOUNGE_PERSONS = (1, 1, 1, 1, 1, 1, 1, 2, 2, 2)
USAGE_OUTCOME_PROBS = (0.88, 0.08, 0.04)  # completed, cancelled, no_show (booked services)
USAGE_HORIZON_DAYS = 30  # bookings up to this many days after the last extract date
