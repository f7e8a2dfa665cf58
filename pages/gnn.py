"""GNN page: a graph-blind MLP against GCN, GAT and GraphSAGE on Planetoid citation graphs."""
import numpy as np
import pandas as pd
import streamlit as st

from engine import plots, registry, ui
from engine.inspect import graphs as inspect_graphs
from engine.plots import graphs as graph_plots

LIMIT = 40  # nodes drawn in the neighbourhood viewer, nearest first
card = registry.card("gnn")
ui.header(card)
specs = ui.config_form(card)
runs = ui.run_panel(card, specs)
ui.comparison(card, runs, curve_metrics=("val/acc", "train/loss"))

restored = ui.restored_all(runs)  # damaged runs are named, requeued and left out
found = {r.run["variant"]: r.artifacts for r in restored}
models = {r.run["variant"]: r.model for r in restored}

if found:
    st.subheader("Spread over seeds")
    st.dataframe(pd.DataFrame([{
        "variant": r["variant"], "seeds": r["spec"]["config"]["seeds"],
        "test accuracy": f"{100 * r['metrics']['test/acc']:.1f}% ± "
                         f"{100 * r['metrics']['test/acc_std']:.1f}%",
        "val accuracy": f"{100 * r['metrics']['val/acc']:.1f}% ± "
                        f"{100 * r['metrics']['val/acc_std']:.1f}%",
        "params": r["params"], "ms per epoch": round(r["metrics"]["time/epoch_ms"], 1),
    } for r in runs if r["variant"] in found]), hide_index=True)
    frame = pd.concat([plots.history_frame(ui.history(r), r["variant"]) for r in runs])
    left, right = st.columns(2)
    left.plotly_chart(graph_plots.seed_bands(frame), width="stretch")
    right.plotly_chart(graph_plots.seed_points(
        {v: a["per_seed"]["test_acc"] for v, a in found.items()}), width="stretch")

    graph = inspect_graphs.load_graph(runs[0]["spec"]["config"]["dataset"])
    true = graph.y.numpy()
    split = inspect_graphs.node_split(graph)

    st.subheader("What the hidden layer learned")
    st.caption("Each dot is a paper, coloured by its true class; crosses are papers the model "
               "gets wrong. The maps are 2-D drawings (t-SNE or PCA, as set) of the first "
               "seed's hidden layer at its best epoch, next to the same drawing of the raw "
               "word features. Hover for the predicted class.")
    maps = [("raw word features", next(iter(found.values()))["raw_2d"], None)]
    maps += [(f"{v} hidden layer", a["embedding_2d"], a["predicted"]) for v, a in found.items()]
    columns = st.columns(2)
    for i, (title, points, predicted) in enumerate(maps):
        columns[i % 2].plotly_chart(graph_plots.embedding_map(
            points.numpy(), true, None if predicted is None else predicted.numpy(), title),
            width="stretch", key=f"gnn:map:{title}")

    st.subheader("A node and its neighbourhood")
    names = list(found)
    left, middle, right = st.columns(3)
    first = left.selectbox("Left", names, index=0, key="gnn:left")
    second = middle.selectbox("Right", names, index=min(1, len(names) - 1), key="gnn:right")
    a, b = found[first]["predicted"].numpy(), found[second]["predicted"].numpy()
    degree = np.bincount(graph.edge_index[0].numpy(), minlength=graph.num_nodes)
    disagree = np.flatnonzero((a != b) & (split == "test"))
    readable = disagree[(degree[disagree] >= 2) & (degree[disagree] <= 5)]  # small pictures
    start = readable[0] if len(readable) else disagree[0] if len(disagree) else 0
    node = right.number_input(
        "Node", 0, graph.num_nodes - 1, int(start), key="gnn:node",
        help=f"{len(disagree)} test nodes get different classes from {first} and {second}; "
             "the default is one of them with 2 to 5 citations")
    nodes, hops, edges = inspect_graphs.neighbourhood(graph.edge_index, int(node), limit=LIMIT)
    edges = edges.numpy()
    columns = st.columns(2)
    for i, variant in enumerate((first, second)):
        predicted = found[variant]["predicted"].numpy()
        columns[i].plotly_chart(graph_plots.neighbourhood(
            nodes, hops, edges, true[nodes], predicted[nodes], list(split[nodes]),
            f"{variant}, node {node}"), width="stretch", key=f"gnn:hood:{i}")
    st.caption(f"Node {node} ({split[node]}, true class {true[node]}) and everything within "
               f"two citations ({len(nodes)} nodes shown, at most {LIMIT}). Fill = predicted class, "
               "ring = true class, cross = wrong. A GNN's prediction for the middle node can "
               "only use these nodes' words; the MLP uses the middle node's words alone.")

    if st.toggle(f"Cut node {node}'s citations and ask the models again", key="gnn:cut"):
        rows = []
        for variant, model in models.items():
            if variant in (first, second):
                before = inspect_graphs.predict(model, graph)[node]
                after = inspect_graphs.predict(model, graph, cut=int(node))[node]
                rows.append({"variant": variant, "true class": int(true[node]),
                             "with citations": f"class {int(before.argmax())} "
                                               f"({float(before.max()):.0%})",
                             "without": f"class {int(after.argmax())} ({float(after.max()):.0%})"})
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption("The stored weights of each model are reloaded and run on the graph "
                   "without this node's edges: the MLP cannot change its answer, a GNN then "
                   "has only the node's own words to go on.")

    if "gat" in found:
        st.subheader(f"GAT: how node {node} weighs its incoming edges")
        stored = found["gat"]["attention"]
        incoming = (stored["dst"] == int(node)).nonzero().flatten()
        senders = stored["src"][incoming].tolist()
        layer1 = stored["layer1"][incoming].numpy()  # (k, heads)
        weights = np.column_stack([layer1, layer1.mean(1), stored["layer2"][incoming].numpy()])
        heads = [f"head {h + 1}" for h in range(layer1.shape[1])]
        labels = [f"{'itself' if s == node else f'node {s}'} (class {true[s]})" for s in senders]
        st.plotly_chart(graph_plots.attention(
            weights, labels, [*heads, "mean", "layer 2"],
            f"Attention on edges into node {node} (each column sums to 1)"), width="stretch")
        st.caption("A GCN would give every incoming edge a fixed weight set by the degrees; the "
                   "GAT learns these weights from the two nodes' features. Uniform columns "
                   "mean the head behaves like a plain average.")

ui.source(card)
