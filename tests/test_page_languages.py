"""Every page in both languages. In Chinese nothing the code asks the catalogues for falls
back to English, with an empty store (fast) and with a quick run of every variant stored
(slow: it trains them). Every key the code names literally exists in en.toml."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_tools import HOME, open_page
from engine import cli, i18n, registry

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["home", *registry.KEYS, "compare", "runs", "sweeps"]
CJK = re.compile(r"[\u4e00-\u9fff]")
# tr("key"), t("key", lang), i18n.t("key", ...) and ConfigError("key", ...) with a literal key
LITERAL = re.compile(r"""\b(?:tr|t|TR|ConfigError)\(\s*f?["']([a-z_]+\.[^"'{}]+)["']""")


def code_keys() -> dict[str, str]:
    """Literal catalogue keys in the pages and the engine -> the file naming each."""
    found = {}
    for path in [ROOT / "Home.py", *ROOT.glob("pages/*.py"), *ROOT.glob("engine/**/*.py")]:
        for key in LITERAL.findall(path.read_text()):
            found.setdefault(key, str(path.relative_to(ROOT)))
    return found


def test_every_key_the_code_names_is_in_english():
    keys = code_keys()
    assert len(keys) > 300  # the scan sees the code's keys (it would pass on none)
    missing = sorted(f"{key} ({where})" for key, where in keys.items()
                     if key not in i18n.catalogue("en"))
    assert not missing, "no English for: " + ", ".join(missing)


def test_every_config_error_is_raised_with_a_catalogue_key():
    """So the pages can show it in the visitor's language (ConfigError.text(lang))."""
    raised = {}
    for path in ROOT.glob("engine/**/*.py"):
        for first in re.findall(r"raise ConfigError\(\s*([^,)\n]*)", path.read_text()):
            raised.setdefault(first, str(path.relative_to(ROOT)))
    assert len(raised) > 30
    plain = sorted(f"{first} ({where})" for first, where in raised.items()
                   if not first.startswith('"error.') and not first.endswith("_key"))
    assert not plain, "ConfigError without a catalogue key: " + "; ".join(plain)


def render(name: str, lang: str, query: dict | None = None, state: dict | None = None):
    i18n.reset_fallbacks()
    # Home through Home.py, whose navigation its page links need; the others as their files
    at = AppTest.from_file(HOME, default_timeout=300) if name == "home" else \
        open_page(name, default_timeout=300)
    at.query_params["lang"] = lang
    at.query_params.update(query or {})
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, (name, lang, at.exception[0].value)
    return at


def check(at, name: str, lang: str) -> None:
    assert i18n.fallbacks() == set(), (name, lang, sorted(i18n.fallbacks()))
    assert at.query_params["lang"] == lang
    title = at.title[0].value
    assert bool(CJK.search(title)) == (lang == "zh") or name in registry.KEYS, (name, title)


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_both_languages_without_runs(name, lang, store_dir):
    at = render(name, lang)
    check(at, name, lang)


@pytest.fixture(scope="module")
def quick_store(tmp_path_factory):
    """A store holding a quick run of every variant of every algorithm (trained here)."""
    store, data = tmp_path_factory.mktemp("store"), tmp_path_factory.mktemp("data")
    saved = {k: os.environ.get(k) for k in ("TOP10_STORE", "TOP10_DATA_DIR")}
    os.environ.update(TOP10_STORE=str(store), TOP10_DATA_DIR=str(data))
    for key in registry.KEYS:
        assert cli.main(["run", key, "--preset", "quick"]) == 0, key
    yield store
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.mark.slow
@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_both_languages_with_quick_runs(name, lang, quick_store):
    from engine.store import Store

    query = {}
    if name == "compare":
        done = [r["id"] for r in Store(quick_store).list_runs(status="done")]
        query = {"runs": ",".join(done[:3])}
    # The pages open at the standard preset; these runs are quick. (Set before the first run:
    # AppTest cannot replay a radio whose options a format_func translated.)
    state = {f"{name}:preset": "quick"} if name in registry.KEYS else {}
    at = render(name, lang, query, state)
    check(at, name, lang)
    if name in registry.KEYS:
        assert at.dataframe, (name, "no results table: the quick runs did not show")
        if lang == "zh":
            assert CJK.search(at.subheader[0].value), (name, at.subheader[0].value)
