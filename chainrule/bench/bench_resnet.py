"""ResNet-18 on 1x28x28 images (MNIST-sized, as PyTorch's Siamese-network example): one training step.

The torchvision layout (``chainrule.vision.models.resnet18``) with a 1-channel stem
``Conv2d(1, 64, 7, stride 2, padding 3)`` and 10 classes; batch 64, cross-entropy, Adam, batch
norm in training mode. The PyTorch model is built from the same module tree with ``torch.nn``
and gets the same weights and buffers.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.bench import limit
from chainrule.bench.timing import interleaved, row, torch_or_none

BATCH, LR = 64, 1e-3


def _resnet18(nn):
    """ResNet-18 (1-channel stem, 10 classes) from ``nn`` (``cr.nn`` or ``torch.nn``), keys as torchvision."""

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, c in enumerate((64, 128, 256, 512)):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, c, stride), BasicBlock(c, c, 1)))
                cin = c
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def _steps(torch) -> tuple[dict, float]:
    cr.manual_seed(0)
    model = _resnet18(cr.nn)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    xc, yc = cr.tensor(x), cr.tensor(y)
    flops = limit.module_flops(model, xc, cr.nn)
    first = limit.conv_flops(BATCH, (14, 14), 1, 64, 7)
    opt = cr.optim.Adam(model.parameters(), lr=LR)
    loss_fn = cr.nn.CrossEntropyLoss()

    def cr_step():
        opt.zero_grad()
        loss = loss_fn(model(xc), yc)
        loss.backward()
        opt.step()
        return loss

    steps = {"chainrule": cr_step}
    if torch is not None:
        tmodel = _resnet18(torch.nn)
        tmodel.load_state_dict(
            {k: torch.from_numpy(np.array(v._data)) for k, v in model.state_dict().items()}
        )
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        topt = torch.optim.Adam(tmodel.parameters(), lr=LR)
        tloss_fn = torch.nn.CrossEntropyLoss()

        def torch_step():
            topt.zero_grad()
            loss = tloss_fn(tmodel(xt), yt)
            loss.backward()
            topt.step()
            return loss

        steps["torch"] = torch_step
    return steps, limit.train_flops(flops, first)


def run(samples: int = 20) -> list[dict]:
    """One row: medians of ``samples`` interleaved training steps and the distance to the limit."""
    steps, flops = _steps(torch_or_none())
    r = row(f"resnet18 1x28x28, batch {BATCH}, Adam", interleaved(steps, samples))
    return [limit.annotate(r, flops)]
