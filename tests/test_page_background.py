"""Issue 27 item 6: every algorithm page opens its "How it works" with a Background (what
problem the algorithm answered when it appeared, who and when, what came before), in
English and in Chinese."""
from __future__ import annotations

import pytest

from apptest_tools import open_page
from engine import i18n, registry


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_card_has_a_short_background_with_dates(lang):
    for key in registry.KEYS:
        text = i18n.catalogue(lang).get(f"background.{key}")
        assert text and any(str(year) in text for year in range(1940, 2025)), key
        assert len(text) < (700 if lang == "en" else 400), key  # short: a paragraph


@pytest.mark.parametrize("name, lang", [("dnn", "zh"), ("gnn", "en")])
def test_the_page_shows_it_at_the_top_of_how_it_works(name, lang, store_dir):
    i18n.reset_fallbacks()
    at = open_page(name, 60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    shown = [m.value for m in at.expander[0].markdown]
    assert shown[0] == f"**{i18n.t('background.label', lang)}** {i18n.t(f'background.{name}', lang)}"
    assert not i18n.fallbacks()
