"""Every string a visitor reads, in English and 简体中文. Streamlit-free.

Two kinds of string, one key scheme (dotted keys, the last parts may be identifiers such as
`test/acc`):

- card strings: the English lives in the algorithm modules (CARD and each Config's
  `setting(help=...)`), which stay the source; `zh.toml` holds their Chinese under
  `card.<key>.title|summary|explanation|headline_label`, `card.<key>.variant.<variant>`,
  `card.<key>.setting.<field>.help|label` and `card.<key>.metric.<metric key>`, plus
  `family.<family>` and `preset.<preset>` for the registry's names. A setting's English
  label is its field name (what the CLI takes).
- interface strings: `en.toml` holds the English, `zh.toml` the Chinese, same keys.

`t(key, lang, **fields)` looks a key up, falls back to English and, when English lacks it
too, to the key itself; every fall back is recorded (`fallbacks()`), so a test can render
the pages and demand none. `missing_keys` / `stale_keys` / `changed_keys` compare the
catalogues with what the code asks for; `python -m engine.i18n` prints them and
`python -m engine.i18n stamp` records the English each Chinese string was written from.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import string
import tomllib
from pathlib import Path

from engine import registry
from engine.core import ConfigError, config_fields
from engine.registry import Card

LANGS = ("en", "zh")
ENGLISH = "en"
LANG_NAMES = {"en": "English", "zh": "简体中文"}  # each in its own language, never translated
HERE = Path(__file__).resolve().parent
SOURCES = HERE / "zh.sources.json"  # key -> hash of the English the Chinese renders

_fallbacks: set[tuple[str, str]] = set()


# ---- languages ---------------------------------------------------------------------------
def match(text: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_TW.UTF-8' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    head = (text or "").strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    return head if head in LANGS else None


def cli_lang() -> str:
    """TOP10_LANG for the CLI's messages: English unless set to zh (or a zh locale name)."""
    raw = os.environ.get("TOP10_LANG", "").strip()
    if not raw:
        return ENGLISH
    lang = match(raw)
    if lang is None:
        raise ConfigError("error.lang_env", value=repr(raw), langs=" or ".join(LANGS))
    return lang


# ---- catalogues and lookup ---------------------------------------------------------------
def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat catalogue of one language: dotted key -> text (read once per process)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    with open(HERE / f"{lang}.toml", "rb") as handle:
        return _flatten(tomllib.load(handle))


def _lookup(key: str, lang: str, english: str) -> str:
    """The text of `key` in `lang`; `english` (recorded as a fall back) when it has none."""
    if lang == ENGLISH:
        return english
    text = catalogue(lang).get(key)
    if text is None:
        _fallbacks.add((lang, key))
        return english
    return text


def t(key: str, lang: str, **fields) -> str:
    """An interface string in `lang`, its {fields} filled in; English when `lang` lacks it,
    the key itself when English lacks it too (both recorded in fallbacks())."""
    english = catalogue(ENGLISH).get(key)
    if english is None:
        _fallbacks.add((ENGLISH, key))
        english = key
    return _lookup(key, lang, english).format(**fields)


def fallbacks() -> set[tuple[str, str]]:
    """(language, key) of every lookup since reset_fallbacks() that found no text there."""
    return set(_fallbacks)


def reset_fallbacks() -> None:
    _fallbacks.clear()


# ---- card strings ------------------------------------------------------------------------
def card_strings(card: Card) -> dict[str, str]:
    """Every catalogue key one card needs -> its English (from the algorithm module)."""
    base = f"card.{card.key}"
    strings = {f"{base}.title": card.title, f"{base}.summary": card.summary,
               f"{base}.explanation": card.explanation,
               f"{base}.headline_label": card.headline_label}
    strings.update({f"{base}.variant.{v}": text for v, text in card.variants.items()})
    for f in config_fields(card.config_cls):
        strings[f"{base}.setting.{f.name}.help"] = f.metadata["help"]
        strings[f"{base}.setting.{f.name}.label"] = f.name
    strings.update({f"{base}.metric.{m}": text for m, text in card.metric_labels.items()})
    return strings


def registry_strings() -> dict[str, str]:
    """The registry's own names shown to visitors: families and presets."""
    return {**{f"family.{name}": name for name in registry.FAMILIES},
            **{f"preset.{name}": name for name in registry.PRESETS}}


def title(card: Card, lang: str) -> str:
    return _lookup(f"card.{card.key}.title", lang, card.title)


def summary(card: Card, lang: str) -> str:
    return _lookup(f"card.{card.key}.summary", lang, card.summary)


def explanation(card: Card, lang: str) -> str:
    return _lookup(f"card.{card.key}.explanation", lang, card.explanation)


def headline_label(card: Card, lang: str) -> str:
    return _lookup(f"card.{card.key}.headline_label", lang, card.headline_label)


