"""GNN engine: known values of the graph operators, the sparse product and its gradient,
the attention softmax, the Planetoid loader (mirror untouched, clear DataMissing) and the
multi-seed summary of a run."""
from __future__ import annotations

import math

import pytest
import torch

from engine import registry, settings
from engine.algorithms import gnn
from engine.core import PrintReport
from engine.data import DataMissing
from engine.inspect import graphs as inspect_graphs

PATH_GRAPH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # 0 - 1 - 2, both directions


def dense(index: torch.Tensor, values: torch.Tensor, n: int) -> torch.Tensor:
    return torch.sparse_coo_tensor(index, values, (n, n), check_invariants=True).to_dense()


def test_gcn_adjacency_on_a_three_node_path():
    # A + I has degrees 2, 3, 2, so entry (i, j) is 1 / sqrt(d_i d_j).
    expected = torch.tensor([[1 / 2, 1 / math.sqrt(6), 0],
                             [1 / math.sqrt(6), 1 / 3, 1 / math.sqrt(6)],
                             [0, 1 / math.sqrt(6), 1 / 2]])
    assert torch.allclose(dense(*gnn.gcn_adjacency(PATH_GRAPH, 3), 3), expected)
    # A stray self-loop and a duplicated edge change nothing.
    messy = torch.cat([PATH_GRAPH, torch.tensor([[1, 0], [1, 1]])], 1)
    assert torch.allclose(dense(*gnn.gcn_adjacency(messy, 3), 3), expected)


def test_mean_adjacency_averages_the_neighbours():
    expected = torch.tensor([[0, 1, 0], [0.5, 0, 0.5], [0, 1, 0]])
    assert torch.allclose(dense(*gnn.mean_adjacency(PATH_GRAPH, 3), 3), expected)


def test_sparse_product_and_its_gradient_match_dense():
    torch.manual_seed(0)
    a = torch.rand(5, 7) * (torch.rand(5, 7) < 0.4)  # not square, not symmetric
    s = gnn.Sparse.from_coo(a.to_sparse().indices(), a.to_sparse().values(), (5, 7))
    b = torch.randn(7, 3, requires_grad=True)
    weights = torch.randn(5, 3)
    (s.matmul(b) * weights).sum().backward()
    assert torch.allclose(s.matmul(b), a @ b, atol=1e-6)
    assert torch.allclose(b.grad, a.T @ weights, atol=1e-6)


def test_sparse_dropout_drops_the_same_entries_forward_and_backward():
    torch.manual_seed(1)
    a = torch.rand(6, 4) + 0.1  # every entry stored
    s = gnn.Sparse.from_coo(a.to_sparse().indices(), a.to_sparse().values(), (6, 4))
    eye = torch.eye(4, requires_grad=True)
    weights = torch.randn(6, 4)
    kept = s.matmul(eye, drop=0.5)  # (6, 4): the matrix with dropped entries, rescaled
    (kept * weights).sum().backward()
    assert ((kept == 0) | torch.isclose(kept, 2 * a)).all()
    assert 0 < int((kept == 0).sum()) < 24
    assert torch.allclose(eye.grad, kept.detach().T @ weights, atol=1e-6)


def test_gat_attention_is_a_softmax_over_incoming_edges():
    index, _ = gnn.gcn_adjacency(PATH_GRAPH, 3)  # edges plus self-loops
    ops = gnn.GraphOps(None, None, None, index[0], index[1], 3, 2)
    torch.manual_seed(2)
    z = torch.randn(3, 4, 5)  # (N, heads, C)
    alpha = gnn.attention(z, torch.randn(4, 5), torch.randn(4, 5), ops)  # (E + N, heads)
    totals = torch.zeros(3, 4).index_add_(0, ops.dst, alpha)
    assert torch.allclose(totals, torch.ones(3, 4))
    # With zero attention vectors every score is equal: the layer is a plain mean.
    flat = gnn.attention(z, torch.zeros(4, 5), torch.zeros(4, 5), ops)
    out = gnn.aggregate(z, flat, ops)
    assert torch.allclose(out[1], z.mean(0), atol=1e-6)  # node 1 hears 0, 1 and 2
    assert torch.allclose(out[0], (z[0] + z[1]) / 2, atol=1e-6)


