"""Public mode (TOP10_PUBLIC=1, from the environment or Streamlit secrets): what a visitor of
a public deployment may do. Streamlit-free: the UI asks, shows the one-line refusal, and
queues nothing when refused.

Visitors may train the quick and standard presets (not full); each session may have at most
one run queued or running, and the whole app at most TOP10_PUBLIC_QUEUE (default 3); a
visitor may cancel, re-run or delete only runs their own session started.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine import i18n
from engine.core import RunSpec

ALLOWED_PRESETS = ("quick", "standard")


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Policy:
    public: bool = False
    queue_cap: int = 3  # queued + running runs of all visitors together

    @classmethod
    def from_settings(cls, secrets: Mapping | None = None) -> Policy:
        """TOP10_PUBLIC / TOP10_PUBLIC_QUEUE from the environment, else from secrets."""
        from engine.core import ConfigError

        def value(name: str):
            if name in os.environ:
                return os.environ[name]
            try:
                return (secrets or {}).get(name)
            except OSError:  # Streamlit's secrets: no secrets file (a FileNotFoundError)
                return None

        cap = str(value("TOP10_PUBLIC_QUEUE") or "3").strip()
        if not (cap.isascii() and cap.isdigit() and int(cap) > 0):
            raise ConfigError("error.public_queue", value=repr(cap[:40]))
        return cls(public=_flag(value("TOP10_PUBLIC") or ""), queue_cap=int(cap))

    def refuse_training(self, specs: list[RunSpec], new: list[bool], mine_live: int,
                        all_live: int, lang: str = i18n.ENGLISH) -> str | None:
        """Why these specs may not be queued, or None. new: per spec, would it queue
        training (False: served from the store or shared with a live run); mine_live /
        all_live: this session's / everyone's runs queued or running now."""
        if not self.public:
            return None
        wanted = sum(new)
        if not wanted:
            return None
        full = [s.variant for s, n in zip(specs, new) if n and s.preset not in ALLOWED_PRESETS]
        if full:
            return i18n.t("public.full", lang, variants=", ".join(full))
        if mine_live + wanted > 1:
            return i18n.t("public.one_run", lang)
        if all_live + wanted > self.queue_cap:
            return i18n.t("public.queue_full", lang, live=all_live, cap=self.queue_cap)
        return None

    def refuse_action(self, action: str, run_ids: Iterable[str], mine: set[str],
                      lang: str = i18n.ENGLISH) -> str | None:
        """Why a Runs-page action (delete, cancel, rerun, retry, interrupt) may not touch
        these runs, or None. mine: the run ids this session started."""
        if not self.public:
            return None
        others = [r for r in run_ids if r not in mine]
        if others:
            return i18n.t("public.not_yours", lang, action=action, n=len(others))
        return None
