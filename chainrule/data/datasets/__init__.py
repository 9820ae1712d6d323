"""Data sets as NumPy arrays ``(x, y)`` (or ``(x_train, y_train), (x_test, y_test)``).

- ``digits()``: 1797 8x8 handwritten digits, bundled (works right after install).
- ``mnist``, ``fashion_mnist``, ``kmnist``: the IDX files (gz or raw); ``download=True`` (or
  ``chainrule data get NAME``) fetches them over HTTP into ``cache_root()``.
- ``cifar10``: the python-pickle batches, read with a restricted unpickler (``download=True`` too).
- toy problems ``xor``, ``circles``, ``moons``, ``spiral``, ``gaussians`` and 1-D ``sine``.
- ``text_corpus()``: Python's documentation topics, a text corpus that needs no download.
"""

from chainrule.data.datasets.images import (
    CIFAR10_CLASSES,
    CIFAR10_FILES,
    FASHION_CLASSES,
    cache_root,
    cifar10,
    digits,
    fashion_mnist,
    KMNIST_CLASSES,
    kmnist,
    load_cifar_batch,
    mnist,
    parse_idx,
    read_idx,
    safe_unpickle,
)
from chainrule.data.datasets.text import char_sequences, text_corpus
from chainrule.data.datasets.toy import circles, gaussians, moons, sine, spiral, xor

__all__ = [
    "digits",
    "mnist",
    "fashion_mnist",
    "kmnist",
    "KMNIST_CLASSES",
    "CIFAR10_FILES",
    "cifar10",
    "read_idx",
    "parse_idx",
    "load_cifar_batch",
    "safe_unpickle",
    "cache_root",
    "CIFAR10_CLASSES",
    "FASHION_CLASSES",
    "xor",
    "circles",
    "moons",
    "spiral",
    "gaussians",
    "sine",
    "text_corpus",
    "char_sequences",
]
