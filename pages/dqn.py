"""DQN page: a random policy vs DQN vs Double DQN on CartPole (or Acrobot), several seeds
per run; learning curves with seed bands, steps to solve, a replayed greedy episode and
the learned policy as a map."""
import pandas as pd
import streamlit as st

from engine import registry, ui
from engine.inspect import control as inspect_control
from engine.plots import control

card = registry.card("dqn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("eval/mean_return", "train/episodic_return"))


@st.cache_data(max_entries=8, show_spinner="Playing and rendering one greedy episode...")
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

    st.subheader("Learning over environment steps")
    left, right = st.columns(2)
    left.plotly_chart(control.seed_bands(curves, "eval_return", "Greedy evaluation return",
                                         "mean return", hold_last=True, threshold=threshold),
                      width="stretch")
    right.plotly_chart(control.seed_bands(curves, "train_return", "Return while training "
                                          "(last 10 episodes, with exploration)", "return"),
                       width="stretch")
    if any(run["variant"] != "random" for run, _ in found.values()):
        left.plotly_chart(control.seed_bands(curves, "td_loss", "TD loss (Huber)", "loss"),
                          width="stretch")
        right.plotly_chart(control.seed_bands(curves, "q_mean", "Mean Q(s, a) of the "
                                              "replayed batches", "Q-value"), width="stretch")
    st.caption("Lines are medians over a run's seeds, bands their range. A seed counts as "
               f"solved at the second of two evaluations in a row at or above {threshold:g}; "
               "every seed trains to the budget.")

    st.subheader(f"Steps to a greedy evaluation mean of {threshold:g} on {env_id}")
    rows = []
    for label, (run, art) in found.items():
        summary = inspect_control.solve_summary(art)
        rows.append({
            "run": label, "seeds solved": f"{summary['solved']}/{summary['seeds']}",
            "env steps (median seed)": f"{summary['median_steps']:,.0f}"
            if summary["median_steps"] is not None else "not reached",
            "seconds (median seed)": f"{summary['median_seconds']:.1f}"
            if summary["median_seconds"] is not None else "not reached",
            "env steps per seed": ", ".join(f"{s:,}" if s is not None else "not reached"
                                            for s in summary["steps"]),
            "final return per seed": ", ".join(f"{r:.0f}" for r in art["final_return"])})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    st.subheader("Replay one greedy episode")
    labels = sorted(found, key=lambda label: found[label][0]["variant"] == "random")
    c1, c2, c3 = st.columns(3)
    label = c1.selectbox("Run", labels, key="dqn:replay_run")
    run, art = found[label]
    seed_index = c2.selectbox(
        "Agent", range(len(art["seeds"])), key="dqn:replay_agent",
        format_func=lambda i: f"seed {art['seeds'][i]} (final return {art['final_return'][i]:.0f})")
    episode_seed = c3.number_input("Episode seed", 0, 1_000_000, 0, key="dqn:episode_seed")
    try:
        episode = replay(run["id"], seed_index, int(episode_seed), run["spec"]["config"]["env"],
                         agents[label][seed_index])
    except inspect_control.RenderingUnavailable:
        st.error("Rendering needs pygame: pip install 'gymnasium[classic-control]'.")
        st.stop()
    names = inspect_control.ACTION_NAMES[env_id]
    left, right = st.columns([2, 3])
    left.image(episode["gif"], caption=f"{run['variant']}: {episode['steps']} steps, return "
               f"{episode['return']:.0f} (shown at real speed, every second frame)")
    if episode["grid"] is None:
        right.info("The random policy has no Q-values: it ignores the state.")
    else:
        right.plotly_chart(control.episode_q_values(episode["q_values"], episode["actions"], names,
                                                    "Q-values along this episode"),
                           width="stretch")
        st.plotly_chart(control.policy_map(episode["grid"], names, "Greedy action of this agent "
                                           "(the other state components at zero)"),
                        width="stretch")

ui.source(card)
