"""Streamlit components shared by the pages: the one place in engine/ that imports Streamlit.

A page is: header(card) -> specs = config_form(card) -> runs = run_panel(card, specs) ->
comparison(card, runs) -> the page's own visuals from restored(run) (the cached model and
artifacts; what to do with them lives in engine.inspect) -> source(card).
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from inspect import getsource
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from engine import compare, data, i18n, inspect, plots, registry, settings, shipped
from engine.core import Card, ConfigError, RunSpec
from engine.data import DataMissing
from engine.i18n import card_text
from engine.jobs import JobManager, ProcessExecutor
from engine.markup import capped, escape_markdown  # noqa: F401 (for pages: user text in Markdown)
from engine.names import LIVE
from engine.public import Policy
from engine.store import (
    BadRow,
    NotOwner,
    QueueFull,
    Store,
    StoreDamaged,
    StoreError,
    StoreReadOnly,
    target_of,
)
from engine.ui import lang as visitor_lang
from engine.ui import visitor as visitor_id

# Streamlit's Material icons: Debian's chromium draws status emoji as empty boxes
STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/settings:",
                "done": ":material/check_circle:", "failed": ":material/error:",
                "cancelled": ":material/cancel:", "interrupted": ":material/warning:"}


# ---- the visitor's language ---------------------------------------------------------------
def language() -> str:
    """The language of this run (the URL's ?lang=, else the session's, else the browser's)."""
    return visitor_lang.current()


def tr(key: str, **fields) -> str:
    """An interface string (engine/i18n/en.toml, zh.toml) in the visitor's language."""
    return i18n.t(key, language(), **fields)


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with its column names in the visitor's language, for display only; names
    with no `col.<name>` entry (metric keys, run labels) stay as they are."""
    lang = language()
    return frame.rename(columns=lambda name: i18n.optional("col", str(name), lang))


def axis_name(x: str) -> str:
    """'step' or 'seconds' (the identifiers of an x axis) in the visitor's language."""
    return {"step": tr("plot.step"), "seconds": tr("plot.seconds")}[x]


def status_name(status: str) -> str:
    return i18n.optional("status", status, language())


# ---- shared resources -------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _manager(store_path: str, kind: str, jobs: int | None) -> JobManager:
    store = Store(store_path)
    store.list_runs()  # reads every row once: a damaged index is noticed here, not mid-page
    return JobManager(store, ProcessExecutor(store, kind, jobs))


def manager() -> JobManager:
    """The process-wide job manager for the configured store: its worker processes train
    up to settings.jobs() runs at once (1 in public mode unless TOP10_JOBS says more). A
    damaged store index stops the page with its one-line message (what to run to repair it)."""
    try:
        kind = settings.executor()
        return _manager(str(settings.store_dir()), kind, settings.jobs(policy().public, kind))
    except StoreError as error:
        st.error(escape_markdown(error_line(error, language()), 2000), icon=":material/error:")
        st.stop()


def store() -> Store:
    return manager().store


@st.cache_data(show_spinner=False, max_entries=256)
def _history(store_path: str, run_id: str, finished: float | None) -> list[tuple]:
    return Store(store_path).history(run_id)


def history(run: dict) -> list[tuple[int, float, str, float]]:
    """Metric history rows of a run; cached for finished runs."""
    if run["status"] in LIVE:
        return store().history(run["id"])
    return _history(str(store().root), run["id"], run["finished"])


@st.cache_resource(show_spinner=False, max_entries=32)
def _artifacts(store_path: str, run_id: str, finished: float | None) -> dict | None:
    return manager().artifacts(run_id)  # checksums verified; None: damaged and requeued


@st.cache_resource(show_spinner=False, max_entries=32)
def _model(store_path: str, run_id: str, finished: float | None) -> Any:
    return inspect.restore(store().get(run_id), _artifacts(store_path, run_id, finished))


@dataclass(frozen=True)
class Restored:
    """A finished run ready to inspect: its stored row and artifacts, and (built on first
    use) the model(s) engine.inspect rebuilds from its weights, None where a page needs only
    artifacts. Restoring a GNN reads its graph, so the metrics and curves of a run show
    without the dataset, and a section that uses `model` asks for it inside needs_data()."""
    run: dict
    artifacts: dict

    @property
    def model(self) -> Any:
        with st.spinner(tr("ui.loading_model")):
            return _model(str(store().root), self.run["id"], self.run["finished"])


def restored(run: dict) -> Restored | None:
    """The one way a page gets a finished run's artifacts and model: read (and the model
    built) once per run, keyed by run id and finish time so a re-run is read again, and
    shared by every rerun and visitor. Damaged stored files give one warning and None; the
    run is requeued."""
    with st.spinner(tr("ui.loading_model")):
        found = _artifacts(str(store().root), run["id"], run["finished"])
    if found is None:
        st.warning(tr("ui.damaged", run=label(run)))
        return None
    return Restored(run, found)


def restored_all(runs: list[dict]) -> list[Restored]:
    """restored() of each run, leaving out (with the warning) those whose files were damaged."""
    return [r for r in map(restored, runs) if r is not None]


def stored_runs(algorithm: str, status: str | None = "done") -> list[dict]:
    return store().list_runs(algorithm, status)


def label(run: dict) -> str:
    """A short, unique-enough name for a run in legends and tables: "lstm · quick · seed 0"."""
    spec = run["spec"]
    return tr("ui.run_label", variant=spec["variant"], seed=spec["seed"],
              preset=i18n.preset_name(spec["preset"], language()))


@contextmanager
def needs_data() -> Iterator[None]:
    """Around a page section that reads a dataset (a test image, the corpus's characters, a
    citation graph). Where the dataset has to be downloaded first, a line names it while
    that runs; where it is nowhere and cannot be downloaded, the section is replaced by one
    line in the visitor's language (which dataset, and how to get it) and the page goes on,
    its shipped results, tables and curves intact."""
    place = st.empty()
    try:
        with place.container():
            notice = st.empty()
            with data.on_download(lambda dataset: notice.info(
                    tr("ui.downloading", dataset=dataset), icon=":material/download:")):
                yield
            notice.empty()
    except DataMissing as missing:
        place.warning(data_missing_line(missing), icon=":material/cloud_off:")


def data_missing_line(missing: DataMissing) -> str:
    """The one line a section shows for a missing dataset (no paths: the full message,
    with where we looked, is for logs and the CLI)."""
    if missing.reason:
        return tr("ui.data_missing_failed", dataset=missing.dataset,
                  reason=escape_markdown(missing.reason, 160))
    return tr("ui.data_missing", dataset=missing.dataset)


# ---- page parts ---------------------------------------------------------------------------
def header(card: Card) -> None:
    through_navigation()
    lang = language()
    st.title(card_text.title(card, lang))
    st.markdown(f"*{card_text.summary(card, lang)}*")
    seen = st.session_state.setdefault("pages_seen", set())
    with st.expander(tr("ui.how_it_works"), expanded=card.key not in seen):  # open on a first visit
        st.markdown(f"**{tr('background.label')}** {tr(f'background.{card.key}')}")
        st.markdown(card_text.explanation(card, lang))
    seen.add(card.key)
    article_corrections(card)


ARTICLE_CORRECTED = ("resnet", "gan", "diffusion", "dqn")  # cards with an article.<key>_claim


def article_corrections(card: Card) -> None:
    """Where the article the dashboard grew from is wrong about this card: its claim, then
    the fact (both in the catalogue, in each language)."""
    if card.key not in ARTICLE_CORRECTED:
        return
    with st.expander(tr("article.title"), icon=":material/fact_check:"):
        st.markdown(tr("article.says", claim=tr(f"article.{card.key}_claim")))
        st.markdown(tr("article.fact", fact=tr(f"article.{card.key}_fact")))


def _widget(card: Card, field: dataclasses.Field, value: Any, key: str) -> Any:
    meta, lang = field.metadata, language()
    text = card_text.setting_help(card, field.name, lang)
    name = card_text.setting_label(card, field.name, lang)
    if lang == i18n.ENGLISH:
        name = name.replace("_", " ")
    if meta.get("choices"):
        options = list(meta["choices"])
        return st.selectbox(name, options, index=options.index(value), help=text, key=key)
    if isinstance(value, bool):
        return st.checkbox(name, value=value, help=text, key=key)
    if isinstance(value, int):
        return st.number_input(name, min_value=int(meta["lo"]), max_value=int(meta["hi"]),
                               value=value, step=1, help=text, key=key)
    if isinstance(value, float):
        return st.number_input(name, min_value=float(meta["lo"]), max_value=float(meta["hi"]),
                               value=value, format="%g", step=value / 10 or 0.01, help=text,
                               key=key)
    return st.text_input(name, value=str(value), help=text, key=key)


def remembered(card: Card) -> str:
    return f"url:{card.key}"  # session key: the page's last address (preset, settings, seed)


def config_form(card: Card, variants: list[str] | None = None) -> list[RunSpec]:
    """Preset picker (and task picker, for a card whose runs are one of several tasks) plus
    a form of the settings that apply (so moving a slider does not retrain). Returns the
    specs the page shows: the last ones trained in this session for that task, else the
    preset's defaults (so a stored run at those defaults shows at once). What the address
    then says is kept for the session, so a page reached by a bare link reopens on it."""
    specs = _config_form(card, variants)
    st.session_state[remembered(card)] = {k: v for k, v in st.query_params.to_dict().items()
                                          if k != "lang"}
    return specs


def _config_form(card: Card, variants: list[str] | None = None) -> list[RunSpec]:
    state_key = f"{card.key}:specs"
    lang = language()
    asked = url_settings(card)
    preset = st.segmented_control(tr("ui.preset"), list(card.presets), default=asked["preset"],
                                  key=f"{card.key}:preset", required=True,
                                  format_func=lambda p: i18n.preset_name(p, lang),
                                  help=tr("ui.preset_help"))
    if preset != asked["preset"]:
        asked = {"preset": preset, "overrides": {}, "seed": 0, "variants": None}
    all_variants = variants or list(card.variants)
    defaults = card.default_config(preset)
    fields = dataclasses.fields(card.config_cls)
    chosen_task = {}  # {"task": ...} where a run is one of several tasks (LSTM, Transformer)
    if "task" in defaults:
        task_field = next(f for f in fields if f.name == "task")
        task = st.segmented_control(card_text.setting_label(card, "task", lang),
                                    list(task_field.metadata["choices"]),
                                    default=asked["overrides"].get("task", defaults["task"]),
                                    key=f"{card.key}:task",
                                    required=True, help=card_text.setting_help(card, "task", lang))
        chosen_task = {"task": task} if task != defaults["task"] else {}
        fields = [f for f in fields if f.name != "task" and f.metadata["task"] in (None, task)]
    with st.form(f"{card.key}:form"):
        chosen = st.multiselect(tr("ui.variants"), all_variants,
                                default=[v for v in asked["variants"] or all_variants
                                         if v in all_variants],
                                format_func=lambda v: f"{v}: "
                                f"{card_text.variant_text(card, v, lang)}".replace("`", ""),
                                key=f"{card.key}:variants", placeholder=tr("ui.choose_options"))
        values = {}
        columns = st.columns(4, vertical_alignment="bottom")  # checkboxes line up with inputs
        for i, field in enumerate(fields):
            with columns[i % 4]:
                values[field.name] = _widget(card, field,
                                             asked["overrides"].get(field.name, defaults[field.name]),
                                             key=f"{card.key}:{preset}:{field.name}")
        seed = columns[len(values) % 4].number_input(
            tr("ui.seed"), 0, registry.SEED_MAX, asked["seed"], key=f"{card.key}:seed",
            help=tr("ui.seed_help") + (tr("ui.seed_help_seeds") if "seeds" in defaults else ""))
        submitted = st.form_submit_button(tr("ui.train"), type="primary") or \
            st.session_state.pop(f"{card.key}:train_now", False)  # the new-seed button below
    overrides = {**chosen_task, **{k: v for k, v in values.items() if v != defaults[k]}}
    if submitted:
        if not chosen:
            st.error(tr("ui.choose_variant"))
        else:
            try:
                specs = [registry.build_spec(card.key, v, preset, overrides, seed) for v in chosen]
            except ConfigError as error:
                st.error(error.text(lang))
            else:
                st.session_state[state_key] = specs
                accepted = submit(specs)
                queued = accepted and any(registry.run_id(s) not in
                                          st.session_state["cached_runs"] for s in specs)
                keep_in_url(preset, overrides, seed, chosen, all_variants)
                if queued:
                    st.rerun()  # the sidebar, drawn before this page, then shows the new job
                elif accepted:  # every run was there already: served, not trained
                    served_notice(card, specs)
    trained = st.session_state.get(state_key)
    if trained and all(s.config.get("task") == (defaults | chosen_task).get("task")
                       for s in trained):
        return trained  # the last ones trained in this session (for the task shown)
    st.query_params["preset"] = preset
    from_url = {k: v for k, v in asked["overrides"].items() if k != "task"}
    if (from_url or asked["seed"]) and chosen_task.get("task") == asked["overrides"].get("task"):
        return [registry.build_spec(card.key, v, preset, {**chosen_task, **from_url},
                                    asked["seed"]) for v in asked["variants"] or all_variants
                if v in all_variants]  # the settings a link (or a reload) names
    return [registry.build_spec(card.key, v, preset, chosen_task) for v in all_variants]


URL_KEYS = ("preset", "seed", "variants", "lang")  # the query keys besides the settings' own names


def own_address(card: Card) -> dict[str, str]:
    """The address of this visitor's latest run of the card (any status), or {}: a reload
    ends the session and what it remembered, but not who queued which run, so a page
    reached by a bare link after a reload still opens on the visitor's own run."""
    rows = [r for r in store().get_many(sorted(my_runs())).values() if r["algorithm"] == card.key]
    if not rows:
        return {}
    return compare.run_address(card, max(rows, key=lambda r: r["created"]), rows)


def url_settings(card: Card) -> dict:
    """What the page opens on: the preset, settings, seed and variants in the address (the
    visitor's last Train, or a shared link), else what this session last had on the page,
    else the visitor's latest run of the card, else the preset with stored results
    (standard first), else standard. A value that does not fit the card is ignored, not an error."""
    query = st.query_params
    if "preset" not in query and (last := st.session_state.get(remembered(card))
                                  or own_address(card)):
        query.update(last)  # the sidebar's and Home's links carry only the language
    preset = query.get("preset")
    if preset not in card.presets:
        if preset is not None:
            st.caption(tr("ui.link_dropped", names="preset"))
        stored = {r["spec"]["preset"] for r in stored_runs(card.key)}
        preset = next((p for p in ("standard", *card.presets) if p in stored), "standard")
        return {"preset": preset, "overrides": {}, "seed": 0, "variants": None}
    defaults = card.default_config(preset)
    overrides, dropped = {}, []
    for name, raw in query.items():
        if name in defaults and name not in URL_KEYS:
            try:
                overrides[name] = _parse(raw, defaults[name])
                registry.build_spec(card.key, next(iter(card.variants)), preset, overrides)
            except (ValueError, ConfigError):
                overrides.pop(name, None)
                dropped.append(name)
    raw_seed = query.get("seed", "0")
    seed = min(int(raw_seed), registry.SEED_MAX) if raw_seed.isascii() and raw_seed.isdigit() \
        and len(raw_seed) <= 12 else 0  # the seed box's own range: a bigger one would crash it
    if seed == 0 and raw_seed != "0":
        dropped.append("seed")
    asked_variants = [v for v in query.get("variants", "").split(",") if v]
    variants = [v for v in asked_variants if v in card.variants]
    if len(variants) < len(asked_variants):
        dropped.append("variants")
    if dropped:  # the names only: a link's values are the sender's text
        st.caption(tr("ui.link_dropped", names=", ".join(dropped)))
    return {"preset": preset, "overrides": overrides, "seed": seed, "variants": variants or None}


def _parse(raw: str, default: Any) -> Any:
    """A query-string value as the type of the setting's default (ValueError if it is not)."""
    if isinstance(default, bool):
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    return type(default)(raw)


def keep_in_url(preset: str, overrides: dict, seed: int, chosen: list[str],
                all_variants: list[str]) -> None:
    """Write what was just trained into the address, so a reload or a link reopens it."""
    query = {"preset": preset, **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                  for k, v in overrides.items()}}
    if seed:
        query["seed"] = str(seed)
    if chosen != all_variants:
        query["variants"] = ",".join(chosen)
    st.query_params.from_dict(query | {"lang": language()})


