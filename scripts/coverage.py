"""Which of PyTorch's public names chainrule has: writes docs/coverage.md.

    python scripts/coverage.py          # rewrite docs/coverage.md
    python scripts/coverage.py --check  # exit 1 when docs/coverage.md is not what this would write

PyTorch's names are read from the installed torch (``torch``, ``torch.Tensor``, ``torch.nn``,
``torch.nn.functional``, ``torch.optim`` with ``lr_scheduler``, ``torch.utils.data``); a name counts
as present when chainrule's counterpart (``cr``, ``cr.Tensor``, ``cr.nn``, ``cr.nn.functional``,
``cr.optim``, ``cr.data``) has an attribute of that name.  Two measures: the commonly used names
chainrule promises (``COMMON`` below), and the whole public namespaces.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "coverage.md"
sys.path.insert(0, str(ROOT))

# The commonly used names: what PyTorch code reaches for first, and what chainrule promises.
COMMON = {
    "torch": """
        tensor zeros ones full arange linspace eye rand randn randint zeros_like ones_like from_numpy
        float32 float64 int64 bool float16 bfloat16 int32 uint8 long cat stack where matmul exp log sqrt
        sin cos tanh sigmoid relu clamp maximum minimum sum mean var std max min argmax logsumexp reshape
        flatten squeeze unsqueeze transpose permute
        abs acos asin atan atan2 sinh cosh tan ceil floor round trunc frac sign reciprocal rsqrt square
        expm1 log1p log2 log10 erf fmod remainder lerp logaddexp pow addmm baddbmm bmm mm dot outer einsum
        tensordot kron cross cdist trace diag diagonal tril triu cumsum cumprod prod softmax log_softmax
        dropout eq ne gt ge lt le isclose allclose equal isnan isinf isfinite nan_to_num logical_and
        logical_or logical_not all any count_nonzero gather scatter scatter_add index_select index_add
        index_copy index_fill masked_fill masked_select take nonzero argwhere narrow select chunk split
        unbind tile repeat_interleave roll flip fliplr rot90 movedim swapaxes broadcast_to unflatten hstack
        vstack meshgrid sort argsort topk kthvalue median mode unique unique_consecutive searchsorted
        bucketize histc amax amin aminmax var_mean std_mean empty empty_like full_like rand_like
        randn_like randint_like randperm bernoulli multinomial normal logspace tril_indices triu_indices
        as_tensor Generator get_default_dtype set_default_dtype from_dlpack device no_grad enable_grad
        inference_mode set_grad_enabled is_grad_enabled manual_seed save load set_num_threads
        get_num_threads is_tensor numel clip concat linalg autograd nn optim
    """,
    "Tensor": """
        shape ndim dtype device requires_grad grad is_leaf grad_fn backward detach requires_grad_ item
        numpy tolist to float double long size numel clone data register_hook retain_grad
        abs acos asin atan atan2 sinh cosh tan ceil floor round trunc frac sign reciprocal rsqrt square
        expm1 log1p log2 log10 erf fmod remainder lerp logaddexp pow addmm baddbmm bmm mm dot outer
        kron cross trace diag diagonal tril triu cumsum cumprod prod softmax log_softmax eq ne gt ge lt
        le isclose allclose equal isnan isinf isfinite nan_to_num logical_and logical_or logical_not all
        any count_nonzero gather scatter scatter_add index_select index_add index_copy index_fill
        masked_fill masked_select take nonzero argwhere where narrow select chunk split unbind tile repeat
        repeat_interleave roll flip fliplr rot90 movedim swapaxes broadcast_to expand_as view_as type_as
        unflatten sort argsort topk kthvalue median mode unique unique_consecutive histc amax amin aminmax
        new_zeros new_ones new_full new_empty new_tensor exp log sqrt sin cos tanh sigmoid relu clamp
        maximum minimum matmul sum mean var std max min argmax logsumexp reshape view flatten squeeze
        unsqueeze transpose permute expand T add_ mul_ zero_ fill_ copy_ masked_fill_ scatter_
        index_add_ clamp_ normal_ uniform_ bernoulli_ contiguous cpu cuda
    """,
    "torch.nn": """
        Module Parameter Sequential ModuleList ModuleDict Identity Flatten Unflatten ParameterList
        ParameterDict Linear Conv1d Conv2d Conv3d ConvTranspose2d MaxPool1d MaxPool2d MaxPool3d AvgPool1d
        AvgPool2d AvgPool3d AdaptiveAvgPool2d Dropout Dropout2d BatchNorm1d BatchNorm2d LayerNorm
        Embedding Upsample AdaptiveAvgPool1d AdaptiveMaxPool1d AdaptiveMaxPool2d BatchNorm3d GroupNorm
        InstanceNorm1d InstanceNorm2d LocalResponseNorm ConvTranspose1d ConvTranspose3d ZeroPad2d
        ConstantPad1d ConstantPad2d ReflectionPad1d ReflectionPad2d ReplicationPad1d ReplicationPad2d
        PixelShuffle PixelUnshuffle Fold Unfold MaxUnpool1d MaxUnpool2d EmbeddingBag Bilinear
        CosineSimilarity PairwiseDistance AlphaDropout MultiheadAttention TransformerEncoderLayer
        TransformerEncoder TransformerDecoderLayer TransformerDecoder Transformer RNN LSTM GRU RNNCell
        LSTMCell GRUCell ReLU Sigmoid Tanh Softplus LeakyReLU PReLU ELU GELU SiLU Softmax LogSoftmax
        Softmax2d SELU CELU Mish Hardtanh ReLU6 Hardsigmoid Hardswish LogSigmoid Softsign Softmin
        Tanhshrink Threshold GLU MSELoss L1Loss HuberLoss BCELoss BCEWithLogitsLoss CrossEntropyLoss
        NLLLoss MultiMarginLoss SmoothL1Loss KLDivLoss PoissonNLLLoss GaussianNLLLoss MarginRankingLoss
        HingeEmbeddingLoss CosineEmbeddingLoss SoftMarginLoss MultiLabelSoftMarginLoss
        MultiLabelMarginLoss TripletMarginLoss CTCLoss init utils functional
    """,
    "torch.nn.functional": """
        linear conv1d conv2d conv3d conv_transpose2d max_pool2d avg_pool2d dropout batch_norm layer_norm
        embedding relu sigmoid tanh softplus leaky_relu elu gelu silu softmax log_softmax mse_loss l1_loss
        binary_cross_entropy binary_cross_entropy_with_logits cross_entropy nll_loss pad one_hot normalize
        cosine_similarity pairwise_distance pixel_shuffle unfold fold interpolate grid_sample affine_grid
        group_norm instance_norm glu hardtanh selu mish logsigmoid softsign kl_div smooth_l1_loss
        triplet_margin_loss scaled_dot_product_attention embedding_bag
    """,
    "torch.optim": """
        Optimizer SGD Adagrad Adadelta RMSprop Adam AdamW Adamax NAdam RAdam Rprop ASGD LBFGS lr_scheduler
        lr_scheduler.StepLR lr_scheduler.MultiStepLR lr_scheduler.ExponentialLR
        lr_scheduler.CosineAnnealingLR lr_scheduler.ReduceLROnPlateau lr_scheduler.LambdaLR
        lr_scheduler.OneCycleLR lr_scheduler.MultiplicativeLR lr_scheduler.LinearLR
        lr_scheduler.ConstantLR lr_scheduler.PolynomialLR lr_scheduler.CyclicLR
        lr_scheduler.CosineAnnealingWarmRestarts lr_scheduler.SequentialLR lr_scheduler.ChainedScheduler
    """,
    "torch.utils.data": """
        Dataset IterableDataset TensorDataset ConcatDataset Subset DataLoader default_collate
        SequentialSampler RandomSampler SubsetRandomSampler WeightedRandomSampler BatchSampler
        random_split get_worker_info
    """,
}

OUT_OF_SCOPE = """\
## Out of scope, and why

