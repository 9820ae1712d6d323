"""A character-level LSTM language model, trained with truncated backpropagation through time.

The model reads text one character at a time and predicts the next one:
Embedding(V, E) -> LSTM(E, H, num_layers) -> Linear(H, V), trained with cross-entropy.
Its perplexity (e^loss: "how many characters it is choosing between") starts near the
vocabulary size (~100) and falls as it learns spelling, words and the shape of Python code.
At the end it writes new text, one sampled character at a time.

The corpus works offline and needs no install: Python's own documentation topics
(``pydoc_data.topics``, part of the standard library, ~465,000 characters of English prose and
code; licence: the Python Software Foundation License, PSF-2.0), via
``chainrule.data.datasets.text_corpus()``.

Truncated BPTT: the text is cut into ``batch_size`` parallel streams; each training step reads
the next ``seq_len`` characters of every stream, starting from the hidden state the previous
step ended with.  The state is ``.detach()``-ed between steps, so gradients only flow back
``seq_len`` characters while the state itself carries information across the whole text.

    python examples/char_rnn.py                      # ~1,000 steps, a few minutes on 2 cores
    python examples/char_rnn.py --steps 200 --hidden 128
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import datasets


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        """x: (T, B) character codes -> logits (T, B, V) and the final (h, c)."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def streams(codes: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut the encoded text into ``batch_size`` parallel streams: a (length, batch_size) array."""
    n = len(codes) // batch_size
    return codes[: n * batch_size].reshape(batch_size, n).T.copy()


def detach(state):
    return tuple(s.detach() for s in state)


def evaluate(model, data: np.ndarray, seq_len: int, loss_fn, max_chunks: int = 20) -> float:
    """Mean cross-entropy (nats per character) over the first chunks of ``data`` (time-major streams)."""
    model.eval()
    total, count, state = 0.0, 0, None
    with cr.no_grad():
        for start in range(0, min(len(data) - 1, max_chunks * seq_len), seq_len):
            x = data[start : start + seq_len]
            y = data[start + 1 : start + 1 + seq_len]
            x = x[: len(y)]
            logits, state = model(cr.tensor(x), state)
            total += loss_fn(logits.reshape(-1, logits.shape[-1]), cr.tensor(y.reshape(-1))).item() * y.size
            count += y.size
    model.train()
    return total / count


def sample(model, vocab: str, prompt: str, length: int, temperature: float, rng) -> str:
    """Feed ``prompt``, then draw ``length`` characters from softmax(logits / temperature)."""
    lookup = {c: i for i, c in enumerate(vocab)}
    prompt = "".join(c for c in prompt if c in lookup) or vocab[0]
    model.eval()
    out = []
    with cr.no_grad():
        logits, state = model(cr.tensor(np.array([[lookup[c]] for c in prompt])))  # (T, 1)
        last = logits[-1, 0].numpy()
        for _ in range(length):
            z = last.astype(np.float64) / temperature
            p = np.exp(z - z.max())
            code = int(rng.choice(len(vocab), p=p / p.sum()))
            out.append(vocab[code])
            logits, state = model(cr.tensor(np.array([[code]])), state)
            last = logits[-1, 0].numpy()
    model.train()
    return prompt + "".join(out)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description="Character-level LSTM language model (truncated BPTT).")
    p.add_argument("--steps", type=int, default=1000, help="training steps (chunks of seq_len per stream)")
    p.add_argument("--seq-len", type=int, default=64, help="BPTT length: characters per chunk")
    p.add_argument("--batch-size", type=int, default=32, help="parallel text streams")
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0, help="between LSTM layers")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--sample-len", type=int, default=400)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--prompt", default="The ")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    cr.manual_seed(args.seed)
    text = datasets.text_corpus()
    vocab = "".join(sorted(set(text)))
    lookup = {c: i for i, c in enumerate(vocab)}
    codes = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
    split = int(0.95 * len(codes))
    train, valid = streams(codes[:split], args.batch_size), streams(codes[split:], args.batch_size)
    print(
        f"corpus: {len(text):,} characters, vocabulary {len(vocab)}; {train.shape[1]} streams of "
        f"{train.shape[0]:,} characters, truncated BPTT over {args.seq_len}"
    )

    model = CharLSTM(len(vocab), args.embed, args.hidden, args.layers, args.dropout)
    optimizer = cr.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    print(
        f"model: {sum(q.numel() for q in model.parameters()):,} parameters; "
        f"uniform guessing = perplexity {len(vocab)}"
    )

    history, window, state, pos, t0 = [], [], None, 0, time.perf_counter()
    for step in range(1, args.steps + 1):
        if pos + args.seq_len + 1 > len(train):  # end of the text: start again, fresh state
            pos, state = 0, None
        x = cr.tensor(train[pos : pos + args.seq_len])
        y = cr.tensor(train[pos + 1 : pos + 1 + args.seq_len].reshape(-1))
        pos += args.seq_len
        logits, state = model(x, state)
        state = detach(state)  # truncated BPTT: keep the value, cut the graph
        loss = loss_fn(logits.reshape(-1, len(vocab)), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        window.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            mean = float(np.mean(window))
            history.append(mean)
            window = []
            print(
                f"step {step:5d}  loss {mean:.3f}  perplexity {math.exp(mean):7.2f}  "
                f"({time.perf_counter() - t0:.1f}s)",
                flush=True,
            )

    val = evaluate(model, valid, args.seq_len, loss_fn)
    print(f"validation: loss {val:.3f}  perplexity {math.exp(val):.2f}")
    text_out = sample(
        model, vocab, args.prompt, args.sample_len, args.temperature, np.random.default_rng(args.seed)
    )
    print("\nsample:\n" + text_out)
    return {"history": history, "valid_loss": val, "sample": text_out, "vocab": vocab}


if __name__ == "__main__":
    main(sys.argv[1:])
