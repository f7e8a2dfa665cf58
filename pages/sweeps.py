"""Sweeps: one variant over a grid of settings and several seeds. Every run is an ordinary
stored run (Compare and Runs show it); the sweep lives in the URL
(?algorithm=dnn&variant=mlp&preset=quick&grid=lr:0.001,0.003;hidden:64,128&seeds=0-2)."""
import dataclasses
from urllib.parse import urlencode

import streamlit as st

from engine import registry, sweep, ui
from engine.core import ConfigError
from engine.plots import sweeps as sweep_plots

KEEP = "session"

ui.through_navigation()
st.title("Sweeps")
st.markdown("Pick an algorithm's variant, the settings to vary with their values and the "
            "seeds; every combination of values is trained once per seed (what is already "
            "stored is served), and the result shows each point's mean ± std over the seeds. "
            "The address bar holds the sweep, so copying it shares it.")

# The link is read once per session; after that the form owns the sweep.
if "sweep:plan" not in st.session_state:
    st.session_state["sweep:plan"] = None
    link = st.query_params.to_dict()
    if link.get("grid"):
        try:
            st.session_state["sweep:plan"] = sweep.from_query(link)
        except ConfigError as error:
            st.warning(f"This link names no sweep that can run: {error}")
plan: sweep.Sweep | None = st.session_state["sweep:plan"]

keys = list(registry.KEYS)
if plan and plan.algorithm in keys:  # the link's choice becomes the widgets' starting value
    st.session_state.setdefault("sweep:algorithm", plan.algorithm)
left, middle, right = st.columns(3)
algorithm = left.selectbox("Algorithm", keys, key="sweep:algorithm", persist_state=KEEP,
                           format_func=lambda k: registry.card(k).title)
card = registry.card(algorithm)
from_link = plan if plan and plan.algorithm == algorithm else None
variants = list(card.variants)
variant = middle.selectbox("Variant", variants, key=f"sweep:{algorithm}:variant",
                           index=variants.index(from_link.variant) if from_link else 0,
                           format_func=lambda v: f"{v}: {card.variants[v]}")
presets = list(card.presets)
preset = right.segmented_control(
    "Preset", presets, key=f"sweep:{algorithm}:preset", required=True,
    default=from_link.preset if from_link and from_link.preset in presets else "quick",
    help="the settings not in the grid come from this preset")
fields = {f.name: f for f in dataclasses.fields(card.config_cls)}
defaults = card.default_config(preset)


def allowed(name: str) -> str:
    meta = fields[name].metadata
    if meta.get("choices"):
        return "one of " + ", ".join(map(str, meta["choices"]))
    return f"between {meta['lo']:g} and {meta['hi']:g}"


with st.form(f"sweep:{algorithm}:form"):
    chosen = st.multiselect("Settings to vary", list(fields),
                            default=list(from_link.grid) if from_link else list(fields)[3:4],
                            key=f"sweep:{algorithm}:fields",
                            help="one value list per setting; the grid is every combination")
    values = {}
    columns = st.columns(3)
    for i, name in enumerate(chosen):
        start = from_link.grid.get(name) if from_link else None
        text = ",".join(sweep.value_text(v) for v in (start or [defaults[name]]))
        values[name] = columns[i % 3].text_input(
            f"{name} values", text, key=f"sweep:{algorithm}:values:{name}",
            help=f"comma-separated, each {allowed(name)}; {fields[name].metadata['help']}")
    seeds = st.text_input("Seeds", sweep.format_seeds(from_link.seeds) if from_link else "0-1",
                          key=f"sweep:{algorithm}:seeds", help="e.g. 0-4 or 0,3,7")
    fixed = from_link.fixed if from_link else {}
    if fixed:
        st.caption("Also fixed by the link: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
    submitted = st.form_submit_button("Run sweep", type="primary")

if submitted:
    try:
        grid = sweep.parse_grid([f"{name}={text}" for name, text in values.items()])
        plan = sweep.build(algorithm, variant, preset, grid, sweep.parse_seeds(seeds),
                           {k: v for k, v in fixed.items() if k not in grid})
    except ConfigError as error:
        st.error(str(error))
    else:
        st.session_state["sweep:plan"] = plan
        st.query_params.from_dict(sweep.to_query(plan))
        ui.submit(plan.all_specs())

if plan is None:
    st.info("Choose settings and values above and press **Run sweep** (the quick preset "
            "takes seconds per run).")
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
    text = (f"{plan.algorithm}/{plan.variant}: {done} of {len(ids)} runs done"
            + (f", {ended - done} ended without a result" if ended > done else "")
            + (f", {missing} not submitted (press Run sweep)" if missing else ""))
    st.progress(overall, text=text)
    if still and st.button("Cancel the sweep", key="sweep:cancel"):
        for run_id, row in rows.items():
            if row["status"] in ui.LIVE:
                ui.manager().cancel(run_id)
        st.rerun(scope="fragment")
    if pending and not still:
        st.rerun()  # everything ended: redraw the results


live()
rows = ui.store().get_many(ids)
table = sweep.summarize(plan, rows)
best = sweep.best_index(plan, table)
shown = table.copy()
shown.insert(len(plan.grid), f"{plan_card.headline} mean ± std", [
    "pending" if m != m else (f"{m:.4f}" if s != s else f"{m:.4f} ± {s:.4f}")
    for m, s in zip(table["mean"], table["std"])])
st.subheader(f"{plan_card.headline_label} over seeds {sweep.format_seeds(plan.seeds)}")
st.dataframe(shown.drop(columns=["mean", "std"]), hide_index=True, width="stretch")
if best is not None:
    point = plan.points[best]
    done_ids = [i for i in plan.run_ids()[best] if rows.get(i, {}).get("status") == "done"]
    st.caption(f"Best point: **{sweep.point_label(point)}** "
               f"({table.at[best, 'mean']:.4f}); standard deviation over seeds uses n − 1. "
               f"[Open its runs in Compare](/compare?runs={','.join(done_ids)})")
    fields_in_grid = list(plan.grid)
    if len(fields_in_grid) == 1:
        figure = sweep_plots.one_field(table, fields_in_grid[0], plan_card.headline)
    elif len(fields_in_grid) == 2:
        figure = sweep_plots.two_fields(table, fields_in_grid[1], fields_in_grid[0],
                                        plan_card.headline, plan_card.higher_is_better)
    else:
        figure = sweep_plots.parallel(table, fields_in_grid, plan_card.headline,
                                      plan_card.higher_is_better)
    st.plotly_chart(figure, width="stretch", key="sweep:figure")
st.caption("Link to this sweep: `?" + urlencode(sweep.to_query(plan)) + "`")
