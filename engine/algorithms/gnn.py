"""GNN: node classification on Planetoid citation graphs (Cora, CiteSeer, PubMed).

Four variants share one full-batch loop, one public split and one budget:
  mlp   - two layers on the node features alone (no edges): what the graph adds;
  gcn   - graph convolution (Kipf & Welling): average over neighbours, degree-normalised;
  gat   - graph attention (Velickovic et al.): learned weights over neighbours, several heads;
  sage  - GraphSAGE (Hamilton et al.), mean aggregator: own features + neighbour mean.

A run trains `seeds` models side by side (seeds spec.seed, spec.seed + 1, ...), reports
the mean and spread of their validation curves every epoch, and tests each one at its
best validation epoch. The features are ~1% non-zero, so they stay sparse (CSR) and
every product with a constant sparse matrix uses a stored transpose for its gradient.
"""
from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from engine.algorithms.common import count_params
from engine.core import COSTS_MORE, Card, Report, RunResult, setting
from engine.data.graphs import DATASETS, GraphData, load_planetoid


@dataclass(frozen=True)
class Config:
    dataset: str = setting("cora", "citation graph (public Planetoid split)",
                           choices=tuple(DATASETS))
    seeds: int = setting(5, "models trained per run, from seed, seed+1, ...; mean and std",
                         lo=1, hi=20, cost=COSTS_MORE)
    epochs: int = setting(200, "full-graph training steps per model", lo=1, hi=2000, cost=COSTS_MORE)
    hidden: int = setting(64, "hidden units (GAT: all heads together)", lo=4, hi=512, cost=COSTS_MORE)
    heads: int = setting(8, "GAT attention heads in the first layer", lo=1, hi=16, cost=COSTS_MORE)
    dropout: float = setting(0.6, "dropout on features, hidden units and attention weights",
                             lo=0.0, hi=0.95)
    lr: float = setting(0.01, "Adam learning rate", lo=1e-4, hi=1.0)
    weight_decay: float = setting(5e-4, "Adam L2 penalty on all weights", lo=0.0, hi=0.1)
    projection: str = setting("pca", "how the hidden layer is drawn in 2-D (t-SNE separates "
                              "clusters better but adds 10-20 s per variant)",
                              choices=("pca", "tsne"), cost=COSTS_MORE)


# ---- constant sparse operators -----------------------------------------------------------
class SparseMatmul(torch.autograd.Function):
    """a @ b for a constant sparse CSR `a`; the gradient a.T @ grad uses the stored CSR
    transpose `a_t` (torch's own backward re-transposes `a` every step, several times slower)."""

    @staticmethod
    def forward(ctx, a, a_t, b):
        ctx.a_t = a_t
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        return None, None, ctx.a_t @ grad


@dataclass(frozen=True)
class Sparse:
    """A constant (R, C) matrix as CSR, with its (C, R) transpose as CSR too; the
    transpose's values are values[perm], so dropped-out entries drop in both."""

    crow: torch.Tensor
    col: torch.Tensor
    values: torch.Tensor
    crow_t: torch.Tensor
    col_t: torch.Tensor
    perm: torch.Tensor
    shape: tuple[int, int]

    @classmethod
    def from_coo(cls, index: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]):
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore")
            coo = torch.sparse_coo_tensor(index, values, shape, check_invariants=True)
            coo = coo.coalesce()  # row-major order, duplicates summed
            csr = coo.to_sparse_csr()
            rows, cols = coo.indices()
            where = torch.arange(len(rows))  # each entry's position in csr.values()
            t = torch.sparse_coo_tensor(torch.stack([cols, rows]), where, shape[::-1])
            t = t.coalesce().to_sparse_csr()
        return cls(csr.crow_indices(), csr.col_indices(), csr.values(), t.crow_indices(),
                   t.col_indices(), t.values(), shape)

    def matmul(self, b: torch.Tensor, drop: float = 0.0) -> torch.Tensor:
        """(R, C) @ (C, H) -> (R, H); with drop > 0 each stored entry is dropped (dropout)."""
        values = dropout(self.values, drop, drop > 0)
        a = torch.sparse_csr_tensor(self.crow, self.col, values, self.shape,
                                    check_invariants=False)  # checked once in from_coo
        a_t = torch.sparse_csr_tensor(self.crow_t, self.col_t, values[self.perm],
                                      self.shape[::-1], check_invariants=False)
        return SparseMatmul.apply(a, a_t, b.contiguous())


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """F.dropout with a uniform draw instead of bernoulli_, which is several times slower on CPU."""
    if not training or p == 0:
        return x
    return x * (torch.rand_like(x) >= p) / (1 - p)


