"""GNN page: a graph-blind MLP against GCN, GAT and GraphSAGE on Planetoid citation graphs."""
import numpy as np
import pandas as pd
import streamlit as st

from engine import i18n, plots, registry, ui
from engine.inspect import graphs as inspect_graphs
from engine.plots import graphs as graph_plots

LIMIT = 40  # nodes drawn in the neighbourhood viewer, nearest first
card = registry.card("gnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("val/acc", "train/loss"))
lang, tr = ui.language(), ui.tr

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
found = {r.run["variant"]: r.artifacts for r in restored}


def graph_sections() -> None:
    """The parts that read the citation graph (its labels, splits and edges): the hidden
    maps, the neighbourhood viewer, the cut and GAT's attention."""
    graph = inspect_graphs.load_graph(runs[0]["spec"]["config"]["dataset"])
    true = graph.y.numpy()
    split = inspect_graphs.node_split(graph)

    st.subheader(tr("page.gnn.hidden"))
    st.caption(tr("page.gnn.hidden_caption"))
    maps = [(tr("page.gnn.raw"), next(iter(found.values()))["raw_2d"], None)]
    maps += [(tr("page.gnn.hidden_of", variant=v), a["embedding_2d"], a["predicted"])
             for v, a in found.items()]
    columns = st.columns(2)
    for i, (title, points, predicted) in enumerate(maps):
        columns[i % 2].plotly_chart(graph_plots.embedding_map(
            points.numpy(), true, None if predicted is None else predicted.numpy(), title, lang),
            width="stretch", key=f"gnn:map:{i}")

    st.subheader(tr("page.gnn.node"))
    names = list(found)
    left, middle, right = st.columns(3)
    first = left.selectbox(tr("page.gnn.left"), names, index=0, key="gnn:left")
    second = middle.selectbox(tr("page.gnn.right"), names, index=min(1, len(names) - 1),
                              key="gnn:right")
    a, b = found[first]["predicted"].numpy(), found[second]["predicted"].numpy()
    degree = np.bincount(graph.edge_index[0].numpy(), minlength=graph.num_nodes)
    disagree = np.flatnonzero((a != b) & (split == "test"))
    readable = disagree[(degree[disagree] >= 2) & (degree[disagree] <= 5)]  # small pictures
    start = readable[0] if len(readable) else disagree[0] if len(disagree) else 0
    node = right.number_input(
        tr("page.gnn.node_input"), 0, graph.num_nodes - 1, int(start), key="gnn:node",
        help=tr("page.gnn.node_help", n=len(disagree), first=first, second=second))
    nodes, hops, edges = inspect_graphs.neighbourhood(graph.edge_index, int(node), limit=LIMIT)
    edges = edges.numpy()
    columns = st.columns(2)
    for i, variant in enumerate((first, second)):
        predicted = found[variant]["predicted"].numpy()
        columns[i].plotly_chart(graph_plots.neighbourhood(
            nodes, hops, edges, true[nodes], predicted[nodes],
            [i18n.optional("split", s, lang) for s in split[nodes]],
            tr("page.gnn.variant_node", variant=variant, node=node), lang), width="stretch",
            key=f"gnn:hood:{i}")
    st.caption(tr("page.gnn.hood_caption", node=node, true=true[node],
                  split=i18n.optional("split", split[node], lang),
                  n=len(nodes), limit=LIMIT))

    if st.toggle(tr("page.gnn.cut", node=node), key="gnn:cut"):
        rows = []
        for variant, model in ((r.run["variant"], r.model) for r in restored):
            if variant in (first, second):  # restoring a model reads the graph: inside here
                before = inspect_graphs.predict(model, graph)[node]
                after = inspect_graphs.predict(model, graph, cut=int(node))[node]
                rows.append({"variant": variant, "true class": int(true[node]),
                             "with citations": tr("page.gnn.class_p", c=int(before.argmax()),
                                                  p=f"{float(before.max()):.0%}"),
                             "without": tr("page.gnn.class_p", c=int(after.argmax()),
                                           p=f"{float(after.max()):.0%}")})
        st.dataframe(ui.headers(pd.DataFrame(rows)), hide_index=True)
        st.caption(tr("page.gnn.cut_caption"))

    if "gat" in found:
        st.subheader(tr("page.gnn.gat", node=node))
        stored = found["gat"]["attention"]
        incoming = (stored["dst"] == int(node)).nonzero().flatten()
        senders = stored["src"][incoming].tolist()
        layer1 = stored["layer1"][incoming].numpy()  # (k, heads)
        weights = np.column_stack([layer1, layer1.mean(1), stored["layer2"][incoming].numpy()])
        heads = [tr("page.gnn.head", n=h + 1) for h in range(layer1.shape[1])]
        labels = [tr("page.gnn.sender", who=tr("page.gnn.itself") if s == node else
                     tr("page.gnn.node_n", node=s), c=true[s]) for s in senders]
        st.plotly_chart(graph_plots.attention(
            weights, labels, [*heads, tr("page.gnn.mean"), tr("page.gnn.layer2")],
            tr("page.gnn.attention_title", node=node), lang), width="stretch")
        st.caption(tr("page.gnn.gat_caption"))


if found:
    st.subheader(tr("page.gnn.spread"))
    st.dataframe(ui.headers(pd.DataFrame([{
        "variant": r["variant"], "seeds": r["spec"]["config"]["seeds"],
        "test accuracy": f"{100 * r['metrics']['test/acc']:.1f}% ± "
                         f"{100 * r['metrics']['test/acc_std']:.1f}%",
        "val accuracy": f"{100 * r['metrics']['val/acc']:.1f}% ± "
                        f"{100 * r['metrics']['val/acc_std']:.1f}%",
        "params": r["params"], "ms per epoch": round(r["metrics"]["time/epoch_ms"], 1),
    } for r in runs if r["variant"] in found])), hide_index=True)
    frame = pd.concat([plots.history_frame(ui.history(r), r["variant"]) for r in runs])
    left, right = st.columns(2)
    left.plotly_chart(graph_plots.seed_bands(frame, lang=lang), width="stretch")
    right.plotly_chart(graph_plots.seed_points(
        {v: a["per_seed"]["test_acc"] for v, a in found.items()}, lang), width="stretch")

    with ui.needs_data():  # the metrics and curves above need no graph; these do
        graph_sections()

ui.source(card)
