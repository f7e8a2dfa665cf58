"""Sweeps: one variant over a grid of settings and several seeds. Every run is an ordinary
stored run (Compare and Runs show it); the sweep lives in the URL
(?algorithm=dnn&variant=mlp&preset=quick&grid=lr:0.001,0.003;hidden:64,128&seeds=0-2)."""
import dataclasses
from urllib.parse import urlencode

import streamlit as st

from engine import i18n, registry, sweep, ui
from engine.core import ConfigError
from engine.i18n import card_text
from engine.plots import sweeps as sweep_plots

KEEP = "session"

ui.through_navigation()
lang, tr = ui.language(), ui.tr
st.title(tr("nav.sweeps"))
st.markdown(tr("sweeps.intro"))

# The link is read once per session; after that the form owns the sweep.
if "sweep:plan" not in st.session_state:
    st.session_state["sweep:plan"] = None
    link = st.query_params.to_dict()
    if link.get("grid"):
        try:
            st.session_state["sweep:plan"] = sweep.from_query(link)
        except ConfigError as error:
            st.warning(tr("sweeps.bad_link", reason=ui.escape_markdown(error.text(lang), 400)))
plan: sweep.Sweep | None = st.session_state["sweep:plan"]

keys = list(registry.KEYS)
if plan and plan.algorithm in keys:  # the link's choice becomes the widgets' starting value
    st.session_state.setdefault("sweep:algorithm", plan.algorithm)
left, middle, right = st.columns(3)
algorithm = left.selectbox(tr("col.algorithm"), keys, key="sweep:algorithm", persist_state=KEEP,
                           format_func=lambda k: card_text.title(registry.card(k), lang))
card = registry.card(algorithm)
from_link = plan if plan and plan.algorithm == algorithm else None
variants = list(card.variants)
variant = middle.selectbox(tr("page.variant"), variants, key=f"sweep:{algorithm}:variant",
                           index=variants.index(from_link.variant) if from_link else 0,
                           format_func=lambda v: f"{v}: {card_text.variant_text(card, v, lang)}")
presets = list(card.presets)
preset = right.segmented_control(
    tr("ui.preset"), presets, key=f"sweep:{algorithm}:preset", required=True,
    default=from_link.preset if from_link and from_link.preset in presets else "quick",
    format_func=lambda p: i18n.preset_name(p, lang), help=tr("sweeps.preset_help"))
fields = {f.name: f for f in dataclasses.fields(card.config_cls)}
defaults = card.default_config(preset)


def allowed(name: str) -> str:
    meta = fields[name].metadata
    if meta.get("choices"):
        return tr("sweeps.one_of", options=", ".join(map(str, meta["choices"])))
    return tr("sweeps.between", lo=f"{meta['lo']:g}", hi=f"{meta['hi']:g}")


with st.form(f"sweep:{algorithm}:form"):
    chosen = st.multiselect(tr("sweeps.to_vary"), list(fields),
                            default=list(from_link.grid) if from_link else list(fields)[3:4],
                            key=f"sweep:{algorithm}:fields",
                            placeholder=tr("ui.choose_options"), help=tr("sweeps.to_vary_help"),
                            format_func=lambda name: name if lang == i18n.ENGLISH else
                            f"{card_text.setting_label(card, name, lang)} ({name})")
    values = {}
    columns = st.columns(3)
    for i, name in enumerate(chosen):
        start = from_link.grid.get(name) if from_link else None
        text = ",".join(sweep.value_text(v) for v in (start or [defaults[name]]))
        values[name] = columns[i % 3].text_input(
            tr("sweeps.values", name=name), text, key=f"sweep:{algorithm}:values:{name}",
            help=tr("sweeps.values_help", allowed=allowed(name),
                    help=card_text.setting_help(card, name, lang)))
    seeds = st.text_input(tr("sweeps.seeds"),
                          sweep.format_seeds(from_link.seeds) if from_link else "0-1",
                          key=f"sweep:{algorithm}:seeds", help=tr("sweeps.seeds_help"))
    fixed = from_link.fixed if from_link else {}
    if fixed:
        st.caption(tr("sweeps.fixed", fixed=", ".join(f"{k}={v}" for k, v in fixed.items())))
    submitted = st.form_submit_button(tr("sweeps.run"), type="primary")

