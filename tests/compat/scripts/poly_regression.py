"""Fit a cubic polynomial with one Linear layer and hand-written SGD on p.data (smooth L1 loss)."""

import numpy as np
import torch
import torch.nn.functional as F
from common import parser, report, same_start

p = parser("polynomial regression")
p.add_argument("--steps", type=int, default=200)
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
W_true = torch.from_numpy(rng.standard_normal((3, 1)).astype(np.float32))
b_true = 0.5


def features(x):
    x = x.unsqueeze(1)
    return torch.cat([x**i for i in range(1, 4)], 1)


fc = torch.nn.Linear(3, 1)
same_start(fc, args)
for _step in range(args.steps):
    x = features(torch.from_numpy(rng.uniform(-1, 1, 32).astype(np.float32)))
    y = x.mm(W_true) + b_true
    fc.zero_grad()
    loss = F.smooth_l1_loss(fc(x), y)
    loss.backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)
print("learned", fc.weight.view(-1).tolist(), "true", W_true.view(-1).tolist())
report(loss.item())
