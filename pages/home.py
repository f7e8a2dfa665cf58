"""Home: one card per algorithm, "Train all", and the cross-algorithm view."""
import pandas as pd
import streamlit as st

from engine import compare, i18n, plots, registry, ui
from engine.i18n import card_text

ui.through_navigation()
lang, tr = ui.language(), ui.tr
st.title(tr("nav.app_title"))
st.markdown(tr("home.intro"))
st.caption(tr("home.article"))

left, right, _ = st.columns([1, 1, 3])
for column, preset in ((left, "quick"), (right, "standard")):
    if column.button(tr(f"home.train_{preset}"), help=tr(f"home.train_{preset}_help")):
        if ui.train_all(preset):
            st.rerun()  # the sidebar, drawn before this page, then lists the new jobs
        # refused (public mode): submit() showed why, and no rerun wipes it

runs = ui.store().list_runs(status="done")
by_algorithm: dict[str, list[dict]] = {}
public = ui.policy().public
for run in runs:  # in public mode the cards show everyone the shipped results, not a visitor's
    if not public or run.get("shipped") is not None:
        by_algorithm.setdefault(run["algorithm"], []).append(run)


def best_run(card, candidates):
    scored = [r for r in candidates if card.headline in r["metrics"]]
    if not scored:
        return None
    pick = max if card.higher_is_better else min
    return pick(scored, key=lambda r: r["metrics"][card.headline])


for family, keys in registry.FAMILIES.items():
    st.subheader(i18n.family_name(family, lang))
    columns = st.columns(3)
    for i, key in enumerate(keys):
        card = registry.card(key)
        best = best_run(card, by_algorithm.get(key, []))
        title = card_text.title(card, lang)
        with columns[i % 3].container(border=True):
            st.markdown(f"**{title}**")
            st.caption(tr("home.card_caption", summary=card_text.summary(card, lang),
                          data=card.default_config()[card.data_field]))
            if best is None:
                st.caption(tr("home.not_trained"))
            else:
                st.metric(tr("home.best", label=card_text.headline_label(card, lang)),
                          compare.format_metric(card.headline, best["metrics"][card.headline]),
                          help=tr("home.best_help", variant=best["variant"],
                                  preset=i18n.preset_name(best["spec"]["preset"], lang)))
                st.caption(tr("home.best_caption", variant=best["variant"],
                              preset=i18n.preset_name(best["spec"]["preset"], lang),
                              seconds=f"{best['train_seconds']:.1f}", params=f"{best['params']:,}")
                           + (tr("home.shipped") if best.get("shipped") is not None else ""))
                frame = plots.history_frame(ui.history(best), best["variant"])
                evals = sorted(k for k in frame["key"].unique() if k.startswith("eval/"))
                shown = next((k for k in (card.headline, "val/acc", "val/loss", *evals,
                                          "train/loss") if (frame["key"] == k).any()), None)
                if shown:
                    last = frame[frame["key"] == shown]["value"].iloc[-1]
                    st.plotly_chart(plots.thumbnail(frame, shown,
                                                    card_text.metric_label(card, shown, lang),
                                                    compare.format_metric(shown, last)),
                                    width="stretch",
                                    config={"staticPlot": True}, key=f"thumb:{key}")
            st.page_link(f"pages/{key}.py", query_params={"lang": lang},
                         label=tr("home.open", name=title.split(" (")[0].split("（")[0]))

st.subheader(tr("home.across"))
st.caption(tr("home.across_caption"))
SECONDS, PARAMS = "train seconds", "params"
records = [{"family": i18n.family_name(registry.family_of(r["algorithm"]), lang),
            "algorithm": r["algorithm"], "variant": r["variant"],
            "preset": i18n.preset_name(r["spec"]["preset"], lang),
            "metric": registry.card(r["algorithm"]).headline,
            "value": r["metrics"].get(registry.card(r["algorithm"]).headline),
            SECONDS: r["train_seconds"], PARAMS: max(r["params"] or 0, 1)}
           for r in runs if r["algorithm"] in registry.KEYS]
frame = pd.DataFrame(records).dropna(subset=["value"]) if records else pd.DataFrame()
if frame.empty:
    st.info(tr("home.empty"))
else:
    labels = {name: i18n.optional("col", name, lang) for name in frame.columns}
    # one pair of charts per family and headline: a loss (lower is better) and a
    # correlation (higher is better) on one axis would read as one scale
    for (family, metric), part in frame.groupby(["family", "metric"], sort=False):
        card = registry.card(part["algorithm"].iloc[0])
        name = card_text.metric_label(card, metric, lang)
        labels["value"] = name
        left, right = st.columns(2)
        for column, x in ((left, SECONDS), (right, PARAMS)):
            column.plotly_chart(plots.scatter_points(
                part, x=x, y="value", color="algorithm", log_x=True,
                hover=["variant", "preset"], labels=labels,
                title=tr("home.scatter_title", family=family, metric=name, x=labels[x])),
                width="stretch", key=f"cross:{family}:{metric}:{x}")
