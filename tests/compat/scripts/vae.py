"""A small variational auto-encoder on binary patterns: Bernoulli decoder, Gaussian posterior, loss =
reconstruction BCE + KL(q(z|x) || N(0, I)), reparameterisation with fixed noise, Adam."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import parser, report, same_start

p = parser("VAE")
p.add_argument("--steps", type=int, default=30)
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
protos = rng.random((4, 36)) < 0.5


class VAE(nn.Module):
    def __init__(self, d=36, h=24, z=3):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc_mu = nn.Linear(h, z)
        self.fc_logvar = nn.Linear(h, z)
        self.fc3 = nn.Linear(z, h)
        self.fc4 = nn.Linear(h, d)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar, eps):
        return mu + eps * torch.exp(0.5 * logvar)

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, eps)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


model = VAE()
same_start(model, args)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _step in range(args.steps):
    pick = rng.integers(0, 4, 16)
    flips = rng.random((16, 36)) < 0.05
    x = torch.from_numpy((protos[pick] ^ flips).astype(np.float32))
    eps = torch.from_numpy(rng.standard_normal((16, 3)).astype(np.float32))  # the same noise in both runs
    assert torch.randn_like(eps).shape == eps.shape
    opt.zero_grad()
    recon, mu, logvar = model(x, eps)
    loss = loss_function(recon, x, mu, logvar) / len(x)
    loss.backward()
    opt.step()
report(loss.item())
