"""Entry point: page configuration and navigation only. Pages live in pages/."""
from pathlib import Path

import streamlit as st

from engine import registry, ui

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="Deep Learning Top-10", page_icon="🧠", layout="wide")

sections = {"Overview": [st.Page(PAGES / "home.py", title="Home", default=True)]}
for family, keys in registry.FAMILIES.items():
    entries = [st.Page(PAGES / f"{key}.py", title=registry.card(key).title, url_path=key)
               for key in keys if key in ui.working_keys()]
    if entries:
        sections[family] = entries
tools = [st.Page(PAGES / f"{name}.py", title=title, url_path=name)
         for name, title in (("compare", "Compare"), ("runs", "Runs"), ("sweeps", "Sweeps"))
         if (PAGES / f"{name}.py").exists()]
if tools:
    sections["Tools"] = tools

page = st.navigation(sections, expanded=True)
ui.jobs_sidebar()
page.run()
