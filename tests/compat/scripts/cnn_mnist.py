"""A CNN on MNIST-format data read with torchvision.datasets.MNIST (ToTensor, Normalize), Adadelta and
StepLR, log-softmax + NLL: the shape of the classic MNIST example, on a few images."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from common import parser, report, same_start
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms

p = parser("CNN on MNIST")
p.add_argument("--root", required=True)
p.add_argument("--epochs", type=int, default=2)
args = p.parse_args()
torch.manual_seed(args.seed)
device = torch.device("cpu")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.fc1 = nn.Linear(8 * 12 * 12, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train = datasets.MNIST(args.root, train=True, transform=tf)
test = datasets.MNIST(args.root, train=False, transform=tf)
train_loader = torch.utils.data.DataLoader(train, batch_size=16)
test_loader = torch.utils.data.DataLoader(test, batch_size=50)
model = Net().to(device)
same_start(model, args)
opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
sched = StepLR(opt, step_size=1, gamma=0.7)
for _epoch in range(args.epochs):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        opt.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        opt.step()
    sched.step()
model.eval()
total, correct = 0.0, 0
with torch.no_grad():
    for data, target in test_loader:
        out = model(data)
        total += F.nll_loss(out, target, reduction="sum").item()
        correct += out.argmax(dim=1, keepdim=True).eq(target.view(-1, 1)).sum().item()
print(f"test loss {total / len(test):.4f} accuracy {correct}/{len(test)}")
report(total / len(test))
