"""Runs: every stored run with its status, times, spec and final metrics; filter and sort;
delete (artifacts too), re-run, cancel queued or running ones, re-queue failed or
interrupted ones."""
import streamlit as st

from engine import compare, i18n, ui
from engine.compare import ACTIONS, LIVE

KEEP = "session"  # filters keep their value across page changes

ui.through_navigation()
lang, tr = ui.language(), ui.tr
BUTTONS = {"delete": tr("runs.delete"), "rerun": tr("runs.rerun"),
           "requeue": tr("runs.requeue"), "cancel": tr("ui.cancel"),
           "interrupt": tr("runs.interrupt")}
HELP = {"delete": tr("runs.delete_help"), "rerun": tr("runs.rerun_help"),
        "requeue": tr("runs.requeue_help"), "cancel": tr("runs.cancel_help"),
        "interrupt": tr("runs.interrupt_help")}
SORT_NAMES = {"newest first": tr("runs.sort_newest"), "oldest first": tr("runs.sort_oldest"),
              "algorithm": tr("col.algorithm"), "status": tr("col.status"),
              "longest training": tr("runs.sort_longest")}  # compare.SORTS -> shown name
st.title(tr("nav.runs"))
st.markdown(tr("runs.intro"))
ui.store().recover_interrupted()  # a worker that died leaves its runs interrupted
any_live = bool(ui.store().list_runs(status="running") or ui.store().list_runs(status="queued"))


def act(action: str) -> None:
    """Button callback: runs before the page redraws, so the table shows the outcome.
    Delete acts on the runs the user confirmed, the others on the chosen runs."""
    ids = st.session_state.pop("runs:confirm") if action == "delete" else \
        st.session_state["runs:chosen"]
    chosen = ui.store().get_many(ids)
    st.session_state["runs:message"] = ui.apply_action(ui.manager(), action,
                                                       list(chosen.values()), lang)
    if action == "delete":
        st.session_state["runs:chosen"] = [i for i in st.session_state["runs:chosen"]
                                           if ui.store().get(i)]


def ask_to_delete() -> None:
    st.session_state.pop("runs:message", None)  # a new action: the last one's outcome goes
    chosen = ui.store().get_many(st.session_state["runs:chosen"])
    shipped = [i for i, run in chosen.items() if run.get("shipped") is not None]
    st.session_state["runs:confirm"] = [i for i, run in chosen.items()  # only what it deletes
                                        if run["status"] in ACTIONS["delete"] and i not in shipped]
    if shipped:  # said now, not after a confirmation that promised to delete them
        st.session_state["runs:message"] = ["", tr("runs.shipped_left", n=len(shipped))]


@st.fragment(run_every=2.0 if any_live else None)
def body() -> None:
    runs = ui.store().list_runs()
    if not runs:
        st.info(tr("runs.empty"))
        return
    if message := st.session_state.get("runs:message"):  # kept until the next action
        if message[0]:
            st.success(message[0])
        for line in message[1:]:
            st.warning(line)

    columns = st.columns(4)
    filters = {}
    for column, name in zip(columns, ("algorithm", "status", "preset")):
        values, key = sorted({str(r[name]) for r in runs}), f"runs:filter:{name}"
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in values]
        filters[name] = column.multiselect(
            tr(f"col.{name}"), values, key=key, persist_state=KEEP,
            placeholder=tr("ui.choose_options"),
            format_func={"status": ui.status_name,
                         "preset": lambda p: i18n.preset_name(p, lang)}.get(name, str))
    sort = columns[3].selectbox(tr("runs.sort"), list(compare.SORTS), key="runs:sort",
                                persist_state=KEEP, format_func=SORT_NAMES.__getitem__)
    shown = compare.filter_runs(runs, algorithms=filters["algorithm"],
                                statuses=filters["status"], presets=filters["preset"])
    table = compare.runs_table(shown, sort)
    names = {c: i18n.optional("col", c, lang) for c in table.columns}
    words = table.assign(status=table["status"].map(ui.status_name),  # values in words too
                         preset=[i18n.preset_name(p, lang) for p in table["preset"]])
    st.dataframe(words, column_config={
        **names,
        "progress": st.column_config.ProgressColumn(names["progress"], min_value=0.0,
                                                    max_value=1.0),
        **{c: st.column_config.DatetimeColumn(names[c], format="YYYY-MM-DD HH:mm:ss")
           for c in ("created", "started", "finished")},
        "train seconds": st.column_config.NumberColumn(names["train seconds"], format="%.1f")})
    st.caption(tr("runs.count", shown=len(shown), total=len(runs))
               + (tr("runs.refreshing") if any_live else ""))

    by_id = {r["id"]: r for r in runs}
    st.session_state["runs:chosen"] = [i for i in st.session_state.get("runs:chosen", [])
                                       if i in by_id]
    options = [*dict.fromkeys([*table.index, *st.session_state["runs:chosen"]])]
    chosen = st.multiselect(tr("runs.act_on"), options, key="runs:chosen",
                            placeholder=tr("ui.choose_options"),
                            format_func=lambda i: f"{compare.run_label(by_id[i], lang)} "
                                                  f"({ui.status_name(by_id[i]['status'])})")
    picked = [by_id[i] for i in chosen]
    buttons = st.columns(len(BUTTONS) + 1)
    for column, (action, text) in zip(buttons, BUTTONS.items()):
        fits = sum(r["status"] in ACTIONS[action] for r in picked)
        column.button(f"{text} ({fits})", key=f"runs:{action}", disabled=not fits,
                      on_click=ask_to_delete if action == "delete" else act,
                      args=() if action == "delete" else (action,), help=HELP[action])
    finished = [r["id"] for r in picked if r["status"] == "done"]
    if finished:
        link = f"compare?runs={','.join(finished)}&lang={lang}"
        buttons[-1].markdown(f"[{tr('runs.compare_these')}]({link})",
                             help=tr("runs.compare_these_help"))
    if pending := st.session_state.get("runs:confirm"):
        st.warning(tr("runs.confirm_delete", n=len(pending)))
        yes, no = st.columns([1, 5])
        yes.button(tr("runs.delete_them"), key="runs:confirm_delete", type="primary",
                   on_click=act, args=("delete",))
        no.button(tr("runs.keep_them"), key="runs:keep", on_click=st.session_state.pop,
                  args=("runs:confirm",))

    for run in picked:
        with st.container(border=True):
            st.markdown(f"**{compare.run_label(run, lang)}** · {ui.status_name(run['status'])}"
                        f" · `{run['id']}`")
            if run["error"]:
                st.error(compare.first_line(run["error"]))
                with st.expander(tr("runs.full_error")):
                    st.code(run["error"], language=None)
            st.json({tr("runs.json_metrics"): run["metrics"], tr("runs.json_spec"): run["spec"],
                     tr("col.params"): run["params"],
                     tr("col.train seconds"): run["train_seconds"],
                     tr("runs.json_env"): run["env"]}, expanded=False)

    errors = [r for r in shown if r["status"] in ("failed", "interrupted") and r["error"]
              and r["id"] not in chosen]
    if errors:
        st.subheader(tr("runs.errors"))
        for run in errors[:20]:
            st.error(f"{compare.run_label(run, lang)}: {compare.first_line(run['error'])}")
            with st.expander(tr("runs.full_error")):
                st.code(run["error"], language=None)
    if any_live and not any(r["status"] in LIVE for r in runs):
        st.rerun()  # the last live run ended: redraw once more and stop polling


body()