def policy() -> Policy:
    """What visitors may do (public mode from the environment or Streamlit secrets)."""
    try:
        return Policy.from_settings(st.secrets)
    except ConfigError as error:
        st.error(error.text(language()))
        st.stop()


def visitor() -> str:
    """This visitor's key, the same after a reload (engine/ui/visitor.py)."""
    return visitor_id.current()


def my_runs() -> set[str]:
    """Ids of the runs this visitor queued, across reloads, with the run ids their
    recompute attempts serve (public mode lets them act on those only). One store read."""
    asked = store().requested_by(visitor())
    return asked | {target_of(i) for i in asked}


def mine(run_id: str) -> bool:
    """May this visitor cancel, re-run or delete this run? (Anyone, outside public mode.)"""
    return not policy().public or run_id in my_runs()


def refused(specs: list[RunSpec], force: bool = False) -> str | None:
    """Public mode's one-line reason not to queue these specs, or None."""
    rules = policy()
    if not rules.public:
        return None
    rows = store().get_many([registry.run_id(s) for s in specs])
    new = [force or rows.get(registry.run_id(s), {}).get("status") not in ("done", *LIVE)
           for s in specs]
    everyone = [r["id"] for r in store().list_runs(status="running")
                + store().list_runs(status="queued")]
    asked = my_runs()
    mine_live = sum(i in asked for i in everyone)  # a live id is the work row's own
    return rules.refuse_training(specs, new, [registry.card(s.algorithm) for s in specs],
                                 mine_live, len(everyone), language())