def variant_text(card: Card, variant: str, lang: str) -> str:
    """A variant's one-line description (the variant id itself stays as it is)."""
    return _lookup(f"card.{card.key}.variant.{variant}", lang, card.variants[variant])


def variants(card: Card, lang: str) -> dict[str, str]:
    """variant id -> its description in `lang`, in the card's order."""
    return {v: variant_text(card, v, lang) for v in card.variants}


def _field(card: Card, name: str):
    for f in config_fields(card.config_cls):
        if f.name == name:
            return f
    raise KeyError(f"{card.key} has no setting {name!r}")


def setting_help(card: Card, name: str, lang: str) -> str:
    return _lookup(f"card.{card.key}.setting.{name}.help", lang,
                   _field(card, name).metadata["help"])


def setting_label(card: Card, name: str, lang: str) -> str:
    """A setting's label: the field name in English, a Chinese name in zh."""
    return _lookup(f"card.{card.key}.setting.{name}.label", lang, _field(card, name).name)


def metric_label(card: Card, metric: str, lang: str) -> str:
    """A metric's label: the card's own label if it has one, else the shared one from the
    catalogue (`metric.<metric key>`), else the key itself (identifiers stay)."""
    if metric in card.metric_labels:
        return _lookup(f"card.{card.key}.metric.{metric}", lang, card.metric_labels[metric])
    if f"metric.{metric}" in catalogue(ENGLISH):
        return t(f"metric.{metric}", lang)
    return metric


def optional(prefix: str, name: str, lang: str) -> str:
    """`name` in `lang` when the catalogue has `<prefix>.<name>` (a table header, a status),
    else `name` itself: identifiers such as metric keys stay as they are."""
    key = f"{prefix}.{name}"
    return t(key, lang) if key in catalogue(ENGLISH) else name


def note(text: str, lang: str) -> str:
    """A run's progress note (free text the training code writes, e.g. "seed 1, epoch 2/5")
    in `lang`: each phrase of the `note` table (longest first, whole words) is replaced;
    numbers and punctuation stay. English returns the note as it is."""
    if lang == ENGLISH or not text:
        return text
    pattern, table = _note_table(lang)
    text = pattern.sub(lambda m: table[m.group(0)], text).replace(", ", "，").replace(": ", "：")
    return re.sub(r"\s+(?=[，：])", "", text)


@functools.cache
def _note_table(lang: str) -> tuple[re.Pattern, dict[str, str]]:
    table = {key.removeprefix("note."): text for key, text in catalogue(lang).items()
             if key.startswith("note.")}
    phrases = sorted(table, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, phrases)) + r")\b"), table


def family_name(family: str, lang: str) -> str:
    return _lookup(f"family.{family}", lang, family)


def preset_name(preset: str, lang: str) -> str:
    return _lookup(f"preset.{preset}", lang, preset)


# ---- completeness ------------------------------------------------------------------------
def all_cards() -> list[Card]:
    return [registry.card(key) for key in registry.KEYS]


def english_strings(cards: list[Card] | None = None) -> dict[str, str]:
    """Every key any language must have -> its English: cards, registry names, en.toml."""
    strings = dict(catalogue(ENGLISH))
    strings.update(registry_strings())
    for card in all_cards() if cards is None else cards:
        strings.update(card_strings(card))
    return strings


def missing_keys(lang: str, cards: list[Card] | None = None) -> list[str]:
    """Keys the code asks for that `lang` has no text for (sorted)."""
    return sorted(set(english_strings(cards)) - set(catalogue(lang)))


def stale_keys(lang: str, cards: list[Card] | None = None) -> list[str]:
    """Keys `lang` holds that nothing asks for any more (a renamed variant, a removed field)."""
    return sorted(set(catalogue(lang)) - set(english_strings(cards)))


def placeholder_mismatches(lang: str) -> list[str]:
    """Keys whose {fields} differ between English and `lang` (t() would fail on them)."""
    english = english_strings()
    return sorted(key for key, text in catalogue(lang).items()
                  if key in english and _fields(text) != _fields(english[key]))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def recorded_sources() -> dict[str, str]:
    return json.loads(SOURCES.read_text()) if SOURCES.exists() else {}


def changed_keys(cards: list[Card] | None = None) -> list[str]:
    """Keys whose English changed since their Chinese was written (or was never stamped)."""
    recorded = recorded_sources()
    zh = catalogue("zh")
    return sorted(key for key, text in english_strings(cards).items()
                  if key in zh and recorded.get(key) != _digest(text))


def stamp() -> int:
    """Record the English behind every Chinese string; run it after updating zh.toml."""
    zh = catalogue("zh")
    hashes = {key: _digest(text) for key, text in sorted(english_strings().items()) if key in zh}
    SOURCES.write_text(json.dumps(hashes, indent=0, sort_keys=True) + "\n")
    return len(hashes)
