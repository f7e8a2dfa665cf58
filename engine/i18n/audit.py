"""How complete the catalogues are: every key the ten cards and the interface ask for,
compared with what each language holds (missing, stale, changed since translated, {fields}
that differ). Imports the registry (and so the algorithm modules): it serves
`python -m engine.i18n` and the tests, never a page or a figure."""
from __future__ import annotations

import hashlib
import json
import string

from engine import names, registry
from engine.core import Card
from engine.i18n import ENGLISH, HERE, catalogue
from engine.i18n.card_text import card_strings

SOURCES = HERE / "zh.sources.json"  # key -> hash of the English the Chinese renders


def registry_strings() -> dict[str, str]:
    """The registry's own names shown to visitors: families, presets and the labels a run
    carries when it is no preset (custom, sweep)."""
    return {**{f"family.{name}": name for name in names.FAMILIES},
            **{f"preset.{name}": name for name in (*names.PRESETS, *names.LABELS)}}


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
