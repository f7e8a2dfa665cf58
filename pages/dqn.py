"""DQN page: a random policy vs DQN vs Double DQN on CartPole (or Acrobot), several seeds
per run; learning curves with seed bands, steps to solve, a replayed greedy episode and
the learned policy as a map."""
import pandas as pd
import streamlit as st

from engine import i18n, registry, ui
from engine.inspect import control as inspect_control
from engine.plots import control

card = registry.card("dqn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("eval/mean_return", "train/episodic_return"))
lang, tr = ui.language(), ui.tr


@st.cache_data(max_entries=8, show_spinner=False)
def replay(run_id: str, seed_index: int, episode_seed: int, env_id: str, _q) -> dict:
    """One rendered episode of a stored agent (cached per run, agent and episode seed)."""
    episode = inspect_control.play_episode(env_id, _q, episode_seed, frame_every=2,
                                           max_frames=260)
    episode["gif"] = control.episode_gif(episode.pop("frames"), fps=25)
    episode["grid"] = inspect_control.policy_grid(env_id, _q) if _q is not None else None
    return episode


restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
found = {ui.label(r.run): (r.run, r.artifacts) for r in restored}
agents = {ui.label(r.run): r.model for r in restored}  # label -> one Q-network per seed

if found:
    env_id = next(iter(found.values()))[1]["env"]
    threshold = next(iter(found.values()))[1]["threshold"]
    curves = {label: art["curves"] for label, (_, art) in found.items()}

    st.subheader(tr("page.dqn.learning"))
    left, right = st.columns(2)
    left.plotly_chart(control.seed_bands(curves, "eval_return", tr("page.dqn.eval_return"),
                                         tr("page.dqn.mean_return"), hold_last=True,
                                         threshold=threshold, lang=lang), width="stretch")
    right.plotly_chart(control.seed_bands(curves, "train_return", tr("page.dqn.train_return"),
                                          tr("page.dqn.return"), lang=lang), width="stretch")
    if any(run["variant"] != "random" for run, _ in found.values()):
        left.plotly_chart(control.seed_bands(curves, "td_loss", tr("page.dqn.td_loss"),
                                             tr("page.dqn.loss"), lang=lang), width="stretch")
        right.plotly_chart(control.seed_bands(curves, "q_mean", tr("page.dqn.q_mean"),
                                              tr("plot.q_value"), lang=lang), width="stretch")
    st.caption(tr("page.dqn.bands_caption", threshold=f"{threshold:g}"))

    st.subheader(tr("page.dqn.steps_to", threshold=f"{threshold:g}", env=env_id))
    rows = []
    for label, (_run, art) in found.items():
        summary = inspect_control.solve_summary(art)
        not_reached = tr("page.dqn.not_reached")
        rows.append({
            "run": label, "seeds solved": f"{summary['solved']}/{summary['seeds']}",
            "env steps (median seed)": f"{summary['median_steps']:,.0f}"
            if summary["median_steps"] is not None else not_reached,
            "seconds (median seed)": f"{summary['median_seconds']:.1f}"
            if summary["median_seconds"] is not None else not_reached,
            "env steps per seed": ", ".join(f"{s:,}" if s is not None else not_reached
                                            for s in summary["steps"]),
            "final return per seed": ", ".join(f"{r:.0f}" for r in art["final_return"])})
    st.dataframe(ui.headers(pd.DataFrame(rows)), hide_index=True, width="stretch")

    st.subheader(tr("page.dqn.replay"))
    labels = sorted(found, key=lambda label: found[label][0]["variant"] == "random")
    c1, c2, c3 = st.columns(3)
    label = c1.selectbox(tr("page.run"), labels, key="dqn:replay_run")
    run, art = found[label]
    seed_index = c2.selectbox(
        tr("page.dqn.agent"), range(len(art["seeds"])), key="dqn:replay_agent",
        format_func=lambda i: tr("page.dqn.agent_option", seed=art["seeds"][i],
                                 ret=f"{art['final_return'][i]:.0f}"))
    episode_seed = c3.number_input(tr("page.dqn.episode_seed"), 0, 1_000_000, 0,
                                   key="dqn:episode_seed")
    try:
        with st.spinner(tr("page.dqn.rendering")):
            episode = replay(run["id"], seed_index, int(episode_seed),
                             run["spec"]["config"]["env"], agents[label][seed_index])
    except inspect_control.RenderingUnavailable:
        st.error(tr("page.dqn.needs_pygame"))
        st.stop()
    names = [i18n.optional("plot.action_name", name, lang)
             for name in inspect_control.ACTION_NAMES[env_id]]
    left, right = st.columns([2, 3])
    left.image(episode["gif"], caption=tr("page.dqn.gif_caption", variant=run["variant"],
                                          steps=episode["steps"], ret=f"{episode['return']:.0f}"))
    if episode["grid"] is None:
        right.info(tr("page.dqn.random_no_q"))
    else:
        right.plotly_chart(control.episode_q_values(episode["q_values"], episode["actions"], names,
                                                    tr("page.dqn.q_along"), lang),
                           width="stretch")
        grid = {**episode["grid"],
                "x_title": i18n.optional("plot.axis", episode["grid"]["x_title"], lang),
                "y_title": i18n.optional("plot.axis", episode["grid"]["y_title"], lang)}
        st.plotly_chart(control.policy_map(grid, names, tr("page.dqn.policy_title"), lang),
                        width="stretch")

ui.source(card)
