"""Predict sine waves with two stacked LSTMCells in float64, trained by L-BFGS with a closure
(the pattern of the classic time-sequence-prediction example)."""

import numpy as np
import torch
import torch.nn as nn
from common import parser, report, same_start

p = parser("time series with LBFGS")
p.add_argument("--steps", type=int, default=2)
p.add_argument("--line-search", default="")
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
T, N = 24, 8
x = np.arange(T) + rng.integers(-20, 20, (N, 1))
data = np.sin(x / 4.0)
inp = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])


class Sequence(nn.Module):
    def __init__(self, h=8):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, h)
        self.lstm2 = nn.LSTMCell(h, h)
        self.linear = nn.Linear(h, 1)
        self.h = h

    def forward(self, x):
        outputs = []
        h1 = torch.zeros(x.size(0), self.h, dtype=torch.double)
        c1 = torch.zeros(x.size(0), self.h, dtype=torch.double)
        h2 = torch.zeros(x.size(0), self.h, dtype=torch.double)
        c2 = torch.zeros(x.size(0), self.h, dtype=torch.double)
        for xt in x.split(1, dim=1):
            h1, c1 = self.lstm1(xt, (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            outputs.append(self.linear(h2))
        return torch.cat(outputs, dim=1)


seq = Sequence().double()
same_start(seq, args)
criterion = nn.MSELoss()
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6, line_search_fn=args.line_search or None)
for _ in range(args.steps):

    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(inp), target)
        loss.backward()
        return loss

    optimizer.step(closure)
with torch.no_grad():
    report(criterion(seq(inp), target).item())
