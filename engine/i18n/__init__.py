"""Every string a visitor reads, in English and 简体中文: the catalogues and their lookup.
Streamlit-free, and it imports nothing from engine (engine.core's ConfigError renders its
line through `t`), so any module may use it without loading the cards or torch.

Two kinds of string, one key scheme (dotted keys, the last parts may be identifiers such as
`test/acc`):

- card strings: the English lives in the algorithm modules (CARD and each Config's
  `setting(help=...)`), which stay the source; `zh.toml` holds their Chinese under
  `card.<key>.title|summary|explanation|headline_label`, `card.<key>.variant.<variant>`,
  `card.<key>.setting.<field>.help|label` and `card.<key>.metric.<metric key>`, plus
  `family.<family>` and `preset.<preset>` for the registry's names. A setting's English
  label is its field name (what the CLI takes). `engine.i18n.card_text` looks them up for
  a `Card`.
- interface strings: `en.toml` holds the English, `zh.toml` the Chinese, same keys.

`t(key, lang, **fields)` looks a key up, falls back to English and, when English lacks it
too, to the key itself; every fall back is recorded (`fallbacks()`), so a test can render
the pages and demand none. `engine.i18n.audit` (`missing_keys` / `stale_keys` /
`changed_keys`) compares the catalogues with what the ten cards ask for;
`python -m engine.i18n` prints them and `python -m engine.i18n stamp` records the English
each Chinese string was written from.
"""
from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

LANGS = ("en", "zh")
ENGLISH = "en"
LANG_NAMES = {"en": "English", "zh": "简体中文"}  # each in its own language, never translated
HERE = Path(__file__).resolve().parent

_fallbacks: set[tuple[str, str]] = set()


# ---- languages ---------------------------------------------------------------------------
def match(text: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_TW.UTF-8' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    head = (text or "").strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    return head if head in LANGS else None


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


def lookup(key: str, lang: str, english: str) -> str:
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
    return lookup(key, lang, english).format(**fields)


class Said(Exception):
    """Mixed into an exception whose message a visitor reads: raised with a catalogue key
    and its fields, str() is the English line (logs, the CLI), text(lang) the same line in
    the visitor's language. Subclasses: UnknownWord, BadImage (ConfigError has its own)."""

    def __init__(self, key: str, **fields):
        self.key, self.fields = key, fields
        super().__init__(self.text(ENGLISH))

    def text(self, lang: str) -> str:
        return t(self.key, lang, **self.fields)

    def __str__(self) -> str:  # KeyError's would quote the line
        return self.args[0]


def fallbacks() -> set[tuple[str, str]]:
    """(language, key) of every lookup since reset_fallbacks() that found no text there."""
    return set(_fallbacks)


def reset_fallbacks() -> None:
    _fallbacks.clear()


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
    return lookup(f"family.{family}", lang, family)


def preset_name(preset: str, lang: str) -> str:
    return lookup(f"preset.{preset}", lang, preset)
