"""A Siamese network: a small ResNet (basic blocks, batch norm, a replaced first convolution) embeds two
images, a head scores whether they show the same class; BCE-with-logits, Adam, StepLR."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import parser, report, same_start
from torch.optim.lr_scheduler import StepLR

p = parser("siamese resnet")
p.add_argument("--steps", type=int, default=4)
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 8)

    def forward(self, x):
        x = self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = SmallResNet()
        self.net.conv1 = nn.Conv2d(1, 8, 3, 1, 1, bias=False)  # grey images: replace the first layer
        self.head = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, a, b):
        return self.head(torch.cat((self.net(a), self.net(b)), 1))


protos = rng.random((3, 1, 8, 8)).astype(np.float32)
model = Siamese()
same_start(model, args)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = StepLR(opt, step_size=2, gamma=0.5)
for _step in range(args.steps):
    ca, cb = rng.integers(0, 3, 8), rng.integers(0, 3, 8)
    a = torch.from_numpy(protos[ca] + 0.1 * rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    b = torch.from_numpy(protos[cb] + 0.1 * rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    y = torch.from_numpy((ca == cb).astype(np.float32)).unsqueeze(1)
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(a, b), y)
    loss.backward()
    opt.step()
    sched.step()
model.eval()
with torch.no_grad():
    report(F.binary_cross_entropy_with_logits(model(a, b), y).item())