chainrule is a readable CPU-first framework on NumPy that matches PyTorch numerically; these parts of
PyTorch's namespaces are deliberately not reproduced:

- **Compilers and graph capture** (`torch.compile`, `jit`, `fx`, `export`, `_dynamo`, `vmap`/`func`):
  chainrule's point is an eager engine you can read in one sitting; tracing compilers would hide it.
- **Quantization and sparse tensors** (`quantize_per_tensor`, `q_*`, `sparse_*`, `to_sparse`,
  `fbgemm_*`): integer kernels and sparse layouts are backend engineering, not autograd teaching.
- **Complex autograd and FFT** (`complex`, `view_as_real`, `fft`, `angle`, `conj_physical`, ...):
  complex tensors may be stored, but complex differentiation is not implemented.
- **Devices beyond CPU and one CUDA GPU** (`mps`, `xpu`, `hpu`, streams, events, `cuda.amp`,
  `pin_memory` beyond accepting it), **distributed training** (`distributed`, `DistributedDataParallel`,
  `DataParallel`), **multiprocessing tensor sharing** and **memory formats** (`channels_last`,
  `as_strided`, `storage`, `untyped_storage`, `data_ptr`-level APIs).
- **Named tensors, nested tensors, masked tensors and tensor subclasses** (`refine_names`,
  `nested`, `masked`, `__torch_function__`).
