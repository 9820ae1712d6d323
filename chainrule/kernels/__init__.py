"""Tuned array code, each kernel beside a plain reference it is tested against.

Kernels are pure array functions: NumPy (or CuPy) arrays in, arrays out, no Tensors and no graph.
They import only ``chainrule.backend`` and NumPy; the ops in ``chainrule/ops/`` call them and stay
the math.  Every tuned kernel has a ``*_reference`` beside it written the way a textbook would, and
``tests/kernels/`` checks one against the other on random and edge shapes.

- ``rows``: ``parallel_rows`` / ``parallel_copy`` (row blocks on chainrule's threads or in cache-sized pieces)
- ``activation``: ReLU and its backward in row blocks
- ``conv``: im2col, the transposed convolution (col2im), weight gradients, channels-last layout
- ``pooling``: max pooling (running maximum, argmax offsets, scatter), average pooling
- ``sampling``: linear interpolation along one axis and its adjoint (runs of equal sources, no add.at)
- ``recurrent``: the fused RNN / LSTM / GRU sequence forward and backward through time
- ``loss``: cross-entropy rows (one exp pass, row sums as a product)
- ``optim``: the optimizers' row updates (Adam, PyTorch's ``lerp_`` rounding), the subnormal flush
- ``embedding``: the row scatter-add of an embedding's backward
- ``views``: broadcast views made from the strides (NumPy's ``broadcast_to`` costs more than small math)
- ``jit``: the optional numba-compiled loops (``jit_kernels``) of memory-bound kernels, same bits as NumPy
"""
