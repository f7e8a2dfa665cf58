"""The catalogues: zh has every string the cards and the interface need, nothing stale, the
same {fields} as English, Chinese written from the current English; lookups fall back to
English and record it; the language switch round-trips through the URL."""
from __future__ import annotations

import dataclasses
import re

import pytest
from streamlit.testing.v1 import AppTest

from engine import i18n, registry
from engine.cli import cli_lang
from engine.core import ConfigError
from engine.i18n import audit, card_text

CJK = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character


def _listed(keys: list[str]) -> str:
    return f"{len(keys)} keys: " + ", ".join(keys)


def test_zh_has_every_key_the_code_asks_for():
    missing = audit.missing_keys("zh")
    assert not missing, "no Chinese for " + _listed(missing)


def test_zh_has_no_stale_keys():
    stale = audit.stale_keys("zh")
    assert not stale, "zh.toml holds keys nothing asks for: " + _listed(stale)


def test_chinese_was_written_from_the_current_english():
    changed = audit.changed_keys()
    assert not changed, ("English changed since its Chinese was written; update zh.toml, then "
                         "run `python -m engine.i18n stamp`: " + _listed(changed))


def test_fields_match_english():
    assert audit.placeholder_mismatches("zh") == []


def test_zh_strings_differ_from_english():
    """A string copied over in English would pass the key checks. Only names stay the same."""
    same_in_both = {"card.gan.metric.eval/fid", "card.diffusion.metric.eval/fid",
                    "card.gan.setting.beta1.label"}
    english = audit.english_strings()
    copied = sorted(key for key, text in i18n.catalogue("zh").items()
                    if text == english[key] and key not in same_in_both)
    assert not copied, "not translated: " + _listed(copied)


def test_every_declared_metric_has_a_label_in_both_languages():
    for card in audit.all_cards():
        for metric in card.metrics:
            for lang in i18n.LANGS:
                assert card_text.metric_label(card, metric, lang) != metric, (card.key, metric, lang)


def test_a_string_added_in_english_only_is_named(monkeypatch):
    monkeypatch.setitem(i18n.catalogue("en"), "ui.brand_new", "Brand new")
    assert audit.missing_keys("zh") == ["ui.brand_new"]
    dnn = registry.card("dnn")
    grown = dataclasses.replace(dnn, variants={**dnn.variants, "wide": "one very wide layer"})
    assert audit.missing_keys("zh", [grown]) == ["card.dnn.variant.wide", "ui.brand_new"]


def test_an_edited_english_string_is_named():
    dnn = registry.card("dnn")
    edited = dataclasses.replace(dnn, summary=dnn.summary + " Now with more layers.")
    assert audit.changed_keys([edited]) == ["card.dnn.summary"]


def test_a_renamed_field_leaves_a_stale_key():
    dnn = registry.card("dnn")
    fewer = dataclasses.replace(dnn, variants={"mlp": dnn.variants["mlp"]})
    stale = audit.stale_keys("zh", [fewer, *[c for c in audit.all_cards() if c.key != "dnn"]])
    assert stale == ["card.dnn.variant.deep", "card.dnn.variant.logreg"]


def test_lookups_fall_back_to_english_and_are_recorded(monkeypatch):
    i18n.reset_fallbacks()
    dnn = registry.card("dnn")
    assert card_text.summary(dnn, "zh") != dnn.summary
    assert card_text.summary(dnn, "en") == dnn.summary
    assert i18n.t("ui.language", "zh") == "语言"
    assert i18n.fallbacks() == set()

    monkeypatch.delitem(i18n.catalogue("zh"), "card.dnn.summary")
    monkeypatch.delitem(i18n.catalogue("zh"), "ui.language")
    assert card_text.summary(dnn, "zh") == dnn.summary
    assert i18n.t("ui.language", "zh") == "Language"
    assert i18n.t("ui.no_such_key", "zh") == "ui.no_such_key"
    assert i18n.fallbacks() == {("zh", "card.dnn.summary"), ("zh", "ui.language"),
                                ("zh", "ui.no_such_key"), ("en", "ui.no_such_key")}
    i18n.reset_fallbacks()


def test_t_fills_fields(monkeypatch):
    monkeypatch.setitem(i18n.catalogue("en"), "ui.runs_done", "{n} runs done")
    monkeypatch.setitem(i18n.catalogue("zh"), "ui.runs_done", "已完成 {n} 次运行")
    assert i18n.t("ui.runs_done", "zh", n=3) == "已完成 3 次运行"
    assert i18n.t("ui.runs_done", "en", n=3) == "3 runs done"