- **Special-function long tail** (`special.*`, `polygamma`, `igamma`, `i0`, `lgamma`, ...) and
  deprecated aliases (`torch.nn.functional.tanh`-style duplicates are kept only where common).
- **Private and internal names** (leading underscore, `*_backward` kernels, `native_*`, `cudnn_*`,
  `miopen_*`, `mkldnn_*`): not public API.

Names in these groups show up as missing in the full-namespace counts below; that is expected.
"""


def _torch_names(torch) -> dict:
    """The public names of each PyTorch namespace (modules left out)."""

    def public(obj, keep_modules=()):
        out = set()
        for n in dir(obj):
            if n.startswith("_"):
                continue
            try:
                v = getattr(obj, n)
            except Exception:  # noqa: BLE001 - a lazily imported attribute may fail to load
                continue
            if isinstance(v, types.ModuleType) and n not in keep_modules:
                continue
            out.add(n)
        return out

    import torch.nn.functional as F  # noqa: N812
    import torch.optim.lr_scheduler as lrs
    import torch.utils.data as tud

    functional = {
        n
        for n in public(F)
        if callable(getattr(F, n)) and getattr(getattr(F, n), "__module__", "").startswith("torch")
    }
    sched = {f"lr_scheduler.{n}" for n in public(lrs) if isinstance(getattr(lrs, n), type)}
    return {
        "torch": public(torch),
        "Tensor": public(torch.Tensor),
        "torch.nn": public(torch.nn, ("init", "utils", "functional")),
        "torch.nn.functional": functional,
        "torch.optim": public(torch.optim, ("lr_scheduler",)) | sched,
        "torch.utils.data": public(tud),
    }


def _has(cr, space: str, name: str) -> bool:
    target = {
        "torch": cr,
        "Tensor": cr.Tensor,
        "torch.nn": cr.nn,
        "torch.nn.functional": cr.nn.functional,
        "torch.optim": cr.optim,
        "torch.utils.data": cr.data,
    }[space]
    for part in name.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.0f}%" if b else "-"


def render() -> str:
    import torch

    import chainrule as cr

    full = _torch_names(torch)
    lines = [
        "# Coverage of PyTorch's public API",
        "",
        f"Generated by `python scripts/coverage.py` against PyTorch {torch.__version__.split('+')[0]}; "
        "a test fails when this page is out of date. A name counts as present when chainrule's "
        "counterpart (`cr`, `cr.Tensor`, `cr.nn`, `cr.nn.functional`, `cr.optim`, `cr.data`) has it; "
        "the suite tests chainrule's names against PyTorch's.",
        "",
        "## Commonly used names",
        "",
        "The names PyTorch code reaches for first (tensor math, indexing, sorting, creation, `linalg`, "
        "layers, losses, optimizers, schedulers, data loading).",
        "",
        "| namespace | present | of | coverage |",
        "|---|---:|---:|---:|",
    ]
    total_have = total = 0
    details = []
    for space, text in COMMON.items():
        names = sorted(set(text.split()))
        have = [n for n in names if _has(cr, space, n)]
        missing = [n for n in names if n not in have]
        total_have += len(have)
        total += len(names)
        lines.append(f"| `{space}` | {len(have)} | {len(names)} | {_pct(len(have), len(names))} |")
        details.append(f"- `{space}` missing: " + (", ".join(f"`{n}`" for n in missing) or "none"))
    lines.append(f"| **all** | {total_have} | {total} | {_pct(total_have, total)} |")
    lines += ["", *details, "", "## Whole public namespaces", ""]
    lines += [
        "Everything public in each PyTorch namespace (most of it rarely used; see the out-of-scope list).",
        "",
        "| namespace | present | of | coverage |",
        "|---|---:|---:|---:|",
    ]
    missing_lists = []
    for space, names in full.items():
        names = sorted(names)
        have = [n for n in names if _has(cr, space, n)]
        missing = [n for n in names if n not in have]
        lines.append(f"| `{space}` | {len(have)} | {len(names)} | {_pct(len(have), len(names))} |")
        missing_lists += [
            "",
            f"<details><summary><code>{space}</code>: {len(missing)} missing</summary>",
            "",
            ", ".join(missing) if missing else "none",
            "",
            "</details>",
        ]
    lines += missing_lists
    lines += ["", OUT_OF_SCOPE]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if docs/coverage.md is out of date")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != text:
            print("docs/coverage.md is out of date: run python scripts/coverage.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
