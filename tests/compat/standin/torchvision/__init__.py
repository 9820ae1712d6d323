"""A stand-in for torchvision under *real* PyTorch, for the twin runs when torchvision cannot be
imported (PyPI's torchvision wheel needs CUDA libraries that a CPU-only torch lacks).

Only what the twin-run scripts use: ``datasets.MNIST`` (the IDX files, as torchvision reads them)
and ``transforms.Compose``/``ToTensor``/``Normalize`` (torchvision's arithmetic, in torch).
"""

from torchvision import datasets, transforms  # noqa: F401