@pytest.mark.slow
def test_cora_loads_from_the_mirror_without_writing_into_it(store_dir):
    mirror = settings.data_mirrors()[0] / "Cora"
    before = sorted(p.name for p in mirror.rglob("*"))
    from engine.data.graphs import load_planetoid

    load_planetoid.cache_clear()
    graph = load_planetoid("cora")
    assert (graph.num_nodes, graph.num_classes, graph.edge_index.shape[1]) == (2708, 7, 10556)
    assert graph.train_mask.sum() == 140 and graph.val_mask.sum() == 500
    assert graph.test_mask.sum() == 1000
    assert sorted(p.name for p in mirror.rglob("*")) == before
    assert (settings.data_dir() / "Cora" / "processed").is_dir()


def test_missing_dataset_gives_the_data_message(store_dir, monkeypatch):
    from torch_geometric.datasets import Planetoid

    from engine.data.graphs import load_planetoid

    monkeypatch.setattr(Planetoid, "url", "http://127.0.0.1:9/nothing-here")  # never reachable
    load_planetoid.cache_clear()
    with pytest.raises(DataMissing, match=r"^PubMed is not available\. Looked in: .*PubMed/raw"):
        load_planetoid("pubmed")
    assert not (settings.data_dir() / "PubMed").exists()  # no half download left behind
    load_planetoid.cache_clear()


@pytest.mark.slow
def test_a_run_reports_the_mean_and_spread_of_its_seeds(store_dir):
    spec = registry.build_spec("gnn", "gcn", "quick", {"seeds": 3, "epochs": 15}, seed=5)
    report = PrintReport(quiet=True)
    result = gnn.run(spec, report)
    per_seed = result.artifacts["per_seed"]
    assert per_seed["seed"] == [5, 6, 7]
    accs = torch.tensor(per_seed["test_acc"], dtype=torch.float64)
    assert result.metrics["test/acc"] == pytest.approx(float(accs.mean()))
    assert result.metrics["test/acc_std"] == pytest.approx(float(accs.std()))
    assert len(set(per_seed["test_acc"])) > 1  # the seeds really differ
    epochs = [step for step, m in report.history if "val/acc_std" in m]
    assert epochs == list(range(1, 16))
    n = 2708
    assert result.artifacts["embedding_2d"].shape == (n, 2)
    assert result.artifacts["predicted"].shape == (n,)


@pytest.mark.slow
def test_gat_keeps_its_attention_for_the_page(store_dir):
    spec = registry.build_spec("gnn", "gat", "quick", {"seeds": 1, "epochs": 3})
    result = gnn.run(spec, PrintReport(quiet=True))
    attention = result.artifacts["attention"]
    edges = 10556 + 2708  # both directions of every citation, plus a self-loop per node
    assert attention["layer1"].shape == (edges, spec.config["heads"])
    assert attention["layer2"].shape == (edges, 1)
    totals = torch.zeros(2708, 1).index_add_(0, attention["dst"], attention["layer2"])
    assert torch.allclose(totals, torch.ones(2708, 1), atol=1e-5)
    # The stored weights rebuild the model for interactive use.
    model = gnn.build_model("gat", spec.config, 1433, 7)
    model.load_state_dict(result.artifacts["state_dict"])


@pytest.mark.slow
def test_stored_weights_predict_again_and_cutting_edges_only_moves_the_gnn(store_dir):
    probs = {}
    for variant in ("mlp", "gcn"):
        spec = registry.build_spec("gnn", variant, "quick", {"seeds": 1, "epochs": 5})
        result = gnn.run(spec, PrintReport(quiet=True))
        graph = inspect_graphs.load_graph("cora")
        run = {"algorithm": "gnn", "spec": {"variant": variant, "config": spec.config}}
        model = inspect_graphs.restore(run, result.artifacts)
        again = inspect_graphs.predict(model, graph)
        assert torch.equal(again.argmax(1), result.artifacts["predicted"])
        probs[variant] = (again, inspect_graphs.predict(model, graph, cut=0))
    assert torch.allclose(*probs["mlp"])  # no edges used: nothing changes
    assert not torch.allclose(probs["gcn"][0][0], probs["gcn"][1][0])