def test_card_helpers_give_chinese():
    gan = registry.card("gan")
    assert card_text.title(gan, "zh") == "GAN（生成对抗网络）"
    assert card_text.setting_label(gan, "z_dim", "en") == "z_dim"
    assert CJK.search(card_text.setting_label(gan, "z_dim", "zh"))
    assert CJK.search(card_text.setting_help(gan, "ema", "zh"))
    assert list(card_text.variants(gan, "zh")) == list(gan.variants)
    assert card_text.metric_label(gan, "eval/confidence", "zh") == "平均置信度"
    assert card_text.metric_label(gan, "test/acc", "zh") == "测试准确率"  # shared label
    assert card_text.metric_label(gan, "no/such", "zh") == "no/such"  # identifiers stay
    assert i18n.family_name("Vision", "zh") == "视觉"
    assert i18n.preset_name("quick", "zh") == "快速"
    assert card_text.explanation(gan, "zh").count("**") == gan.explanation.count("**")


def test_explanations_keep_their_markdown_and_numbers():
    for card in audit.all_cards():
        zh = card_text.explanation(card, "zh")
        assert zh.count("**") == card.explanation.count("**"), card.key
        assert sorted(re.findall(r"`[^`]+`", zh)) == sorted(re.findall(r"`[^`]+`",
                                                                      card.explanation)), card.key
        numbers = set(re.findall(r"\d[\d,.]*\d|\d", card.explanation))
        assert numbers <= set(re.findall(r"\d[\d,.]*\d|\d", zh)), (card.key, numbers)


@pytest.mark.parametrize("text, lang", [("zh", "zh"), ("zh-CN", "zh"), ("zh_TW.UTF-8", "zh"),
                                        ("en-GB", "en"), ("fr-FR", None), ("", None),
                                        (None, None)])
def test_match(text, lang):
    assert i18n.match(text) == lang


def test_cli_language(monkeypatch):
    monkeypatch.delenv("TOP10_LANG", raising=False)
    assert cli_lang() == "en"
    monkeypatch.setenv("TOP10_LANG", "zh_CN.UTF-8")
    assert cli_lang() == "zh"
    monkeypatch.setenv("TOP10_LANG", "fr")
    with pytest.raises(ConfigError, match=r"^TOP10_LANG='fr': use en or zh$"):
        cli_lang()


def _switch_page():
    import streamlit as st

    from engine.ui import lang

    st.write(f"lang={lang.switch()}")


def test_switch_round_trips_through_the_url():
    app = AppTest.from_function(_switch_page)
    app.query_params["lang"] = "zh"
    app.run()
    assert not app.exception
    assert app.markdown[0].value == "lang=zh"
    radio = app.sidebar.radio[0]
    assert radio.label == "语言" and radio.value == "zh"

    radio.set_value("en").run()
    assert app.markdown[0].value == "lang=en"
    assert app.query_params["lang"] == "en"
    assert app.sidebar.radio[0].label == "Language"

    app.query_params["lang"] = "zh"  # a link or a hand-edited URL wins over the last choice
    app.run()
    assert app.markdown[0].value == "lang=zh" and app.sidebar.radio[0].value == "zh"
    del app.query_params["lang"]  # a page link that drops the query keeps the choice
    app.run()
    assert app.markdown[0].value == "lang=zh" and app.query_params["lang"] == "zh"


def test_no_lang_in_the_url_follows_the_locale_and_writes_it_back():
    app = AppTest.from_function(_switch_page)
    app.run()
    assert not app.exception
    lang = app.markdown[0].value.removeprefix("lang=")
    assert lang in i18n.LANGS
    assert app.query_params["lang"] == lang


@pytest.mark.parametrize("note", [
    "seed 1, epoch 2/5", "step 1,000/10,000, eval median 23 over 5 seeds, 0 solved",
    "seed 0: scoring 500 samples", "training the yardstick classifier: epoch 1/2",
    "epoch 3/50, 5 models", "seed 2: sampled 250/1000", "step 500/2,000, agent 2/5",
    "reading the corpus", "scoring the whole validation text", "evaluating",
    "drawing the hidden layer in 2-D"])
def test_progress_notes_read_in_chinese(note):
    """The notes the training code writes (engine/algorithms): in zh no English word is
    left (2-D stays), the numbers are kept, English gets the note unchanged."""
    zh = i18n.note(note, "zh")
    assert not re.search(r"[A-Za-z]{2,}", zh.replace("2-D", "")), zh
    assert re.findall(r"[\d,/]+\d", zh) == re.findall(r"[\d,/]+\d", note), zh
    assert i18n.note(note, "en") == note