def served_notice(card: Card, specs: list[RunSpec]) -> None:
    """Train on settings that were trained before serves the stored result at once, which
    looks like nothing happened: say so, and offer the one click that trains a new seed."""
    shipped = any((store().get(registry.run_id(s)) or {}).get("shipped") is not None
                  for s in specs)
    seed = specs[0].seed + 1
    while seed < registry.SEED_MAX and any(store().get(registry.run_id(dataclasses.replace(s, seed=seed)))
                                   for s in specs):
        seed += 1  # the next seed none of these variants has a run for

    def train_new_seed() -> None:  # the seed box starts again from the address's seed
        st.session_state.pop(f"{card.key}:seed", None)
        st.query_params["seed"] = str(seed)
        st.session_state[f"{card.key}:train_now"] = True

    st.info(tr("ui.served_shipped" if shipped else "ui.served_own"))
    st.button(tr("ui.train_new_seed", seed=seed), on_click=train_new_seed,
              key=f"{card.key}:new_seed")


def submit(specs: list[RunSpec], force: bool = False) -> bool:
    """Queue the specs (or serve them from the store) and remember which were cached.
    In public mode a refused request shows its one line and queues nothing (False): the
    limits are checked again in the transaction that queues, so simultaneous clicks from
    several visitors never pass them together."""
    if (why := refused(specs, force)) is not None:
        st.error(why)
        return False
    cached = st.session_state.setdefault("cached_runs", set())
    rules, who = policy(), visitor()
    for spec in specs:
        try:
            result = manager().submit(spec, force=force, visitor=who, limit=rules.limit)
        except QueueFull as full:
            st.error(rules.refuse_queue(full, language()))
            return False
        if result.cached:
            cached.add(result.run_id)
        else:
            cached.discard(result.run_id)
    return True


