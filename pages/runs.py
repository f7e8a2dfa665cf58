"""Runs: every stored run with its status, times, spec and final metrics; filter and sort;
delete (artifacts too), re-run, cancel queued or running ones, re-queue failed or
interrupted ones."""
import streamlit as st

from engine import compare, ui
from engine.compare import ACTIONS, LIVE

KEEP = "session"  # filters keep their value across page changes
BUTTONS = {"delete": "Delete", "rerun": "Re-run", "requeue": "Re-queue", "cancel": "Cancel",
           "interrupt": "Mark interrupted"}
HELP = {"delete": "Removes finished, failed, cancelled or interrupted runs with their "
                  "metric history and artifact folder. Cancel a live run first.",
        "rerun": "Trains finished runs again with the same spec; the stored result stays until "
                 "the new one is done (a failed attempt shows as its own `.retry` row).",
        "requeue": "Puts failed, cancelled or interrupted runs back in the queue.",
        "cancel": "Stops queued runs at once and running ones at their next report.",
        "interrupt": "For a running run whose worker has gone silent (another machine, a "
                     "restart): marks it interrupted so it can be re-queued."}

ui.through_navigation()
st.title("Runs")
st.markdown("Every run in the store, from every page and the command line. Pick runs in "
            "*Act on* to delete, re-run, cancel or re-queue them.")
ui.store().recover_interrupted()  # a worker that died leaves its runs interrupted
any_live = bool(ui.store().list_runs(status="running") or ui.store().list_runs(status="queued"))


def act(action: str) -> None:
    """Button callback: runs before the page redraws, so the table shows the outcome.
    Delete acts on the runs the user confirmed, the others on the chosen runs."""
    ids = st.session_state.pop("runs:confirm") if action == "delete" else \
        st.session_state["runs:chosen"]
    chosen = ui.store().get_many(ids)
    st.session_state["runs:message"] = ui.apply_action(ui.manager(), action,
                                                       list(chosen.values()))
    if action == "delete":
        st.session_state["runs:chosen"] = [i for i in st.session_state["runs:chosen"]
                                           if ui.store().get(i)]


def ask_to_delete() -> None:
    st.session_state.pop("runs:message", None)  # a new action: the last one's outcome goes
    chosen = ui.store().get_many(st.session_state["runs:chosen"])
    st.session_state["runs:confirm"] = [i for i, run in chosen.items()
                                        if run["status"] in ACTIONS["delete"]]


@st.fragment(run_every=2.0 if any_live else None)
def body() -> None:
    runs = ui.store().list_runs()
    if not runs:
        st.info("No runs stored yet. Train something on an algorithm page, or run "
                "`python -m engine run dnn --preset quick`.")
        return
    if message := st.session_state.get("runs:message"):  # kept until the next action
        st.success(message[0])
        for line in message[1:]:
            st.warning(line)

    columns = st.columns(4)
    filters = {}
    for column, name in zip(columns, ("algorithm", "status", "preset")):
        values, key = sorted({str(r[name]) for r in runs}), f"runs:filter:{name}"
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in values]
        filters[name] = column.multiselect(name, values, key=key, persist_state=KEEP)
    sort = columns[3].selectbox("sort", list(compare.SORTS), key="runs:sort", persist_state=KEEP)
    shown = compare.filter_runs(runs, algorithms=filters["algorithm"],
                                statuses=filters["status"], presets=filters["preset"])
    table = compare.runs_table(shown, sort)
    st.dataframe(table, column_config={
        "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
        **{c: st.column_config.DatetimeColumn(c, format="YYYY-MM-DD HH:mm:ss")
           for c in ("created", "started", "finished")},
        "train seconds": st.column_config.NumberColumn(format="%.1f")})
    st.caption(f"{len(shown)} of {len(runs)} runs · times in UTC"
               + (" · refreshing every 2 s while runs are live" if any_live else ""))

    by_id = {r["id"]: r for r in runs}
    st.session_state["runs:chosen"] = [i for i in st.session_state.get("runs:chosen", [])
                                       if i in by_id]
    options = [*dict.fromkeys([*table.index, *st.session_state["runs:chosen"]])]
    chosen = st.multiselect("Act on", options, key="runs:chosen",
                            format_func=lambda i: f"{compare.run_label(by_id[i])} "
                                                  f"({by_id[i]['status']})")
    picked = [by_id[i] for i in chosen]
    buttons = st.columns(len(BUTTONS) + 1)
    for column, (action, text) in zip(buttons, BUTTONS.items()):
        fits = sum(r["status"] in ACTIONS[action] for r in picked)
        column.button(f"{text} ({fits})", key=f"runs:{action}", disabled=not fits,
                      on_click=ask_to_delete if action == "delete" else act,
                      args=() if action == "delete" else (action,), help=HELP[action])
    finished = [r["id"] for r in picked if r["status"] == "done"]
    if finished:
        buttons[-1].markdown(f"[Compare these ↗]({'compare?runs=' + ','.join(finished)})",
                             help="Opens the Compare page with these finished runs in a new tab")
    if pending := st.session_state.get("runs:confirm"):
        st.warning(f"Delete {len(pending)} run(s) with their metric history and artifact "
                   "folders? This cannot be undone.")
        yes, no = st.columns([1, 5])
        yes.button("Delete them", key="runs:confirm_delete", type="primary", on_click=act,
                   args=("delete",))
        no.button("Keep them", key="runs:keep", on_click=st.session_state.pop,
                  args=("runs:confirm",))

    for run in picked:
        with st.container(border=True):
            st.markdown(f"**{compare.run_label(run)}** · {run['status']} · `{run['id']}`")
            if run["error"]:
                st.error(compare.first_line(run["error"]))
                with st.expander("Full error text"):
                    st.code(run["error"], language=None)
            st.json({"final metrics": run["metrics"], "spec": run["spec"], "params": run["params"],
                     "train seconds": run["train_seconds"], "environment": run["env"]},
                    expanded=False)

    errors = [r for r in shown if r["status"] in ("failed", "interrupted") and r["error"]
              and r["id"] not in chosen]
    if errors:
        st.subheader("Errors")
        for run in errors[:20]:
            st.error(f"{compare.run_label(run)}: {compare.first_line(run['error'])}")
            with st.expander("Full error text"):
                st.code(run["error"], language=None)
    if any_live and not any(r["status"] in LIVE for r in runs):
        st.rerun()  # the last live run ended: redraw once more and stop polling


body()
