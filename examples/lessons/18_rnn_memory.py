# %% [markdown]
# # Lesson 18: recurrent nets and memory
#
# **Claims.**
#
# 1. *Long-range recall.* Show a network one of 4 tokens, then T−1 blank tokens, and ask it at
#    the end which token came first.  A vanilla RNN,
#    $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$, learns this for short T but fails for long T:
#    the gradient reaching step 1 is a product of T Jacobians
#    $\prod_t \mathrm{diag}(1-h_t^2)\, W_{hh}$, which vanishes.  An LSTM, whose cell state is updated
#    additively ($c_t = f_t \odot c_{t-1} + i_t \odot g_t$), and a GRU
#    ($h_t = (1-z_t)\odot n_t + z_t \odot h_{t-1}$) keep the token for T ≥ 30.
# 2. *Exploding gradients.* When that product grows instead (here: a ReLU RNN whose recurrent
#    matrix starts as 1.1·I), the gradient norm spikes by orders of magnitude and plain SGD
#    diverges; `clip_grad_norm_` rescales the gradient to norm ≤ 1,
#    $g \leftarrow g \cdot \min(1, \tau / \lVert g\rVert)$, and training goes on.
# 3. *Truncated BPTT.* A character language model carries its hidden state across the whole
#    text but back-propagates only through the last L characters.  With the same number of
#    updates and of characters per update (1,024 = streams × L), we measure the validation loss
#    for several L: gradients that reach further back can teach longer dependencies.

# %%
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

N_KEYS, N_NOISE = 4, 1
CELLS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "LSTM, forget bias 1": nn.LSTM, "GRU": nn.GRU}


# %% [markdown]
# ## 1. The recall task
# Inputs are one-hot vectors over 4 key tokens and a blank (`N_NOISE` = 1; more distractor
# symbols make the task much harder); the target is the first token.


# %%
def recall_batch(rng, batch: int, length: int):
    keys = rng.integers(0, N_KEYS, batch)
    tokens = np.concatenate([keys[None], N_KEYS + rng.integers(0, N_NOISE, (length - 1, batch))])
    x = np.eye(N_KEYS + N_NOISE, dtype=np.float32)[tokens]  # (T, B, 12): time first
    return x, keys


class Recaller(nn.Module):
    def __init__(self, cell: str, hidden: int = 32, **kwargs):
        super().__init__()
        self.rnn = CELLS[cell](N_KEYS + N_NOISE, hidden, **kwargs)
        self.head = nn.Linear(hidden, N_KEYS)
        if "forget bias" in cell:  # gates are ordered (input, forget, cell, output): start remembering
            self.rnn.bias_hh_l0.data[hidden : 2 * hidden] = 1.0

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[-1])


def train_recall(cell: str, length: int, steps: int, seed: int) -> float:
    """Train with Adam (gradients clipped to norm 1), return accuracy on 1,000 fresh sequences."""
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Recaller(cell)
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        x, y = recall_batch(rng, 32, length)
        loss = nn.functional.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = recall_batch(rng, 1000, length)
    with cr.no_grad():
        return float((model(cr.tensor(x)).argmax(1).numpy() == y).mean())


# %% [markdown]
# ## 2. Exploding gradients and clipping
# A ReLU RNN with $W_{hh}$ initialised to 1.1·I on the same task, plain SGD, with and without
# clipping; `clip_grad_norm_` returns the norm *before* clipping, which is what we log.


# %%
def train_exploding(clip: float | None, length: int, steps: int, seed: int) -> dict:
    cr.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Recaller("RNN", nonlinearity="relu")
    with cr.no_grad():
        model.rnn.weight_hh_l0.copy_(cr.eye(32) * 1.1)
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    norms, losses = [], []
    for _ in range(steps):
        x, y = recall_batch(rng, 32, length)
        loss = nn.functional.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
        opt.zero_grad()
        loss.backward()
        with np.errstate(over="ignore", invalid="ignore"):  # the unclipped run is meant to overflow
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
        norms.append(float(norm.item()))
        losses.append(float(loss.item()))
        if not np.isfinite(losses[-1]) or not np.isfinite(norms[-1]):
            break  # diverged: nothing more to learn from this run
        opt.step()
    return {"grad_norms": norms, "losses": losses}


# %% [markdown]
# ## 3. Truncated backpropagation through time
# A character-level LSTM on the bundled corpus (Python's documentation topics): the text is cut
# into 1024 / L parallel streams; each step reads the next L characters of every stream, starting
# from the previous step's hidden state, detached, so gradients reach back at most L characters.


