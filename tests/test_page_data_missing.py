"""Issue 27 items 10 and 5: with no dataset mirror and no network, the CNN, LSTM, Transformer
and GNN pages keep their shipped results, tables and curves; a section that needs the
missing dataset is one line in the visitor's language instead of a traceback (the char-LM
sections need none: a run's characters are stored with it). A first download is announced
while it runs, a failed one is not retried on every rerun, and the errors a page ends in
(a missing dataset, a damaged or read-only store) read in the visitor's language."""
from __future__ import annotations

import socket

import pytest
from streamlit.testing.v1 import AppTest

from apptest_tools import ROOT, button, open_page
from engine import data, i18n
from engine.algorithms import gnn
from engine.data import DataMissing, graphs, images, text

CHINESE = ("这台服务器上没有", "TOP10_DATA_MIRROR")


def no_network(*args, **kwargs):
    raise socket.gaierror("no network in this test")


@pytest.fixture
def offline(monkeypatch, store_dir, tmp_path):
    """Shipped results, no mirror, an empty data folder, and no network at all."""
    monkeypatch.setenv("TOP10_STORE_MIRROR", str(ROOT / "results"))
    monkeypatch.delenv("TOP10_DATA_MIRROR", raising=False)
    monkeypatch.setenv("TOP10_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    loaders = (images.load_images, text.load_shakespeare, graphs.load_planetoid, gnn.graph_ops)
    for loader in loaders:  # an earlier test of this process may hold the real datasets
        loader.cache_clear()
    data._failed.clear()
    yield
    for loader in loaders:
        loader.cache_clear()
    data._failed.clear()


def run(name: str, lang: str) -> AppTest:
    at = open_page(name, 180)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception[0].value
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name, dataset, kept", [
    ("cnn", "MNIST", ("page.cnn.params_vs_acc", "page.cnn.first_layer", "page.cnn.draw",
                      "page.wrong")),
    ("gnn", "Cora", ("page.gnn.spread",)),
])
def test_a_page_whose_dataset_is_missing_says_so_in_one_line(offline, name, dataset, kept, lang):
    at = run(name, lang)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and dataset in warnings[0], warnings
    if lang == "zh":
        assert all(part in warnings[0] for part in CHINESE), warnings
        assert "not on this server" not in warnings[0]
    else:
        assert "not on this server" in warnings[0] and "TOP10_DATA_MIRROR" in warnings[0]
    subheaders = [s.value for s in at.subheader]
    for key in ("ui.side_by_side", *kept):  # the shipped results and what needs no dataset
        assert i18n.t(key, lang) in subheaders, subheaders
    assert at.dataframe  # the metrics table of the shipped runs
    assert not any(e.value for e in at.error)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name, section", [("lstm", "page.lstm.inside"),
                                           ("transformer", "page.transformer.looks")])
def test_char_lm_pages_need_no_corpus_for_their_shipped_runs(offline, name, section, lang):
    at = run(name, lang)
    assert i18n.t(section, lang) in [s.value for s in at.subheader]
    assert not at.warning and not at.error  # the run's stored characters encode the probe
    if lang != "en":
        return  # AppTest cannot rerun a page whose radio shows translated options
    button(at, i18n.t("seq.generate", lang)).click().run()
    assert not at.exception, at.exception
    written = [c.value for c in at.code if c.language != "python"]  # not the page's source
    assert written and all(w.startswith("ROMEO:") for w in written), written


def test_a_download_is_announced_and_a_failure_is_not_retried_at_once():
    seen, tries = [], []
    data._failed.pop("Demo", None)
    with data.on_download(seen.append):
        with data.download("Demo", []):
            tries.append(1)
        assert seen == ["Demo"] and not data._failed
        for _ in range(2):
            with pytest.raises(DataMissing, match="Demo is not available.*Download failed: down"):
                with data.download("Demo", ["/nowhere"]):
                    tries.append(2)
                    raise OSError("down")
    assert tries == [1, 2] and seen == ["Demo", "Demo"]  # the second failure was not tried
    assert "下载失败：down" in DataMissing("Demo", [], "down").text("zh")
    data._failed.pop("Demo", None)


def _section_script(outcome: str) -> None:
    import streamlit as st

    from engine import data, ui

    with ui.needs_data():
        st.markdown("drawn before the data was read")
        with data.download("Demo", []):
            if outcome == "fails":
                raise OSError("down")
            st.stop()  # as seen while the download runs: the line naming it is up
    st.markdown("the rest of the page")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_section_shows_its_download_and_becomes_one_line_when_it_fails(lang, store_dir):
    data._failed.pop("Demo", None)
    at = AppTest.from_function(_section_script, args=("downloads",), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert [i.value for i in at.info] == [i18n.t("ui.downloading", lang, dataset="Demo")]
    at = AppTest.from_function(_section_script, args=("fails",), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert "the rest of the page" in shown and "drawn before the data was read" not in shown
    assert [w.value for w in at.warning] == [
        i18n.t("ui.data_missing_failed", lang, dataset="Demo", reason="down")]
    data._failed.pop("Demo", None)


def _boundary_script(error: str) -> None:
    import streamlit as st

    from engine import ui
    from engine.data import DataMissing
    from engine.store import BadRow, StoreDamaged, StoreReadOnly

    class Failing:  # what st.navigation returns, with a page that raises
        def run(self):
            raise {"data": DataMissing("MNIST", ["/x"], "offline"),
                   "damaged": StoreDamaged("the run store index /s/index.sqlite is damaged"),
                   "row": BadRow("run 'x' in the store index cannot be read"),
                   "read_only": StoreReadOnly("the run store /s is read-only")}[error]

    real, st.navigation = st.navigation, lambda *a, **k: Failing()
    try:
        ui.navigate()
    finally:
        st.navigation = real  # the module is shared with every later AppTest


@pytest.mark.parametrize("error, chinese", [("data", "找不到 MNIST"), ("damaged", "索引已损坏"),
                                            ("row", "有一行无法读取"), ("read_only", "只读")])
def test_a_page_ending_in_a_data_or_store_error_reads_in_chinese(error, chinese, store_dir):
    i18n.reset_fallbacks()
    at = AppTest.from_function(_boundary_script, args=(error,), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    lines = [e.value.replace("\\", "") for e in at.error]
    assert len(lines) == 1 and chinese in lines[0], lines
    assert not any(word in lines[0] for word in ("is not available", "damaged", "read-only"))
    assert not i18n.fallbacks()