def clean_edges(edge_index: torch.Tensor) -> torch.Tensor:
    """(2, E) -> (2, E') without self-loops or duplicates; row 0 receives from row 1."""
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return torch.unique(edge_index, dim=1)


def gcn_adjacency(edge_index: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The GCN operator D^-1/2 (A + I) D^-1/2, D the degrees of A + I, as COO (index, values):
    entry (i, j) = 1 / sqrt(d_i d_j) for each edge and each self-loop."""
    loops = torch.arange(n).repeat(2, 1)
    index = torch.cat([clean_edges(edge_index), loops], 1)  # (2, E + N)
    degree = torch.zeros(n).index_add_(0, index[0], torch.ones(index.shape[1]))
    scale = degree.rsqrt()
    return index, scale[index[0]] * scale[index[1]]


def mean_adjacency(edge_index: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """D^-1 A: entry (i, j) = 1 / deg(i), so a product averages each node's neighbours."""
    index = clean_edges(edge_index)
    degree = torch.zeros(n).index_add_(0, index[0], torch.ones(index.shape[1]))
    return index, 1.0 / degree[index[0]]


@dataclass(frozen=True)
class GraphOps:
    """What the models read, built once per dataset."""

    x: Sparse  # (N, F) features, each row scaled to sum 1
    gcn: Sparse  # (N, N) D^-1/2 (A + I) D^-1/2
    mean: Sparse  # (N, N) D^-1 A
    dst: torch.Tensor  # (E + N,) receiving node of each edge, self-loops included (GAT)
    src: torch.Tensor  # (E + N,) sending node
    num_nodes: int
    num_features: int


def prepare(graph: GraphData) -> GraphOps:
    n, f = graph.x.shape
    rows = graph.x.sum(1, keepdim=True).clamp(min=1e-12)
    x = (graph.x / rows).to_sparse()  # the usual row normalisation of bag-of-words features
    gcn_index, gcn_values = gcn_adjacency(graph.edge_index, n)
    mean_index, mean_values = mean_adjacency(graph.edge_index, n)
    return GraphOps(Sparse.from_coo(x.indices(), x.values(), (n, f)),
                    Sparse.from_coo(gcn_index, gcn_values, (n, n)),
                    Sparse.from_coo(mean_index, mean_values, (n, n)),
                    gcn_index[0], gcn_index[1], n, f)


@functools.lru_cache(maxsize=3)
def graph_ops(dataset: str) -> tuple[GraphData, GraphOps]:
    graph = load_planetoid(dataset)
    return graph, prepare(graph)


# ---- the four models: forward(g) -> (logits (N, K), hidden (N, H)) ----------------------
def glorot_linear(n_in: int, n_out: int, bias: bool = True) -> nn.Linear:
    layer = nn.Linear(n_in, n_out, bias=bias)
    nn.init.xavier_uniform_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class MLP(nn.Module):
    def __init__(self, f: int, hidden: int, k: int, p: float):
        super().__init__()
        self.lin1, self.lin2, self.p = glorot_linear(f, hidden), glorot_linear(hidden, k), p

    def forward(self, g: GraphOps):
        drop = self.p if self.training else 0.0
        h = F.relu(g.x.matmul(self.lin1.weight.t(), drop) + self.lin1.bias)  # (N, H)
        return self.lin2(dropout(h, self.p, self.training)), h


class GCN(nn.Module):
    def __init__(self, f: int, hidden: int, k: int, p: float):
        super().__init__()
        self.lin1, self.lin2 = glorot_linear(f, hidden, bias=False), glorot_linear(hidden, k, False)
        self.bias1, self.bias2 = nn.Parameter(torch.zeros(hidden)), nn.Parameter(torch.zeros(k))
        self.p = p

    def forward(self, g: GraphOps):
        drop = self.p if self.training else 0.0
        xw = g.x.matmul(self.lin1.weight.t(), drop)  # (N, H): transform first, it is narrower
        h = F.relu(g.gcn.matmul(xw) + self.bias1)  # (N, H): degree-weighted neighbour sum
        hw = self.lin2(dropout(h, self.p, self.training))  # (N, K)
        return g.gcn.matmul(hw) + self.bias2, h


class SAGE(nn.Module):
    def __init__(self, f: int, hidden: int, k: int, p: float):
        super().__init__()
        # One product gives both halves: [own features | features to be averaged].
        self.lin1, self.lin2 = glorot_linear(f, 2 * hidden), glorot_linear(hidden, 2 * k)
        self.hidden, self.k, self.p = hidden, k, p

    def forward(self, g: GraphOps):
        drop = self.p if self.training else 0.0
        both = g.x.matmul(self.lin1.weight.t(), drop) + self.lin1.bias  # (N, 2H)
        h = F.relu(both[:, :self.hidden] + g.mean.matmul(both[:, self.hidden:]))  # (N, H)
        both = self.lin2(dropout(h, self.p, self.training))  # (N, 2K)
        return both[:, :self.k] + g.mean.matmul(both[:, self.k:]), h


def attention(z: torch.Tensor, a_src: torch.Tensor, a_dst: torch.Tensor, g: GraphOps):
    """z (N, heads, C) -> (E + N, heads) weights: a softmax over each node's incoming edges
    of LeakyReLU(a_src . z_src + a_dst . z_dst)."""
    score = F.leaky_relu((z * a_src).sum(-1)[g.src] + (z * a_dst).sum(-1)[g.dst], 0.2)
    index = g.dst[:, None].expand_as(score)
    top = torch.full((g.num_nodes, z.shape[1]), -math.inf).scatter_reduce(
        0, index, score.detach(), "amax")  # (N, heads): per-node max keeps exp() in range
    weight = (score - top[g.dst]).exp()
    total = torch.zeros_like(top).index_add_(0, g.dst, weight)  # (N, heads)
    return weight / total[g.dst]


def aggregate(z: torch.Tensor, alpha: torch.Tensor, g: GraphOps) -> torch.Tensor:
    """Sum of alpha-weighted sender features into each receiver: (N, heads, C)."""
    return torch.zeros_like(z).index_add_(0, g.dst, alpha[..., None] * z[g.src])


class GAT(nn.Module):
    def __init__(self, f: int, hidden: int, k: int, p: float, heads: int):
        super().__init__()
        self.heads, self.per_head, self.p = heads, max(1, hidden // heads), p
        self.lin1 = glorot_linear(f, heads * self.per_head, bias=False)
        self.lin2 = glorot_linear(heads * self.per_head, k, bias=False)
        self.att1 = nn.Parameter(torch.empty(2, heads, self.per_head))  # (src/dst, heads, C)
        self.att2 = nn.Parameter(torch.empty(2, 1, k))  # one output head
        nn.init.xavier_uniform_(self.att1)
        nn.init.xavier_uniform_(self.att2)
        self.bias1 = nn.Parameter(torch.zeros(heads * self.per_head))
        self.bias2 = nn.Parameter(torch.zeros(k))
        self.attention: list[torch.Tensor] = []  # per layer (E + N, heads), last forward pass

    def forward(self, g: GraphOps):
        n, drop = g.num_nodes, self.p if self.training else 0.0
        z = g.x.matmul(self.lin1.weight.t(), drop).view(n, self.heads, self.per_head)
        alpha1 = attention(z, self.att1[0], self.att1[1], g)  # (E + N, heads)
        h = aggregate(z, dropout(alpha1, self.p, self.training), g)  # (N, heads, C)
        h = F.elu(h.reshape(n, -1) + self.bias1)  # (N, heads * C): heads side by side
        z = self.lin2(dropout(h, self.p, self.training)).view(n, 1, -1)  # (N, 1, K)
        alpha2 = attention(z, self.att2[0], self.att2[1], g)  # (E + N, 1)
        out = aggregate(z, dropout(alpha2, self.p, self.training), g)  # (N, 1, K)
        self.attention = [alpha1.detach(), alpha2.detach()]
        return out[:, 0] + self.bias2, h


def build_model(variant: str, config: dict, num_features: int, num_classes: int) -> nn.Module:
    hidden, p = config["hidden"], config["dropout"]
    if variant == "gat":
        return GAT(num_features, hidden, num_classes, p, config["heads"])
    model_cls = {"mlp": MLP, "gcn": GCN, "sage": SAGE}[variant]
    return model_cls(num_features, hidden, num_classes, p)


# ---- training ---------------------------------------------------------------------------
@torch.inference_mode()
def evaluate(model: nn.Module, g: GraphOps, graph: GraphData) -> dict[str, float]:
    """Loss and accuracy on the train, val and test nodes from one eval-mode forward pass."""
    model.eval()
    logits, _ = model(g)
    out = {}
    for split in ("train", "val", "test"):
        mask = getattr(graph, f"{split}_mask")
        out[f"{split}/loss"] = float(F.cross_entropy(logits[mask], graph.y[mask]))
        out[f"{split}/acc"] = float((logits[mask].argmax(1) == graph.y[mask]).float().mean())
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    t = torch.tensor(values, dtype=torch.float64)
    return float(t.mean()), float(t.std()) if len(values) > 1 else 0.0


def project_2d(matrix: torch.Tensor, method: str, seed: int = 0) -> torch.Tensor:
    """(N, D) -> (N, 2) for plotting: PCA, or t-SNE (after PCA to 50 dims if D is larger)."""
    x = matrix.to_dense().double() if matrix.is_sparse else matrix.double()
    x = x - x.mean(0)
    if method == "pca" or x.shape[1] > 50:
        u, s, _ = torch.pca_lowrank(x, q=min(50, *x.shape), center=False, niter=4)
        x = u * s  # (N, q) principal components, largest first
    if method == "pca":
        return x[:, :2].float()
    from sklearn.manifold import TSNE

    points = TSNE(2, init="pca", perplexity=30, random_state=seed).fit_transform(x.numpy())
    return torch.from_numpy(points).float()


@dataclass
class Best:
    """A model's best epoch so far: its (val acc, -val loss), that epoch's metrics, the
    epoch, and (for the first seed's model only, which feeds the page) its weights."""
    key: tuple[float, float] = (-1.0, -math.inf)
    metrics: dict[str, float] = field(default_factory=dict)
    epoch: int = 0
    state: dict | None = None


def run(spec, report: Report) -> RunResult:
    """train() on one thread: products this small gain little from a second thread and,
    on cores shared with other jobs, a second thread made every epoch several times slower
    (MLP full preset, 10 models: 100 ms per epoch with 2 threads against 15 ms with 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train(spec, report)
    finally:
        torch.set_num_threads(threads)


def train(spec, report: Report) -> RunResult:
    cfg = spec.config
    graph, g = graph_ops(cfg["dataset"])
    seeds = [spec.seed + i for i in range(cfg["seeds"])]
    models, optimisers = [], []
    for seed in seeds:
        torch.manual_seed(seed)  # each model's initial weights depend on its own seed only
        models.append(build_model(spec.variant, cfg, g.num_features, graph.num_classes))
        optimisers.append(torch.optim.Adam(models[-1].parameters(), lr=cfg["lr"],
                                           weight_decay=cfg["weight_decay"]))
    torch.manual_seed(spec.seed)  # the dropout masks of all the models from here on
    best = [Best() for _ in seeds]  # per model
    epochs, step_seconds = cfg["epochs"], []  # one entry per model and epoch
    train_mask, y = graph.train_mask, graph.y
    for epoch in range(1, epochs + 1):
        rows = []
        for i, (model, opt) in enumerate(zip(models, optimisers)):
            started = time.perf_counter()
            model.train()
            logits, _ = model(g)
            loss = F.cross_entropy(logits[train_mask], y[train_mask])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            metrics = evaluate(model, g, graph)
            step_seconds.append(time.perf_counter() - started)
            rows.append(metrics)
            key = (metrics["val/acc"], -metrics["val/loss"])
            if key > best[i].key:
                state = {k: v.clone() for k, v in model.state_dict().items()} if i == 0 else None
                best[i] = Best(key, metrics, epoch, state)
        summary = {}
        for name in ("train/loss", "train/acc", "val/loss", "val/acc"):
            summary[name], spread = mean_std([r[name] for r in rows])
            if name == "val/acc":
                summary["val/acc_std"] = spread
        report(epoch, summary)
        report.progress(epoch, epochs, f"epoch {epoch}/{epochs}, {len(seeds)} models")

    test_acc, test_std = mean_std([b.metrics["test/acc"] for b in best])
    val_acc, val_std = mean_std([b.metrics["val/acc"] for b in best])
    metrics = {"test/acc": test_acc, "test/acc_std": test_std, "val/acc": val_acc,
               "val/acc_std": val_std, "test/loss": mean_std([b.metrics["test/loss"] for b in best])[0],
               "epoch/best": mean_std([float(b.epoch) for b in best])[0],
               # median: robust to other programs stealing the CPU for a moment
               "time/epoch_ms": 1000 * float(torch.tensor(step_seconds).median())}

    model = models[0]  # the first seed's model, at its best validation epoch, feeds the page
    model.load_state_dict(best[0].state)
    model.eval()
    with torch.inference_mode():
        started = time.perf_counter()
        logits, hidden = model(g)
        metrics["time/infer_ms"] = 1000 * (time.perf_counter() - started)
    probs = logits.softmax(1)
    report.progress(epochs, epochs, "drawing the hidden layer in 2-D")
    artifacts = {
        "state_dict": model.state_dict(),
        "predicted": probs.argmax(1),  # (N,) class of every node, first seed's model
        "confidence": probs.max(1).values,  # (N,)
        "embedding_2d": project_2d(hidden.clone(), cfg["projection"], spec.seed),  # (N, 2)
        "raw_2d": raw_feature_map(cfg["dataset"], cfg["projection"]),  # (N, 2)
        "per_seed": {"seed": seeds, "test_acc": [b.metrics["test/acc"] for b in best],
                     "val_acc": [b.metrics["val/acc"] for b in best],
                     "best_epoch": [b.epoch for b in best]},
    }
    if spec.variant == "gat":
        artifacts["attention"] = {"dst": g.dst, "src": g.src,  # (E + N,) each
                                  "layer1": model.attention[0], "layer2": model.attention[1]}
    params = count_params(model)
    return RunResult(metrics, params, sum(step_seconds), artifacts)


@functools.lru_cache(maxsize=6)
def raw_feature_map(dataset: str, method: str) -> torch.Tensor:
    """(N, 2) map of the raw bag-of-words features, drawn the same way as the embeddings."""
    graph, _ = graph_ops(dataset)
    return project_2d(graph.x, method, 0)


EXPLANATION = """
**Principle.** Many data sets are graphs: papers that cite papers, users who follow
users, atoms bound to atoms. A graph neural network computes a vector for every node by
*message passing*: in each layer a node gathers the vectors of its neighbours, combines
them with its own and passes the result through a learned linear map and a
non-linearity. After two layers a node's vector depends on everything within two hops,
so a paper is classified by its own words *and* by the papers around it. The variants
differ only in how the neighbours are combined:
a **GCN** takes a fixed weighted sum, each neighbour weighted by 1/sqrt(deg(i) deg(j))
(the symmetric normalised adjacency with self-loops);
**GraphSAGE** keeps the node's own vector apart from the plain mean of its neighbours;
a **GAT** learns an attention score per edge, normalised by a softmax over each node's
incoming edges, with several heads side by side.
The **MLP** sees the same words but no edges, so the gap to it is what the graph adds.

**Training.** Here the task is semi-supervised node classification on the public
Planetoid split: only 20 labelled papers per class (140 on Cora) are used for the
cross-entropy loss, 500 for validation, 1,000 for the test. The whole graph goes through
the network at every step (full batch) and Adam updates the weights; heavy dropout and
weight decay matter because there are so few labels. Each model is tested at its
epoch of best validation accuracy, and every variant is trained from several seeds
because single runs on 140 labels differ by a point or more.

**Strengths.** Uses the relations between examples, not only their features; few
parameters; one layer type serves node, edge and whole-graph tasks; sparse
neighbourhoods keep the cost linear in the number of edges.

**Weaknesses.** Stacking many layers blurs every node towards its neighbourhood average
(over-smoothing), so most GNNs stay shallow. They assume neighbours tend to share a class
(homophily) and do worse where linked nodes differ. Large graphs need neighbour sampling
or partitioning, since a full batch no longer fits in memory.

**Uses.** Citation and social networks, recommendation (users and items as a graph),
molecules and materials (atoms and bonds), traffic and road networks, fraud detection
on transaction graphs, knowledge graphs.
"""

CARD = Card(
    code=(GCN, GAT, attention, aggregate, Sparse, train),
    key="gnn",
    title="GNN (graph neural networks)",
    family="Graphs",
    summary="Each node's vector is rebuilt from its neighbours' vectors, layer after layer.",
    explanation=EXPLANATION,
    variants={
        "mlp": "2-layer MLP on the node features only, no edges (what the graph adds)",
        "gcn": "2-layer graph convolution, degree-normalised neighbour sum",
        "gat": "2-layer graph attention, `heads` heads, learned weight per edge",
        "sage": "2-layer GraphSAGE, own features + mean of the neighbours",
    },
    presets={
        "quick": {"seeds": 2, "epochs": 40},
        "standard": {},
        "full": {"seeds": 10, "epochs": 300, "projection": "tsne"},
    },
    metrics=("test/acc", "test/acc_std", "val/acc", "val/acc_std", "test/loss", "epoch/best",
             "time/epoch_ms", "time/infer_ms"),
    headline="test/acc",
    headline_label="test accuracy (mean over seeds)",
    higher_is_better=True,
    config_cls=Config,
    run=run,
    metric_labels={"test/acc_std": "test acc std over seeds", "epoch/best": "best epoch (mean)",
                   "time/epoch_ms": "ms per epoch (train step + eval)",
                   "time/infer_ms": "ms per full-graph forward"},
)
