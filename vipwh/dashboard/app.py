"""Entry point of the management dashboard: `vipwh dashboard` runs `streamlit run` on this file.

The warehouse is taken from env VIPWH_WAREHOUSE (set by the CLI); pages read its latest published
snapshot only.
"""

from pathlib import Path

import streamlit as st

from vipwh.dashboard import PAGES

VIEWS = Path(__file__).parent / "views"

# No Deploy button or developer menu for readers (also set for `streamlit run` by .streamlit/config.toml).
st.set_option("client.toolbarMode", "viewer")
st.set_page_config(page_title="臻选荟员 VIP dashboard", page_icon=":material/star:", layout="wide")

sections: dict[str, list] = {}
for number, page in enumerate(PAGES):
    sections.setdefault(page.section, []).append(
        st.Page(
            VIEWS / f"{page.url_path}.py", title=page.title, icon=page.icon, url_path=page.url_path, default=number == 0
        )
    )
st.navigation(sections).run()
