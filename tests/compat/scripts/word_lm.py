"""A word-level language model (LSTM, GRU, RNN or a causal Transformer encoder) on a toy corpus,
trained with plain SGD written on p.data and gradient clipping, PyTorch style."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import parser, report, same_start

p = parser("word-level LM")
p.add_argument("--model", default="LSTM")
p.add_argument("--words", type=int, default=3000)
p.add_argument("--vocab", type=int, default=50)
p.add_argument("--emsize", type=int, default=16)
p.add_argument("--nhid", type=int, default=16)
p.add_argument("--nlayers", type=int, default=2)
p.add_argument("--dropout", type=float, default=0.0)
p.add_argument("--lr", type=float, default=5.0)
p.add_argument("--clip", type=float, default=0.25)
p.add_argument("--bptt", type=int, default=10)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--epochs", type=int, default=1)
args = p.parse_args()
torch.manual_seed(args.seed)


def toy_corpus(n, vocab, seed):
    """Token ids from a random sparse Markov chain: learnable, but not trivially."""
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, vocab, (vocab, 3))
    ids, w = [], 0
    for _ in range(n):
        w = nxt[w, rng.integers(0, 3)] if rng.random() < 0.9 else rng.integers(0, vocab)
        ids.append(int(w))
    return torch.tensor(ids, dtype=torch.long)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()


class RNNLM(nn.Module):
    def __init__(self, kind, ntoken, ninp, nhid, nlayers, dropout):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if kind in ("LSTM", "GRU"):
            self.rnn = getattr(nn, kind)(ninp, nhid, nlayers, dropout=dropout)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=kind[4:].lower(), dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.kind, self.nlayers, self.nhid = kind, nlayers, nhid

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return F.log_softmax(self.decoder(self.drop(out)).view(-1, self.decoder.out_features), dim=1), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        if self.kind == "LSTM":
            return (w.new_zeros(self.nlayers, bsz, self.nhid), w.new_zeros(self.nlayers, bsz, self.nhid))
        return w.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=500):
        super().__init__()
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe.unsqueeze(1))

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class TransformerLM(nn.Module):
    def __init__(self, ntoken, d_model, nhead, nhid, nlayers, dropout):
        super().__init__()
        self.embed = nn.Embedding(ntoken, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, nhid, dropout)
        self.encoder = nn.TransformerEncoder(layer, nlayers)
        self.decoder = nn.Linear(d_model, ntoken)
        self.d_model = d_model

    def forward(self, x, hidden=None):
        mask = torch.log(torch.tril(torch.ones(len(x), len(x))))
        h = self.encoder(self.pos(self.embed(x) * math.sqrt(self.d_model)), mask=mask)
        return F.log_softmax(self.decoder(h), dim=-1).view(-1, self.decoder.out_features), None

    def init_hidden(self, bsz):
        return None


def detach(h):
    if h is None or isinstance(h, torch.Tensor):
        return None if h is None else h.detach()
    return tuple(detach(v) for v in h)


data = batchify(toy_corpus(args.words, args.vocab, args.seed), args.batch)
if args.model == "Transformer":
    model = TransformerLM(args.vocab, args.emsize, 2, args.nhid, args.nlayers, args.dropout)
else:
    model = RNNLM(args.model, args.vocab, args.emsize, args.nhid, args.nlayers, args.dropout)
same_start(model, args)
criterion = nn.NLLLoss()
for _epoch in range(args.epochs):
    model.train()
    hidden = model.init_hidden(args.batch)
    for i in range(0, data.size(0) - 1, args.bptt):
        n = min(args.bptt, data.size(0) - 1 - i)
        x, y = data[i : i + n], data[i + 1 : i + 1 + n].reshape(-1)
        hidden = detach(hidden)
        model.zero_grad()
        out, hidden = model(x, hidden)
        loss = criterion(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for prm in model.parameters():
            prm.data.add_(prm.grad, alpha=-args.lr)
model.eval()
with torch.no_grad():
    hidden = model.init_hidden(args.batch)
    total, count = 0.0, 0
    for i in range(0, data.size(0) - 1, args.bptt):
        n = min(args.bptt, data.size(0) - 1 - i)
        out, hidden = model(data[i : i + n], hidden)
        total += n * criterion(out, data[i + 1 : i + 1 + n].reshape(-1)).item()
        count += n
print(f"loss {total / count:.4f} ppl {math.exp(total / count):.2f}")
report(total / count)