def run_panel(card: Card, specs: list[RunSpec]) -> list[dict]:
    """Live status of the specs' runs (progress, cancel) while any is queued or running.
    Returns the finished runs, in the order of the specs."""
    ids = [registry.run_id(s) for s in specs]

    def rows() -> dict[str, dict]:
        return store().get_many(ids)

    current = rows()
    pending = any(r["status"] in LIVE for r in current.values())

    @st.fragment(run_every=1.0 if pending else None)
    def live() -> None:
        manager().refresh()
        now = rows()
        for spec, run_id in zip(specs, ids):
            run = now.get(run_id)
            if run is None:
                st.caption(tr("ui.not_trained", variant=spec.variant))
                continue
            _status_line(run)
        running = [r for r in now.values() if r["status"] == "running"]
        if running:
            live_curve(card, running)
        still = any(r["status"] in LIVE for r in now.values())
        if pending and not still:
            st.rerun()  # everything ended: redraw the whole page with the results

    live()
    return [current[i] for i in ids if i in current and current[i]["status"] == "done"]


def _status_line(run: dict) -> None:
    status, variant = run["status"], run["variant"]
    icon = STATUS_ICONS[status]
    if status in LIVE:
        left, right = st.columns([6, 1])
        elapsed = time.time() - (run["started"] or run["created"])
        text = tr("ui.live_line", icon=icon, variant=variant, status=status_name(status),
                  note=i18n.note(run["note"], language()), seconds=f"{elapsed:.0f}")
        left.progress(float(run["progress"] or 0.0), text=text)
        if mine(run["id"]) and right.button(
                tr("ui.cancel"), key=f"cancel:{run['id']}"):
            manager().cancel(run["id"])
            st.rerun(scope="fragment")
    elif status == "done":
        badge = tr("ui.served_from_store") if run["id"] in st.session_state.get(
            "cached_runs", set()) else ""
        if run.get("shipped") is not None:
            badge = tr("ui.shipped_badge")
        text = tr("ui.done_line", icon=icon, variant=variant, badge=badge, run_id=run["id"],
                  seconds=f"{run['train_seconds']:.1f}", prep=prep_note(run))
        if run.get("shipped") is None:
            st.caption(text)
            return
        left, right = st.columns([6, 1])
        left.caption(text)
        provenance_popover(run, right)
    else:
        reason = (run["error"] or status_name(status)).split("\n")[0]
        st.warning(tr("ui.ended_line", icon=icon, variant=variant, status=status_name(status),
                      reason=reason))


