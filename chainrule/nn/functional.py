"""``chainrule.nn.functional`` (``F``): the functional form of every layer and loss.

Each function here is the stateless op a module calls with its parameters; the ops
themselves (forward and backward) live in ``chainrule/ops``.
"""

from chainrule.ops.activation import (  # noqa: F401
    celu,
    elu,
    erf,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from chainrule.ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401,E402
from chainrule.ops.conv import (  # noqa: F401
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from chainrule.ops.ctc import ctc_loss  # noqa: F401
from chainrule.ops.distance import cosine_similarity, normalize, pairwise_distance  # noqa: F401
from chainrule.ops.dropout import dropout  # noqa: F401
from chainrule.ops.elementwise import sigmoid, tanh  # noqa: F401
from chainrule.ops.embedding import embedding, one_hot  # noqa: F401
from chainrule.ops.gradient_reversal import gradient_reversal  # noqa: F401
from chainrule.ops.linalg import linear  # noqa: F401
from chainrule.ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    hinge_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from chainrule.ops.misc import group_norm, smooth_l1_loss  # noqa: F401,E402
from chainrule.ops.normalization import batch_norm, layer_norm  # noqa: F401
from chainrule.ops.pooling import (  # noqa: F401
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    dropout2d,
    interpolate,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from chainrule.ops.shape import pad  # noqa: F401

# isort: split
# pooling, normalisation, padding, sampling and other layers of the contract (#18)
from chainrule.ops.dropout import alpha_dropout, feature_alpha_dropout  # noqa: F401,E402
from chainrule.ops.embedding import embedding_bag  # noqa: F401,E402
from chainrule.ops.fold import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold  # noqa: F401,E402
from chainrule.ops.linalg import bilinear  # noqa: F401,E402
from chainrule.ops.normalization import instance_norm, local_response_norm  # noqa: F401,E402
from chainrule.ops.pooling import (  # noqa: F401,E402
    adaptive_avg_pool1d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    dropout1d,
    dropout3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from chainrule.ops.sampling import affine_grid, grid_sample  # noqa: F401,E402
