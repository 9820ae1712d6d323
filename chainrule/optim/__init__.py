"""``cr.optim``: optimizers that follow PyTorch's update rules step for step, and learning-rate schedules.

opt = cr.optim.Adam(model.parameters(), lr=1e-3)
sched = cr.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
for epoch in range(epochs):
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    sched.step()

Every optimizer computes what its ``torch.optim`` namesake computes, step for step.
``cr.optim.flush_subnormals(True)`` opts in to flushing subnormal floats from optimizer state,
which keeps long CPU runs fast (see its docstring).
"""

from chainrule.optim.optimizer import Optimizer, flush_subnormals  # noqa: I001
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.adamax import Adamax
from chainrule.optim.nadam import NAdam
from chainrule.optim.radam import RAdam
from chainrule.optim.rprop import Rprop
from chainrule.optim.asgd import ASGD
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim import lr_scheduler

__all__ = [
    "Optimizer",
    "flush_subnormals",
    "SGD",
    "LBFGS",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
    "lr_scheduler",
]
