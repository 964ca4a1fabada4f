"""The management dashboard (Streamlit): `vipwh dashboard --warehouse FILE --port N`.

Each page is ``views/<url_path>.py``; ``app.py`` wires them into the navigation from ``PAGES``. The first
page is the default one, served at ``/`` (Streamlit ignores a default page's url_path).
"""

from typing import NamedTuple


class Page(NamedTuple):
    section: str
    url_path: str
    title: str
    icon: str


PAGES: tuple[Page, ...] = (
    Page("会员 Members", "overview", "概览 Overview", ":material/home:"),
    Page("会员 Members", "tier_distribution", "星级分布 Tier distribution", ":material/stacked_line_chart:"),
    Page("会员 Members", "tier_migration", "升降级流向 Tier flows", ":material/swap_vert:"),
    Page("会员 Members", "upcoming_drops", "即将降级 Upcoming drops", ":material/hourglass_bottom:"),
    Page("会员 Members", "member", "会员查询 Member", ":material/person_search:"),
    Page("权益 Benefits", "benefit_utilization", "权益使用 Utilization", ":material/grid_on:"),
    Page("权益 Benefits", "cost_leakage", "成本与渗漏 Cost & leakage", ":material/payments:"),
    Page("方案 Scenarios", "scenarios", "方案对比 Scenarios", ":material/compare_arrows:"),
    Page("数据 Data", "data_quality", "数据质量 Data quality", ":material/fact_check:"),
)