if submitted:
    try:
        grid = sweep.parse_grid([f"{name}={text}" for name, text in values.items()])
        plan = sweep.build(algorithm, variant, preset, grid, sweep.parse_seeds(seeds),
                           {k: v for k, v in fixed.items() if k not in grid})
    except ConfigError as error:  # it may quote what was typed or pasted: shown as text
        st.error(ui.escape_markdown(error.text(lang), 400))
    else:
        st.session_state["sweep:plan"] = plan
        st.query_params.from_dict(sweep.to_query(plan) | {"lang": lang})
        ui.submit(plan.all_specs())

if plan is None:
    st.info(tr("sweeps.empty"))
    st.stop()

ids = [i for point in plan.run_ids() for i in point]
plan_card = registry.card(plan.algorithm)
pending = any(r["status"] in ui.LIVE for r in ui.store().get_many(ids).values())


@st.fragment(run_every=1.0 if pending else None)
def live() -> None:
    ui.manager().refresh()
    rows = ui.store().get_many(ids)
    done, ended, overall = sweep.progress(plan, rows)
    still = any(r["status"] in ui.LIVE for r in rows.values())
    missing = len(ids) - len(rows)
    text = (tr("sweeps.progress", run=f"{plan.algorithm}/{plan.variant}", done=done,
               total=len(ids))
            + (tr("sweeps.progress_ended", n=ended - done) if ended > done else "")
            + (tr("sweeps.progress_missing", n=missing) if missing else ""))
    st.progress(overall, text=text)
    if still and st.button(tr("sweeps.cancel"), key="sweep:cancel"):
        for run_id, row in rows.items():
            if row["status"] in ui.LIVE and ui.mine(run_id):  # public: never another's run
                ui.manager().cancel(run_id)
        st.rerun(scope="fragment")
    if pending and not still:
        st.rerun()  # everything ended: redraw the results


live()
rows = ui.store().get_many(ids)
table = sweep.summarize(plan, rows)
best = sweep.best_index(plan, table)
shown = table.copy()
shown.insert(len(plan.grid), tr("sweeps.mean_std_column", metric=plan_card.headline), [
    tr("sweeps.pending") if m != m else (f"{m:.4f}" if s != s else f"{m:.4f} ± {s:.4f}")
    for m, s in zip(table["mean"], table["std"])])
st.subheader(tr("sweeps.over_seeds", label=card_text.headline_label(plan_card, lang),
                seeds=sweep.format_seeds(plan.seeds)))
st.dataframe(ui.headers(shown.drop(columns=["mean", "std"])), hide_index=True, width="stretch")
if best is not None:
    point = plan.points[best]
    done_ids = [i for i in plan.run_ids()[best] if rows.get(i, {}).get("status") == "done"]
    st.caption(tr("sweeps.best", point=sweep.point_label(point),
                  mean=f"{table.at[best, 'mean']:.4f}",
                  link=f"/compare?runs={','.join(done_ids)}&lang={lang}"))
    fields_in_grid = list(plan.grid)
    if len(fields_in_grid) == 1:
        figure = sweep_plots.one_field(table, fields_in_grid[0], plan_card.headline, lang)
    elif len(fields_in_grid) == 2:
        figure = sweep_plots.two_fields(table, fields_in_grid[1], fields_in_grid[0],
                                        plan_card.headline, plan_card.higher_is_better, lang)
    else:
        figure = sweep_plots.parallel(table, fields_in_grid, plan_card.headline,
                                      plan_card.higher_is_better, lang)
    st.plotly_chart(figure, width="stretch", key="sweep:figure")
st.caption(tr("sweeps.link", query=urlencode(sweep.to_query(plan) | {"lang": lang})))
