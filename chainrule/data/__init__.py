"""Data: datasets, mini-batch loading, preprocessing and augmentation.

from chainrule.data import DataLoader, TensorDataset, datasets, transforms
x, y = datasets.digits()
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
"""

from chainrule.data import datasets, transforms
from chainrule.data.dataloader import DataLoader, default_collate
from chainrule.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "DataLoader",
    "default_collate",
    "random_split",
    "datasets",
    "transforms",
]
