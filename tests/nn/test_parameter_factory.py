"""Every layer makes its parameters in one place (nn.module.new_parameter): dtypes as PyTorch's."""

import pytest
import torch

import chainrule as cr

LAYERS = [
    ("Linear", (3, 4)),
    ("Conv1d", (2, 3, 3)),
    ("Conv2d", (2, 3, 3)),
    ("ConvTranspose2d", (2, 3, 3)),
    ("BatchNorm1d", (3,)),
    ("BatchNorm2d", (3,)),
    ("LayerNorm", (3,)),
    ("GroupNorm", (1, 3)),
    ("Embedding", (5, 3)),
    ("PReLU", ()),
    ("RNN", (3, 4)),
    ("LSTM", (3, 4)),
    ("GRU", (3, 4)),
    ("RNNCell", (3, 4)),
    ("LSTMCell", (3, 4)),
    ("GRUCell", (3, 4)),
    ("MultiheadAttention", (4, 2)),
    ("Bilinear", (3, 2, 4)),
    ("EmbeddingBag", (5, 3)),
    ("BatchNorm3d", (3,)),
    ("InstanceNorm1d", (3, 1e-5, 0.1, True, True)),
]


@pytest.fixture
def float64_default():
    cr.set_default_dtype(cr.float64)
    torch.set_default_dtype(torch.float64)
    yield
    cr.set_default_dtype(cr.float32)
    torch.set_default_dtype(torch.float32)


def _dtypes(module):
    return {k: str(v.dtype).replace("torch.", "") for k, v in module.state_dict().items()}


@pytest.mark.parametrize("name,args", LAYERS)
def test_parameters_and_buffers_take_the_default_dtype(name, args, float64_default):
    mine, ref = _dtypes(getattr(cr.nn, name)(*args)), _dtypes(getattr(torch.nn, name)(*args))
    assert mine == ref and "float64" in mine.values()


@pytest.mark.parametrize("name,args", LAYERS)
def test_an_explicit_dtype_wins_and_an_integer_one_is_refused(name, args):
    assert set(_dtypes(getattr(cr.nn, name)(*args, dtype=cr.float64)).values()) <= {"float64", "int64"}
    with pytest.raises(TypeError, match=f"{name}: dtype must be a floating point dtype"):
        getattr(cr.nn, name)(*args, dtype=cr.int32)
