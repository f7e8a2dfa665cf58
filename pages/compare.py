"""Compare: any finished runs side by side, from any algorithm. The selection lives in the
URL (?runs=id1,id2&metric=val/acc&x=step&baseline=id1), so a comparison is a shareable link."""
import pandas as pd
import streamlit as st

from engine import compare, i18n, plots, ui
from engine.plots.compare import final_bars

KEEP = "session"  # widgets keep their value across page changes

ui.through_navigation()
lang, tr = ui.language(), ui.tr
st.title(tr("compare.title"))
st.markdown(tr("compare.intro"))

everything = ui.store().list_runs()
done = [r for r in everything if r["status"] == "done"]
by_id = {r["id"]: r for r in done}

# The link is read once per session; after that the widgets own the selection.
if "compare:runs" not in st.session_state:
    chosen, unknown, notes = compare.decode_selection(
        st.query_params.to_dict(), {r["id"]: r["status"] for r in everything}, lang)
    st.session_state.update({"compare:runs": list(chosen.runs), "compare:metric": chosen.metric,
                             "compare:x": chosen.x, "compare:baseline": chosen.baseline})
    if unknown:
        notes.insert(0, tr("compare.unknown_runs", ids=", ".join(ui.capped(unknown))))
    st.session_state["compare:link"] = (list(chosen.runs), notes)

link_runs, link_notes = st.session_state["compare:link"]
if link_notes and st.session_state["compare:runs"] == link_runs:
    st.warning("\n\n".join(ui.escape_markdown(n, 400) for n in ui.capped(link_notes)))

if not done:
    st.info(tr("compare.no_runs"))
    st.stop()

with st.expander(tr("compare.filter"), expanded=not st.session_state["compare:runs"]):
    columns, filters = st.columns(4), {}
    for column, (name, get) in zip(columns, [
            ("algorithm", lambda r: r["algorithm"]), ("variant", lambda r: r["variant"]),
            ("dataset", compare.dataset_of), ("preset", lambda r: r["preset"])]):
        values, key = sorted({str(get(r)) for r in done}), f"compare:filter:{name}"
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in values]
        filters[name] = column.multiselect(i18n.optional("col", name, lang), values, key=key,
                                           placeholder=tr("ui.choose_options"),
                                           persist_state=KEEP)
shown = compare.filter_runs(done, filters["algorithm"], filters["variant"], filters["dataset"],
                            filters["preset"])

# Only finished runs that still exist can stay selected (one may have been deleted meanwhile).
st.session_state["compare:runs"] = [i for i in st.session_state["compare:runs"] if i in by_id]
shown_ids = {r["id"] for r in shown}
options = [r["id"] for r in done
           if r["id"] in shown_ids or r["id"] in st.session_state["compare:runs"]]


def select_all_shown() -> None:
    st.session_state["compare:runs"] = list(dict.fromkeys(
        [*st.session_state["compare:runs"], *(r["id"] for r in shown)]))


left, right = st.columns([4, 1], vertical_alignment="bottom")
ids = left.multiselect(tr("compare.runs"), options,
                       format_func=lambda i: compare.run_label(by_id[i], lang),
                       key="compare:runs", persist_state=KEEP,
                       placeholder=tr("compare.runs_placeholder"))
right.button(tr("compare.add_shown", n=len(shown)), on_click=select_all_shown,
             key="compare:all", help=tr("compare.add_shown_help"))
if not ids:
    st.query_params.from_dict({"lang": lang})  # the selection is empty; the language stays
    st.info(tr("compare.choose"))
    st.stop()
runs = [by_id[i] for i in ids]

if st.session_state["compare:baseline"] not in ids:
    st.session_state["compare:baseline"] = ids[0]
baseline = st.selectbox(tr("compare.baseline"), ids,
                        format_func=lambda i: compare.run_label(by_id[i], lang),
                        key="compare:baseline", persist_state=KEEP)

# ---- final metrics -------------------------------------------------------------------------
st.subheader(tr("compare.final_metrics"))
table, numeric = compare.compared(runs, baseline, lang)
others = pd.IndexSlice[table.index[1:], numeric]
styled = (table.style.format("{:.4g}", subset=numeric, na_rep="—")
          .format("{:+.4g}", subset=others, na_rep="—")
          .apply(lambda row: ["font-weight: bold; background-color: #eff6ff"
                              if row.name == baseline else ""] * len(row), axis=1))
