"""A card's strings in a language: its title, texts, variants, settings and metric labels,
looked up in the catalogues under `card.<key>...` with the card's own English (from its
algorithm module) as the fall back. Takes a `Card`; never imports the registry."""
from __future__ import annotations

from engine.core import Card, config_fields
from engine.i18n import ENGLISH, catalogue, lookup, t


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


def title(card: Card, lang: str) -> str:
    return lookup(f"card.{card.key}.title", lang, card.title)


def summary(card: Card, lang: str) -> str:
    return lookup(f"card.{card.key}.summary", lang, card.summary)


def explanation(card: Card, lang: str) -> str:
    return lookup(f"card.{card.key}.explanation", lang, card.explanation)


def headline_label(card: Card, lang: str) -> str:
    return lookup(f"card.{card.key}.headline_label", lang, card.headline_label)


def variant_text(card: Card, variant: str, lang: str) -> str:
    """A variant's one-line description (the variant id itself stays as it is)."""
    return lookup(f"card.{card.key}.variant.{variant}", lang, card.variants[variant])


def variants(card: Card, lang: str) -> dict[str, str]:
    """variant id -> its description in `lang`, in the card's order."""
    return {v: variant_text(card, v, lang) for v in card.variants}


def _field(card: Card, name: str):
    for f in config_fields(card.config_cls):
        if f.name == name:
            return f
    raise KeyError(f"{card.key} has no setting {name!r}")


def setting_help(card: Card, name: str, lang: str) -> str:
    return lookup(f"card.{card.key}.setting.{name}.help", lang,
                  _field(card, name).metadata["help"])


def setting_label(card: Card, name: str, lang: str) -> str:
    """A setting's label: the field name in English, a Chinese name in zh."""
    return lookup(f"card.{card.key}.setting.{name}.label", lang, _field(card, name).name)


def metric_label(card: Card, metric: str, lang: str) -> str:
    """A metric's label: the card's own label if it has one, else the shared one from the
    catalogue (`metric.<metric key>`), else the key itself (identifiers stay)."""
    if metric in card.metric_labels:
        return lookup(f"card.{card.key}.metric.{metric}", lang, card.metric_labels[metric])
    if f"metric.{metric}" in catalogue(ENGLISH):
        return t(f"metric.{metric}", lang)
    return metric
