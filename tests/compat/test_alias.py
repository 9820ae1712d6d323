"""``chainrule torch`` / ``install_torch()``: torch and torchvision names resolve to chainrule's objects,
missing names fail with a clear message, and the real torch comes back after ``uninstall_torch()``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch as real_torch

import chainrule as cr
from chainrule import compat

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aliased():
    compat.install_torch()
    try:
        yield
    finally:
        compat.uninstall_torch()


def test_imports_resolve_to_chainrule(aliased):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    import torchvision
    from torch.nn.modules.activation import MultiheadAttention
    from torch.optim.lr_scheduler import StepLR
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    assert torch.Tensor is cr.Tensor and torch.tensor is cr.tensor
    assert nn.Linear is cr.nn.Linear and F.relu is cr.nn.functional.relu
    assert optim.SGD is cr.optim.SGD and StepLR is cr.optim.lr_scheduler.StepLR
    assert DataLoader is cr.data.DataLoader and MultiheadAttention is cr.nn.MultiheadAttention
    assert torch.nn.modules.linear.NonDynamicallyQuantizableLinear.__mro__[1] is cr.nn.Linear
    assert torch.nn.modules.sparse.Embedding is cr.nn.Embedding
    assert torch.nn.modules.container.ModuleList is cr.nn.ModuleList
    assert torch.autograd.grad is cr.autograd.grad and torch.serialization.load is cr.load
    assert datasets.MNIST is cr.vision.datasets.MNIST and transforms.ToTensor is cr.vision.transforms.ToTensor
    assert torchvision.models.resnet18 is cr.vision.models.resnet18
    assert torch.device("cpu") == "cpu" and torch.cuda.is_available() == cr.cuda.is_available()
    assert torch.accelerator.is_available() == cr.accelerator.is_available()
    assert isinstance(torch.ones(2), torch.Tensor) and torch.Size is tuple
    torch.backends.cudnn.benchmark = True  # a flag scripts set; accepted and ignored


def test_missing_names_say_what_is_missing(aliased):
    import torch

    with pytest.raises(AttributeError, match=r"chainrule does not implement torch\.fft yet"):
        torch.fft  # noqa: B018
    with pytest.raises(
        AttributeError, match=r"chainrule does not implement torch\.nn\.functional\.gumbel_softmax yet"
    ):
        torch.nn.functional.gumbel_softmax  # noqa: B018
    with pytest.raises(ModuleNotFoundError, match=r"chainrule does not implement torch\.distributed yet"):
        import torch.distributed  # noqa: F401


def test_torch_onnx_export_is_chainrules(aliased, tmp_path):
    import onnxruntime as ort
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    x = torch.randn(4, 3)
    path = tmp_path / "m.onnx"
    torch.onnx.export(model, (x,), str(path), input_names=["x"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], model(x).detach().numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="export_params=False"):
        torch.onnx.export(model, (x,), str(path), export_params=False)


def test_uninstall_restores_real_torch():
    compat.install_torch()
    import torch

    assert torch.Tensor is cr.Tensor
    compat.uninstall_torch()
    import torch

    assert torch is real_torch and sys.modules["torch.nn"] is real_torch.nn


def test_cli_runs_a_script_with_arguments(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import torch
            import torch.nn.functional as F
            import helper

            x = torch.ones(2, 3, requires_grad=True)
            loss = F.mse_loss(x.mm(torch.ones(3, 1)), torch.zeros(2, 1))
            loss.backward()
            print(torch.Tensor.__module__, helper.VALUE, sys.argv[1:], float(loss), x.grad.sum().item())
            """
        )
    )
    (tmp_path / "helper.py").write_text("VALUE = 7\n")  # the script's folder is importable, as with python
    out = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "torch", str(script), "--lr", "0.1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["chainrule.tensor", "7", "['--lr',", "'0.1']", "9.0", "18.0"]


def test_cli_reports_the_exit_code_and_missing_script(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import sys\nsys.exit(3)\n")
    out = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "torch", str(script)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 3
    with pytest.raises(FileNotFoundError, match="no such script"):
        compat.run_script(str(tmp_path / "absent.py"))
