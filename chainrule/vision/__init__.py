"""``chainrule.vision``: a torchvision-compatible corner of chainrule.

``chainrule.vision``: a torchvision-compatible corner of chainrule (what ``import torchvision`` gives
under ``chainrule torch``).

- ``datasets``: ``MNIST``, ``FashionMNIST``, ``CIFAR10`` with torchvision's signatures, reading the
  files of ``chainrule data get`` (or torchvision's own folder layout under ``root``);
- ``transforms``: ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``, ``RandomHorizontalFlip``,
  ``RandomRotation``, ``Resize``, ``Lambda``;
- ``utils``: ``make_grid``, ``save_image``;
- ``models``: ``resnet18`` (``weights=None``: nothing is downloaded).

Example::

    from chainrule.vision import datasets, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("data", train=True, transform=tf)
    image, label = train[0]          # image: a (1, 28, 28) float32 Tensor, label: an int
"""

from chainrule.vision import datasets, models, transforms, utils

__all__ = ["datasets", "transforms", "utils", "models"]
