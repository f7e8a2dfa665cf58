"""Entry point: page configuration and navigation only. Pages live in pages/."""
from pathlib import Path

import streamlit as st

from engine import registry

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="Deep Learning Top-10", page_icon="🧠", layout="wide")

sections = {"Overview": [st.Page(PAGES / "home.py", title="Home", icon="🏠", default=True)]}
for family, keys in registry.FAMILIES.items():
    entries = [st.Page(PAGES / f"{key}.py", title=registry.card(key).title, url_path=key)
               for key in keys if key in registry.available() and (PAGES / f"{key}.py").exists()]
    if entries:
        sections[family] = entries
tools = [st.Page(PAGES / f"{name}.py", title=title, icon=icon, url_path=name)
         for name, title, icon in (("compare", "Compare", "📊"), ("runs", "Runs", "🗂️"))
         if (PAGES / f"{name}.py").exists()]
if tools:
    sections["Tools"] = tools

st.navigation(sections).run()
