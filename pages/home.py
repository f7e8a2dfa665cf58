"""Home: one card per working algorithm with its best stored result."""
import streamlit as st

from engine import registry, ui

st.title("Deep Learning Top-10")
st.markdown("Ten landmark deep-learning algorithms, each trained for real on a real small "
            "dataset on this machine's CPU, with variants side by side: same data, same "
            "budget, same metrics. Pick an algorithm in the sidebar.")

for family, keys in registry.FAMILIES.items():
    keys = [k for k in keys if k in registry.available()]
    if not keys:
        continue
    st.subheader(family)
    columns = st.columns(3)
    for i, key in enumerate(keys):
        card = registry.card(key)
        runs = ui.stored_runs(key)
        with columns[i % 3].container(border=True):
            st.markdown(f"**{card.title}**")
            st.caption(card.summary)
            scored = [r for r in runs if card.headline in r["metrics"]]
            if scored:
                pick = max if card.higher_is_better else min
                best = pick(scored, key=lambda r: r["metrics"][card.headline])
                st.metric(f"best {card.headline_label}", f"{best['metrics'][card.headline]:.4g}",
                          help=f"{best['variant']}, {best['spec']['preset']} preset, "
                               f"{best['train_seconds']:.0f}s of training")
            else:
                st.caption("not trained yet")
            st.page_link(f"pages/{key}.py", label=f"Open {card.title.split(' (')[0]}")
