"""Public mode (TOP10_PUBLIC=1, from the environment or Streamlit secrets): what a visitor of
a public deployment may do. Streamlit-free: the UI asks, shows the one-line refusal, and
queues nothing when refused.

A visitor may train any config that costs no more than the quick or standard preset, judged
setting by setting from each setting's declared cost direction (core.setting(cost=...)), not
from the preset's label; each visitor may have at most one run queued or running, and the
whole app at most TOP10_PUBLIC_QUEUE (default 3), both checked in the transaction that
queues (Store.enqueue with a QueueLimit); a visitor may cancel, re-run or delete only runs
they asked for. A visitor is a key that survives a reload (engine/ui: visitor()).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine import i18n, settings
from engine.core import COSTS_LESS, COSTS_MORE_ZERO_ALL, Card, RunSpec, config_fields
from engine.store import QueueFull, QueueLimit

CHEAP_PRESETS = ("quick", "standard")  # what a public visitor may train at most
PER_VISITOR = 1  # runs queued or running per visitor


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def costlier(card: Card, spec: RunSpec) -> list[tuple[str, object, str, object]]:
    """(setting, value, how it is bounded, bound) for each setting of spec that costs
    more than both quick and standard do: a larger epochs, width or seeds (train_limit and
    max_words: 0 means all, the most), a smaller eval_every, a choice (augment, t-SNE, a
    larger corpus) that neither preset makes. How: 'at_most', 'at_least' or 'as' (the
    standard preset's choice). Settings of another task do not count."""
    cheap = [card.default_config(p) for p in CHEAP_PRESETS]
    over = []
    for f in config_fields(card.config_cls):
        cost, task = f.metadata.get("cost", 0), f.metadata.get("task")
        if not cost or f.name not in spec.config or task and spec.config.get("task") != task:
            continue
        value, allowed = spec.config[f.name], [c[f.name] for c in cheap]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if value not in allowed:
                over.append((f.name, value, "as", allowed[-1]))
            continue
        bound = max(allowed, key=lambda v, c=cost: _size(v, c))
        if _size(value, cost) > _size(bound, cost):
            over.append((f.name, value, "at_least" if cost == COSTS_LESS else "at_most", bound))
    return over


def _size(value: float, cost: int) -> float:
    """A setting's value on a scale where larger costs more."""
    if cost == COSTS_MORE_ZERO_ALL and value == 0:
        return float("inf")
    return -value if cost == COSTS_LESS else value


@dataclass(frozen=True)
class Policy:
    public: bool = False
    queue_cap: int = 3  # queued + running runs of all visitors together

    @classmethod
    def from_settings(cls, secrets: Mapping | None = None) -> Policy:
        """TOP10_PUBLIC / TOP10_PUBLIC_QUEUE from the environment, else from secrets."""
        from engine.core import ConfigError

        def value(name: str, environment: str | None):
            if environment is not None:
                return environment
            try:
                return (secrets or {}).get(name)
            except OSError:  # Streamlit's secrets: no secrets file (a FileNotFoundError)
                return None

        cap = str(value("TOP10_PUBLIC_QUEUE", settings.public_queue_raw()) or "3").strip()
        if not (cap.isascii() and cap.isdigit() and int(cap) > 0):
            raise ConfigError("error.public_queue", value=repr(cap[:40]))
        return cls(public=_flag(value("TOP10_PUBLIC", settings.public_raw()) or ""),
                   queue_cap=int(cap))

    @property
    def limit(self) -> QueueLimit | None:
        """What Store.enqueue checks in the transaction that queues (None: no limit)."""
        return QueueLimit(PER_VISITOR, self.queue_cap) if self.public else None

    def refuse_training(self, specs: list[RunSpec], new: list[bool], cards: list[Card],
                        mine_live: int, all_live: int, lang: str = i18n.ENGLISH) -> str | None:
        """Why these specs may not be queued, or None. new: per spec, would it queue
        training (False: served from the store or shared with a live run); cards: each
        spec's card; mine_live / all_live: this visitor's / everyone's runs queued or
        running now (a first, friendly answer: refuse_queue gives the transaction's)."""
        if not self.public:
            return None
        wanted = sum(new)
        if not wanted:
            return None
        for spec, card, queued in zip(specs, cards, new):
            over = costlier(card, spec) if queued else []
            if over:
                shown = ", ".join(f"{name} {value} ({i18n.t(f'public.{how}', lang, bound=bound)})"
                                  for name, value, how, bound in over[:4])
                return i18n.t("public.costlier", lang, variant=spec.variant, settings=shown)
        if mine_live + wanted > PER_VISITOR:
            return i18n.t("public.one_run", lang)
        if all_live + wanted > self.queue_cap:
            return i18n.t("public.queue_full", lang, live=all_live, cap=self.queue_cap)
        return None

    @staticmethod
    def refuse_queue(error: QueueFull, lang: str = i18n.ENGLISH) -> str:
        """The one line for a request the queueing transaction refused."""
        if error.mine + 1 > error.limit.per_visitor:
            return i18n.t("public.one_run", lang)
        return i18n.t("public.queue_full", lang, live=error.live, cap=error.limit.total)

    def refuse_action(self, action: str, run_ids: Iterable[str], mine: set[str],
                      lang: str = i18n.ENGLISH) -> str | None:
        """Why a Runs-page action (delete, cancel, rerun, retry, interrupt) may not touch
        these runs, or None. mine: the run ids this visitor asked for."""
        if not self.public:
            return None
        others = [r for r in run_ids if r not in mine]
        if others:
            return i18n.t("public.not_yours", lang, action=action, n=len(others))
        return None
