"""Home: one card per algorithm, "Train all", and the cross-algorithm view."""
import pandas as pd
import streamlit as st

from engine import compare, plots, registry, ui

ui.through_navigation()
st.title("Deep Learning Top-10")
st.markdown("Ten landmark deep-learning algorithms, each trained for real on a real small "
            "dataset on this machine's CPU, with their variants side by side: same data, same "
            "budget, same metrics. Every finished run is stored and reused.")

left, right, _ = st.columns([1, 1, 3])
if left.button("Train all (quick)", help="every variant of every algorithm, seconds each"):
    ui.train_all("quick")
    st.rerun()
if right.button("Train all (standard)", help="every variant at its standard preset: "
                "minutes each; progress stays in the sidebar on every page"):
    ui.train_all("standard")
    st.rerun()

runs = ui.store().list_runs(status="done")
by_algorithm: dict[str, list[dict]] = {}
for run in runs:
    by_algorithm.setdefault(run["algorithm"], []).append(run)


def best_run(card, candidates):
    scored = [r for r in candidates if card.headline in r["metrics"]]
    if not scored:
        return None
    pick = max if card.higher_is_better else min
    return pick(scored, key=lambda r: r["metrics"][card.headline])


for family, keys in registry.FAMILIES.items():
    st.subheader(family)
    columns = st.columns(3)
    for i, key in enumerate(keys):
        card = registry.card(key)
        best = best_run(card, by_algorithm.get(key, []))
        with columns[i % 3].container(border=True):
            st.markdown(f"**{card.title}**")
            st.caption(f"{card.summary} · data: {card.default_config()[card.data_field]}")
            if best is None:
                st.caption("not trained yet")
            else:
                st.metric(f"best {card.headline_label}",
                          compare.format_metric(card.headline, best["metrics"][card.headline]),
                          help=f"{best['variant']}, {best['spec']['preset']} preset")
                st.caption(f"{best['variant']} · {best['train_seconds']:.1f} s of training · "
                           f"{best['params']:,} params"
                           + (" · :material/inventory_2: shipped" if best.get("shipped") is not None
                              else ""))
                frame = plots.history_frame(ui.history(best), best["variant"])
                shown = next((k for k in (card.headline, "val/acc", "val/loss", "train/loss")
                              if (frame["key"] == k).any()), None)
                if shown:
                    st.plotly_chart(plots.thumbnail(frame, shown), width="stretch",
                                    config={"staticPlot": True}, key=f"thumb:{key}")
            st.page_link(f"pages/{key}.py", label=f"Open {card.title.split(' (')[0]} →")

st.subheader("Across algorithms")
st.caption("Each point is a stored run: its headline metric against what it cost. Metrics "
           "differ between families, so compare within a family.")
records = [{"family": registry.family_of(r["algorithm"]), "algorithm": r["algorithm"],
            "variant": r["variant"], "preset": r["spec"]["preset"],
            "metric": registry.card(r["algorithm"]).headline,
            "value": r["metrics"].get(registry.card(r["algorithm"]).headline),
            "train seconds": r["train_seconds"], "params": max(r["params"] or 0, 1)}
           for r in runs if r["algorithm"] in registry.KEYS]
frame = pd.DataFrame(records).dropna(subset=["value"]) if records else pd.DataFrame()
if frame.empty:
    st.info("Nothing stored yet: press **Train all (quick)** to fill the dashboard in minutes.")
else:
    for family, part in frame.groupby("family", sort=False):
        left, right = st.columns(2)
        for column, x in ((left, "train seconds"), (right, "params")):
            column.plotly_chart(plots.scatter_points(
                part, x=x, y="value", color="algorithm", log_x=True,
                hover=["variant", "preset", "metric"], title=f"{family}: headline vs {x}"),
                width="stretch", key=f"cross:{family}:{x}")