def provenance_popover(run: dict, where=None) -> None:
    """A shipped run's provenance (commit, date, device, threads, the command), one click away."""
    box = (where or st).popover(tr("ui.provenance"), help=tr("ui.provenance_help"))
    with box:
        shown = run.get("shipped") or {}
        for key in ("command", "commit", "trained", "device", "gpu", "cpu", "threads", "torch"):
            if shown.get(key) is not None:
                st.markdown(f"**{key}**: `{escape_markdown(str(shown[key]))}`")


def metrics_table(card: Card, runs: list[dict], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per run: variant, the declared metrics, params, train seconds."""
    records = []
    for run in runs:
        record = {"variant": run["variant"], "preset": run["spec"]["preset"],
                  "seed": run["spec"]["seed"]}
        for key in (*card.metrics, *extra):
            if key in run["metrics"]:
                record[key] = run["metrics"][key]
        record["params"] = run["params"]
        record["train seconds"] = run["train_seconds"]
        records.append(record)
    return pd.DataFrame(records)


# cards whose quick preset is only a smoke test: what its numbers are not, where to look
SMOKE_TESTS = ("gan", "diffusion", "word2vec")  # their quick preset only shows the page working


def smoke_test_note(card: Card, runs: list[dict]) -> None:
    """Beside quick results of a card whose quick preset is a smoke test: say so, and point
    to the standard preset (saying when a stored standard result is ready to show)."""
    if card.key not in SMOKE_TESTS or not any(r["spec"]["preset"] == "quick" for r in runs):
        return
    ready = any(r["spec"]["preset"] == "standard" for r in stored_runs(card.key))
    where = tr("ui.smoke_ready") if ready else tr("ui.smoke_train")
    st.info(tr("ui.smoke", what=tr(f"ui.smoke_{card.key}"), where=where),
            icon=":material/science:")


def claims_note(card: Card, runs: list[dict], references: list[dict]) -> None:
    """Beside runs (the visitor's and the shipped full references) that do not show what
    the card's text claims (every class kept, high sample quality, no collapse): say which
    measure falls short, and which shipped full run shows the claim, so the text never
    stands above pictures that contradict it."""
    lang = language()
    short = [(run, compare.claim_shortfalls(run)) for run in runs + references]
    lines = [tr("ui.claim_run", run=f"{run['variant']} ({i18n.preset_name(run['spec']['preset'], lang)})",
                measures=", ".join(tr("ui.claim_measure", metric=card_text.metric_label(card, key, lang),
                                      value=compare.format_metric(key, value),
                                      bound=tr("ui.claim_at_least" if direction > 0
                                               else "ui.claim_at_most",
                                               bound=compare.format_metric(key, bound)))
                                   for key, value, direction, bound in found))
             for run, found in short if found]
    if not lines:
        return
    holding = [r for r in references if not compare.claim_shortfalls(r)]
    where = (tr("ui.claim_reference", runs=", ".join(
        f"{r['variant']} ({i18n.preset_name('full', lang)})" for r in holding))
        if holding else tr("ui.claim_none"))
    st.warning(tr("ui.claims") + "\n\n" + "\n".join(f"- {line}" for line in lines)
               + "\n\n" + where, icon=":material/rule:")


def references(card: Card, runs: list[dict]) -> list[dict]:
    """The shipped full run of each variant shown, on the same data (and task), unless a full
    run of that variant is shown already: what more training buys, beside the visitor's."""
    fields = [card.data_field, "task"]

    def same_data(a: dict, b: dict) -> bool:
        return all(a["spec"]["config"].get(k) == b["spec"]["config"].get(k) for k in fields)

    order = [r["variant"] for r in runs]
    found = [ref for ref in stored_runs(card.key)
             if ref.get("shipped") is not None and ref["spec"]["preset"] == "full"
             and any(r["variant"] == ref["variant"] and same_data(r, ref) for r in runs)
             and not any(r["variant"] == ref["variant"] and r["spec"]["preset"] == "full"
                         for r in runs)]
    return sorted(found, key=lambda ref: order.index(ref["variant"]))  # as the runs above


def comparison(card: Card, runs: list[dict], curve_metrics: tuple[str, ...] = ()) -> None:
    """The side-by-side: one metrics table and overlaid curves of the chosen runs, with the
    shipped full runs of the same variants beside them as the reference."""
    if not runs:
        st.info(tr("ui.no_finished"))
        return
    lang = language()
    st.subheader(tr("ui.side_by_side"))
    smoke_test_note(card, runs)
    shipped_refs = references(card, runs)
    claims_note(card, runs, shipped_refs)
    runs = runs + shipped_refs
    table = metrics_table(card, runs)
    best = table[card.headline].max() if card.higher_is_better else table[card.headline].min()
    table["preset"] = [i18n.preset_name(p, lang) for p in table["preset"]]
    st.dataframe(table.style.highlight_max(subset=[card.headline], color="#dbeafe")
                 if card.higher_is_better else table, hide_index=True, width="stretch",
                 column_config=table_columns(card, table))
    st.caption(tr("ui.headline_caption", label=card_text.headline_label(card, lang),
                  best=compare.format_metric(card.headline, best))
               + (tr("ui.reference_caption", preset=i18n.preset_name("full", lang))
                  if shipped_refs else ""))
    reference_ids = {r["id"] for r in shipped_refs}
    frame = pd.concat([plots.history_frame(history(r), label(r),
                                           reference=r["id"] in reference_ids) for r in runs])
    keys = sorted(frame["key"].unique())
    wanted = [m for m in curve_metrics if m in keys] or keys[:2]
    left, right = st.columns([3, 1])
    chosen = left.multiselect(tr("ui.curves"), keys, default=wanted, key=f"{card.key}:curves",
                              placeholder=tr("ui.choose_options"),
                              format_func=lambda m: card_text.metric_label(card, m, lang)
                              if lang != i18n.ENGLISH else m)
    x_axis = right.radio(tr("ui.x_axis"), ["step", "seconds"], horizontal=True,
                         key=f"{card.key}:x", format_func=axis_name)
    weight, log_y = curve_controls(card.key)
    frame = plots.smoothed(frame, weight)
    columns = st.columns(2)
    for i, metric in enumerate(chosen):
        title = card_text.metric_label(card, metric, lang) if lang != i18n.ENGLISH else metric
        columns[i % 2].plotly_chart(plots.curves(frame, metric, x=x_axis, title=title,
                                                 log_y=log_y, lang=lang), width="stretch",
                                    key=f"{card.key}:curve:{metric}")


def curve_controls(prefix: str, **keep) -> tuple[float, bool]:
    """The smoothing slider and the log-y toggle over a set of curves: (weight, log_y).
    keep: passed to both widgets (Compare keeps them across its reruns)."""
    left, right = st.columns([3, 1])
    weight = left.slider(tr("ui.smoothing"), 0.0, 0.95, 0.0, 0.05, key=f"{prefix}:smoothing",
                         help=tr("ui.smoothing_help"), **keep)
    log_y = right.toggle(tr("ui.log_y"), key=f"{prefix}:log_y", **keep)
    return weight, log_y


def live_curve(card: Card, running: list[dict]) -> None:
    """The curve of the runs training now, growing as their points arrive (drawn by the
    run panel's fragment, every second): the card's headline if they report it as they
    go, else the first evaluation, validation or training loss they do report."""
    lang = language()
    frame = pd.concat([plots.history_frame(store().history(r["id"]), r["variant"])
                       for r in running])
    keys = set(frame["key"])
    preferred = (card.headline, card.headline.replace("test/", "val/"), "eval/mean_return",
                 "val/loss", "val/acc", *sorted(k for k in keys if k.startswith("eval/")),
                 "train/loss", *sorted(keys))
    metric = next((k for k in preferred if k in keys), None)
    if metric is None:
        st.caption(tr("ui.live_waiting"))
        return
    label = card_text.metric_label(card, metric, lang) if lang != i18n.ENGLISH else metric
    st.plotly_chart(plots.curves(frame, metric, title=tr("ui.live_curve", metric=label),
                                 y_title=label, lang=lang),
                    width="stretch", key=f"{card.key}:live_curve")


def table_columns(card: Card, table: pd.DataFrame) -> dict:
    """st.dataframe column_config for a metrics table: headers from the card's metric
    labels (in the visitor's language), accuracies as percentages, times with units, other
    numbers to 4 digits; variant, preset and seed get their header only."""
    lang = language()
    config = {}
    for column in table.columns:
        if column in ("variant", "preset", "seed"):
            config[column] = i18n.optional("col", column, lang)
            continue
        label = compare.metric_label(card, column) if lang == i18n.ENGLISH else \
            i18n.optional("col", column, lang) if column in compare.EXTRA else \
            card_text.metric_label(card, column, lang)
        config[column] = st.column_config.NumberColumn(label,
                                                       format=compare.number_format(column))
    return config


def prep_note(run: dict) -> str:
    """' (+ 12.3 s of preparation)' when the run spent time on a preparatory step."""
    prep = run["metrics"].get("prep/seconds") if run["metrics"] else None
    return tr("ui.prep_note", seconds=f"{prep:.1f}") if prep else ""


def source(card: Card) -> None:
    """The functions and classes the card names as its code, as the page's last section;
    shown once the store holds a finished run of the card (before that, nothing ran)."""
    if not stored_runs(card.key):
        return
    with st.expander(tr("ui.code_that_ran")):
        for obj in card.code:
            st.code(getsource(obj), language="python")


# ---- whole-dashboard parts ------------------------------------------------------------------
PAGES = Path(__file__).resolve().parents[2] / "pages"
NAVIGATED = "top10:navigated"  # session key: this session's runs go through navigate()


def navigate() -> None:
    """Page configuration, the navigation (pages grouped by family), the shared sidebar,
    then the page the address asks for. Home.py calls it; so does through_navigation()."""
    lang = language()
    st.set_page_config(page_title=tr("nav.app_title"), page_icon=":material/neurology:",
                       layout="wide")
    sections = {tr("nav.overview"): [st.Page(PAGES / "home.py", title=tr("nav.home"),
                                             default=True)]}
    for family, keys in registry.FAMILIES.items():
        sections[i18n.family_name(family, lang)] = [
            st.Page(PAGES / f"{key}.py", title=card_text.title(registry.card(key), lang),
                    url_path=key) for key in keys]
    sections[tr("nav.tools")] = [
        st.Page(PAGES / "compare.py", title=tr("nav.compare"), url_path="compare"),
        st.Page(PAGES / "runs.py", title=tr("nav.runs"), url_path="runs"),
        st.Page(PAGES / "sweeps.py", title=tr("nav.sweeps"), url_path="sweeps")]
    page = st.navigation(sections, expanded=True)
    st.session_state[NAVIGATED] = True
    inspect.use_threads(settings.inference_threads())
    # Drawn before the page: a page may end early with st.stop(), and nothing drawn after that
    # reaches the browser. The panel polls every 2 s, so a job a Train press queues in this
    # run shows there within one tick.
    jobs_sidebar(st.sidebar.container())
    st.html(PHONE_CSS)
    running_line(st.container(key="running_line"))
    visitor_lang.switch()
    if missing := unknown_page(st.context.url or ""):
        st.error(tr("ui.unknown_page", page=missing), icon=":material/error:")
    try:
        page.run()
    except (StoreError, DataMissing, ConfigError) as error:  # the page boundary: one line
        st.error(escape_markdown(error_line(error, lang), 2000),  # it may quote a value
                 icon=":material/error:")


# The store's errors are raised with an English line (engine/store.py, which the CLI and the
# workers share); in another language a page shows the line of its class, the most precise
# first, filled in from what the page knows (the store's folder) and what the error carries.
STORE_LINES = ((BadRow, "error.store.bad_row"), (StoreDamaged, "error.store.damaged"),
               (StoreReadOnly, "error.store.read_only"), (NotOwner, "error.store.not_owner"),
               (StoreError, "error.store.other"))  # QueueFull: public mode's own line


def error_line(error: Exception, lang: str) -> str:
    """The one line a visitor reads for an error a page ends in, in `lang`: a ConfigError's
    or a DataMissing's own (both carry a catalogue key), a store error's by its class."""
    if isinstance(error, (ConfigError, i18n.Said)):
        return error.text(lang)
    if isinstance(error, StoreError) and lang != i18n.ENGLISH:
        if isinstance(error, QueueFull):
            return Policy.refuse_queue(error, lang)
        key = next(key for kind, key in STORE_LINES if isinstance(error, kind))
        return i18n.t(key, lang, store=settings.store_dir())
    return str(error)


# Below 768 px Streamlit collapses the sidebar: a phone-sized window. There Plotly's toolbar
# (with Streamlit's full-screen button in it), which a tap on a chart shows, sat over the
# chart's title; a finger drags to zoom and double-taps to reset instead.
PHONE_CSS = """<style>
@media (max-width: 767px) { .stPlotlyChart .modebar-container { display: none !important; } }
</style>"""


def running_line(place) -> None:
    """One compact line per live run this visitor asked for, at the top of the main area:
    training shows in the sidebar, which a phone keeps collapsed. Nothing when none runs;
    the sidebar's panel redraws the page when runs start or end, and this line follows."""
    def live_mine() -> list[dict]:
        mine_ids = my_runs()
        return [r for status in ("running", "queued") for r in store().list_runs(status=status)
                if r["id"] in mine_ids]

    if not live_mine():
        return

    @st.fragment(run_every=2.0)
    def line() -> None:
        runs = live_mine()
        if not runs:
            st.rerun()  # all ended: redraw the page once, without this line
        for run in runs:
            name = f"{run['algorithm']}/{run['variant']}"
            if run["status"] == "queued":
                st.caption(tr("ui.queued_one", icon=STATUS_ICONS["queued"], run=name,
                              preset=i18n.preset_name(run["spec"]["preset"], language())))
                continue
            elapsed = time.time() - (run["started"] or run["created"])
            st.caption(tr("ui.running_line", icon=STATUS_ICONS["running"], run=name,
                          note=i18n.note(run["note"], language()),
                          percent=f"{float(run['progress'] or 0):.0%}",
                          seconds=f"{elapsed:.0f}"))

    with place:
        line()


def unknown_page(url: str) -> str:
    """The last path part of `url` when no page has it, else '' (st.navigation quietly
    shows the default page for an unknown path, so the caller says so)."""
    path = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    known = {"", "home", *registry.KEYS, "compare", "runs", "sweeps"}
    return "" if path in known or ":" in path else path


def through_navigation() -> None:
    """The first call of every page (header() makes it for the algorithm pages).

    Until some session of a freshly started server has run st.navigation, Streamlit takes
    the pages/ folder for an old-style multipage app and runs a requested page file (a
    shared /compare link) by itself, with an auto-generated page list and no sidebar. Such
    a session has never been through navigate(): run it here, which renders this same page
    inside our navigation (and tells Streamlit, for the whole process, that st.navigation
    owns the pages), then stop this outer run."""
    if not st.session_state.get(NAVIGATED):
        navigate()
        st.stop()


def train_all(preset: str) -> list[str]:
    """Queue every variant of every algorithm at a preset's defaults, the longest first."""
    specs = shipped.longest_first([registry.build_spec(key, variant, preset) for key in
                                   registry.KEYS for variant in registry.card(key).variants],
                                  settings.REPO_RESULTS)
    ids = [registry.run_id(s) for s in specs]
    if not submit(specs):
        return []
    st.session_state["batch"] = {"preset": preset, "ids": ids}
    return ids


def training_device() -> str:
    """Where the worker trains (TOP10_DEVICE), in words; a bad setting is named, not raised."""
    try:
        device = settings.device()
    except ConfigError as error:
        return f":material/warning: {error.text(language())}"
    if device.type == "cuda":
        import torch

        return f"GPU ({torch.cuda.get_device_name(device)})"
    return "CPU"


def jobs_sidebar(place) -> None:
    """Shared sidebar: overall progress of the queue and of a "Train all" batch, on every
    page, so it survives page changes; cancel for the batch."""

    live_at_start = bool(store().list_runs(status="running") or store().list_runs(status="queued"))

    # Every 2 s while jobs are live; every 5 s when idle, so a job started elsewhere (another
    # visitor, the CLI) shows soon without ten idle sessions keeping the server busy.
    @st.fragment(run_every=2.0 if live_at_start else 5.0)
    def panel() -> None:
        manager().refresh()
        running = store().list_runs(status="running")
        queued = store().list_runs(status="queued")
        if bool(running or queued) != live_at_start:
            st.rerun()  # jobs started or all ended: redraw the page, the poll follows
        batch = st.session_state.get("batch")
        if not (running or queued or batch):
            st.caption(tr("ui.no_training"))
            return
        for run in running:
            elapsed = time.time() - (run["started"] or run["created"])
            st.progress(float(run["progress"] or 0), text=tr(
                "ui.sidebar_running", icon=STATUS_ICONS["running"],
                run=f"{run['algorithm']}/{run['variant']}",
                note=i18n.note(run["note"], language()), seconds=f"{elapsed:.0f}"))
        for run in queued:
            st.caption(tr("ui.queued_one", icon=STATUS_ICONS["queued"],
                          run=f"{run['algorithm']}/{run['variant']}",
                          preset=i18n.preset_name(run["spec"]["preset"], language())))
        if batch:
            rows = store().get_many(batch["ids"])
            ended = sum(r["status"] not in LIVE for r in rows.values())
            done = sum(r["status"] == "done" for r in rows.values())
            st.progress(ended / max(len(batch["ids"]), 1),
                        text=tr("ui.batch_progress", preset=i18n.preset_name(batch["preset"],
                                                                             language()),
                                done=done, total=len(batch["ids"])))
            if ended < len(batch["ids"]):
                if st.button(tr("ui.cancel_train_all"), key="batch:cancel"):
                    for run_id, row in rows.items():
                        if row["status"] in LIVE and mine(run_id):
                            manager().cancel(run_id)
                    st.rerun(scope="fragment")
            elif st.button(tr("ui.clear"), key="batch:clear"):
                del st.session_state["batch"]
                st.rerun(scope="fragment")

    with place:
        if policy().public:
            st.info(tr("public.notice"))
        st.markdown(f"**{tr('ui.training')}**")
        panel()
        st.caption(tr("ui.training_device", device=training_device()))


def apply_action(manager: JobManager, action: str, runs: list[dict],
                 lang: str = i18n.ENGLISH) -> list[str]:
    """Apply a Runs-page action (compare.ACTIONS) through a job manager to the runs it
    fits; return a summary line ("" when refused) and one line per run it could not handle
    (or the refusal). It changes the store, so it lives here, not among compare's pure
    functions."""
    fits = [r for r in runs if r["status"] in compare.ACTIONS[action]]
    shipped = [r for r in fits if r.get("shipped") is not None and action == "delete"]
    fits = [r for r in fits if r not in shipped]
    rules = policy()
    why = rules.refuse_action(action, [r["id"] for r in fits], my_runs(), lang)
    if why is None and action in ("rerun", "requeue"):
        why = refused([RunSpec(**r["spec"]) for r in fits], force=True)
    if why is not None:
        return ["", why]  # no summary: nothing was done, and the refusal is not a success
    problems, handled = [], 0
    if shipped:
        problems.append(i18n.t("runs.shipped_left", lang, n=len(shipped)))
    for run in fits:
        if action == "delete":
            manager.store.delete(run["id"])
        elif action == "cancel":
            manager.cancel(run["id"])
        elif action == "interrupt":
            manager.mark_interrupted(run["id"])
        else:
            attempt = run["id"] != target_of(run["id"])  # a failed recompute of a finished run
            try:
                submitted = manager.submit(RunSpec(**run["spec"]),
                                           force=action == "rerun" or attempt,
                                           visitor=visitor(), limit=rules.limit)
            except ConfigError as error:
                problems.append(f"{compare.run_label(run, lang)}: {error.text(lang)}")
                continue
            except QueueFull as full:
                problems.append(rules.refuse_queue(full, lang))
                break
            if submitted.run_id != target_of(run["id"]):
                problems.append(i18n.t("runs.requeued_as", lang, run=compare.run_label(run, lang),
                                       run_id=submitted.run_id))
        handled += 1
    return [i18n.t(f"runs.done.{action}", lang, n=handled), *problems]
