"""Entry point: `streamlit run Home.py`. Navigation only: engine.ui.navigate() sets up the
page, lists the pages in pages/ grouped by family, draws the shared sidebar and runs the
page the address names."""
from engine import ui

ui.navigate()