for metric, sign in compare.better_direction(runs).items():
    styled = styled.map(lambda v, sign=sign: "" if pd.isna(v) or v == 0 else
                        f"color: {'#15803d' if v * sign > 0 else '#b91c1c'}",
                        subset=pd.IndexSlice[table.index[1:], [metric]])
st.dataframe(styled, hide_index=True, column_order=["run", "shown as", *numeric],
             column_config={name: i18n.optional("col", name, lang) for name in table.columns})
st.caption(tr("compare.table_caption"))
st.download_button(tr("compare.table_csv"), compare.comparison_csv(runs, baseline),
                   file_name="comparison.csv", mime="text/csv", on_click="ignore",
                   key="compare:table_csv", help=tr("compare.table_csv_help"))

st.subheader(tr("compare.settings_differ"))
diff = compare.config_diff(runs, lang)
if diff.empty:
    st.caption(tr("compare.same_settings"))
else:
    st.dataframe(diff.rename_axis(tr("col.setting")))

# ---- figures ------------------------------------------------------------------------------
st.subheader(tr("compare.curves"))
history = compare.histories_frame(runs, {r["id"]: ui.history(r) for r in runs}, lang)
keys = sorted(history["key"].unique())
figures = {}  # button label -> (file name, figure), for the HTML downloads
if not keys:
    st.caption(tr("compare.no_history"))
else:
    wanted = st.session_state["compare:metric"]
    if wanted not in keys:
        headlines = list(compare.better_direction(runs))
        preferred = [*headlines, *(h.replace("test/", "val/") for h in headlines), *keys]
        fallback = next(k for k in preferred if k in keys)
        if wanted:
            st.caption(tr("compare.metric_missing", wanted=ui.escape_markdown(wanted),
                          fallback=fallback))
        st.session_state["compare:metric"] = fallback
    left, right = st.columns([3, 1])
    metric = left.selectbox(tr("compare.metric"), keys, key="compare:metric", persist_state=KEEP)
    x_axis = right.radio(tr("ui.x_axis"), compare.X_AXES, horizontal=True, key="compare:x",
                         persist_state=KEEP, format_func=ui.axis_name)
    weight, log_y = ui.curve_controls("compare", persist_state=KEEP)
    curves = plots.curves(plots.smoothed(history, weight), metric, x=x_axis, log_y=log_y,
                          lang=lang)
    figures[tr("compare.curves")] = (f"curves-{metric.replace('/', '_')}.html", curves)
    st.plotly_chart(curves, width="stretch", key="compare:curves")

final = [k for k in numeric if k in compare.metric_keys(runs)]
if final:
    if st.session_state.get("compare:bars_metric") not in final:
        st.session_state["compare:bars_metric"] = final[0]
    bars_metric = st.selectbox(tr("compare.bars_metric"), final, key="compare:bars_metric",
                               persist_state=KEEP)
    bars = final_bars(compare.final_values(runs, lang), bars_metric, baseline, lang)
    figures[tr("compare.bars")] = (f"final-{bars_metric.replace('/', '_')}.html", bars)
    st.plotly_chart(bars, width="stretch", key="compare:bars")

columns = st.columns(1 + len(figures))
columns[0].download_button(tr("compare.history_csv"), compare.histories_csv(history),
                           file_name="histories.csv", mime="text/csv", on_click="ignore",
                           key="compare:history_csv", disabled=not keys,
                           help=tr("compare.history_csv_help"))
for column, (label, (name, figure)) in zip(columns[1:], figures.items()):
    column.download_button(tr("compare.as_html", label=label),
                           lambda figure=figure: figure.to_html(include_plotlyjs=True),
                           file_name=name, mime="text/html", on_click="ignore",
                           key=f"compare:html:{name}")
st.caption(tr("compare.png_caption"))

st.query_params.from_dict(compare.encode_selection(compare.Selection(
    tuple(ids), st.session_state.get("compare:metric", ""), st.session_state["compare:x"],
    baseline)) | {"lang": lang})