# %%
def corpus_codes():
    text = cr.data.datasets.text_corpus()
    vocab = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocab)}
    return np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text)), len(vocab)


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def train_tbptt(
    trunc: int, updates: int, seed: int, codes, vocab: int, chars_per_update: int = 1024
) -> float:
    """``updates`` Adam steps, each on ``chars_per_update`` characters: ``chars_per_update // trunc``
    streams of ``trunc`` characters.  Only the truncation length differs between runs, not the
    number of updates nor the characters read.  Returns the validation loss (nats/character)."""
    cr.manual_seed(seed)
    batch = chars_per_update // trunc
    split = int(0.9 * len(codes))
    n = split // batch
    train = codes[: n * batch].reshape(batch, n).T  # (length, streams)
    valid = codes[split : split + 32 * ((len(codes) - split) // 32)].reshape(32, -1).T
    model = CharLSTM(vocab)
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    state, pos = None, 0
    for _ in range(updates):
        x, y = train[pos : pos + trunc], train[pos + 1 : pos + 1 + trunc]
        pos += trunc
        logits, state = model(cr.tensor(x), state)
        state = tuple(s.detach() for s in state)  # keep the value, cut the graph
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), cr.tensor(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    total, count, state = 0.0, 0, None
    with cr.no_grad():  # the validation text is read in 32 streams, carrying the state throughout
        for start in range(0, min(len(valid) - 1, 1000), 100):
            x, y = valid[start : start + 100], valid[start + 1 : start + 101]
            logits, state = model(cr.tensor(x[: len(y)]), state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), cr.tensor(y.reshape(-1)))
            total += loss.item() * y.size
            count += y.size
    return total / count


# %%
def run(quick: bool = False, seed: int = 0) -> dict:
    out: dict = {}
    lengths = (10,) if quick else (10, 30, 60)
    out["recall_lengths"] = list(lengths)
    steps = 600 if quick else 1500
    cells = ("RNN", "LSTM", "GRU") if quick else tuple(CELLS)
    out["recall"] = {cell: [train_recall(cell, t, steps, seed) for t in lengths] for cell in cells}
    n_explode = 150 if quick else 400
    out["exploding"] = {
        "no clipping": train_exploding(None, 30, n_explode, seed),
        "clip_grad_norm_(1.0)": train_exploding(1.0, 30, n_explode, seed),
    }
    if not quick:
        codes, vocab = corpus_codes()
        out["truncations"] = [2, 8, 32, 128]
        out["tbptt"] = [train_tbptt(t, 400, seed, codes, vocab) for t in out["truncations"]]
    return out


# %% [markdown]
# Figure: recall accuracy by sequence length, gradient norms with and without clipping, and
# validation loss by truncation length.


# %%
def plot(results: dict, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    panels = 3 if "tbptt" in results else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.2))
    ax = axes[0]
    for cell, accs in results["recall"].items():
        ax.plot(results["recall_lengths"], accs, "o-", label=cell)
    ax.axhline(1 / N_KEYS, color="gray", ls=":", label="chance")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("recall accuracy of the first token")
    ax.set_ylim(0, 1.05)
    ax.legend()
    ax.set_title("remember the first of T tokens")
    ax = axes[1]
    for name, run_ in results["exploding"].items():
        norms = np.asarray(run_["grad_norms"], dtype=float)
        ax.semilogy(np.arange(1, len(norms) + 1), norms, label=name, lw=1)
        if len(norms) < len(results["exploding"]["clip_grad_norm_(1.0)"]["grad_norms"]):
            ax.plot(
                len(norms), np.nanmax(norms[np.isfinite(norms)]), "rx", ms=10, label="loss became inf/NaN"
            )
    ax.set_xlabel("SGD step")
    ax.set_ylabel("gradient norm (before clipping)")
    ax.set_title("ReLU RNN, W_hh = 1.1·I, T = 30")
    ax.legend()
    if panels == 3:
        ax = axes[2]
        ax.plot(results["truncations"], results["tbptt"], "o-")
        ax.set_xscale("log", base=2)
        ax.set_xticks(results["truncations"], [str(t) for t in results["truncations"]])
        ax.set_xlabel("truncation length L (characters)")
        ax.set_ylabel("validation loss (nats / character)")
        ax.set_title("char-LSTM: 400 updates of 1,024 characters")
    fig.tight_layout()
    path = out_dir / "18_rnn_memory.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


# %%
if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    print("recall accuracy | " + " | ".join(f"T={t}" for t in res["recall_lengths"]) + " |")
    print("|---" * (len(res["recall_lengths"]) + 1) + "|")
    for cell, accs in res["recall"].items():
        print(f"| {cell} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")
    for name, r in res["exploding"].items():
        norms = np.asarray(r["grad_norms"])
        print(
            f"{name}: {len(norms)} steps, max grad norm {np.nanmax(norms):.3g}, "
            f"last loss {r['losses'][-1]:.3f}"
        )
    if "tbptt" in res:
        print("| truncation L | " + " | ".join(str(t) for t in res["truncations"]) + " |")
        print("|---" * (len(res["truncations"]) + 1) + "|")
        print("| validation loss | " + " | ".join(f"{v:.3f}" for v in res["tbptt"]) + " |")
    for p in plot(res, Path(__file__).resolve().parents[2] / "docs" / "lessons" / "images"):
        print("wrote", p)
