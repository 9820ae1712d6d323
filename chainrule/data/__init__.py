"""Data: datasets, samplers, mini-batch loading, preprocessing and augmentation (``torch.utils.data``).

from chainrule.data import DataLoader, TensorDataset, datasets, transforms
x, y = datasets.digits()
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)

``cr.utils.data`` is this same module (PyTorch's path), so ``from chainrule.utils.data import
DataLoader`` works too.
"""

from chainrule.data import datasets, transforms
from chainrule.data._worker import WorkerInfo, get_worker_info
from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataloader import DataLoader
from chainrule.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "StackDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "WorkerInfo",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "datasets",
    "transforms",
]
