"""Inspecting finished GNN runs: the restored model, the citation graph it was trained
on, its predictions with and without one node's citations, and that node's neighbourhood."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from engine.algorithms import gnn
from engine.data.graphs import GraphData


def load_graph(dataset: str) -> GraphData:
    """The Planetoid graph a run trained on (loaded once per process)."""
    graph, _ = gnn.graph_ops(dataset)
    return graph


def node_split(graph: GraphData) -> np.ndarray:
    """(N,) "train" | "val" | "test" | "unlabelled" for every node."""
    split = np.full(graph.num_nodes, "unlabelled", dtype=object)
    for name in ("train", "val", "test"):
        split[getattr(graph, f"{name}_mask").numpy()] = name
    return split


def restore(run: dict, artifacts: dict) -> nn.Module:
    """A finished run's model, rebuilt for its graph from the stored weights, in eval mode."""
    spec = run["spec"]
    graph = load_graph(spec["config"]["dataset"])
    model = gnn.build_model(spec["variant"], spec["config"], graph.x.shape[1], graph.num_classes)
    model.load_state_dict(artifacts["state_dict"])
    return model.eval()


@torch.inference_mode()
def predict(model: nn.Module, graph: GraphData, cut: int | None = None) -> torch.Tensor:
    """(N, K) class probabilities; with `cut`, that node's citations are removed first, so
    the page can show what its neighbours contributed."""
    if cut is not None:
        keep = (graph.edge_index != cut).all(0)
        graph = dataclasses.replace(graph, edge_index=graph.edge_index[:, keep])
    model.eval()
    logits, _ = model(gnn.prepare(graph))
    return logits.softmax(1)


def neighbourhood(edge_index: torch.Tensor, node: int, limit: int = 80):
    """The nodes within two hops of `node`, nearest first (at most `limit`), their hop
    distances, and the (2, e) edges among them as positions in that node list."""
    dst, src = edge_index
    hop, frontier = {node: 0}, [node]
    for distance in (1, 2):
        reached = torch.unique(src[torch.isin(dst, torch.tensor(frontier))]).tolist()
        frontier = [v for v in reached if v not in hop][:max(0, limit - len(hop))]
        hop.update((v, distance) for v in frontier)
    nodes = list(hop)  # dicts keep insertion order: the node, then 1 hop, then 2 hops
    where = torch.full((max(int(edge_index.max()), node) + 1,), -1)  # node -> position
    where[nodes] = torch.arange(len(nodes))
    keep = (where[dst] >= 0) & (where[src] >= 0)
    return nodes, [hop[v] for v in nodes], torch.stack([where[dst[keep]], where[src[keep]]])
