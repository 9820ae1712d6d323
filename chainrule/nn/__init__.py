"""``chainrule.nn``: modules (layers, activations, losses), ``functional``, ``init``, ``utils``."""

from chainrule.nn import functional, init, utils  # noqa: F401
from chainrule.nn.activation import (  # noqa: F401
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.containers import (  # noqa: F401
    Flatten,
    Identity,
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
    Unflatten,
)
from chainrule.nn.conv import (  # noqa: F401
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from chainrule.nn.dropout import Dropout  # noqa: F401
from chainrule.nn.embedding import Embedding  # noqa: F401
from chainrule.nn.gradient_reversal import GradientReversal  # noqa: F401
from chainrule.nn.linear import Linear  # noqa: F401
from chainrule.nn.loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from chainrule.nn.module import Module, Parameter  # noqa: F401
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: F401
from chainrule.nn.pooling import (  # noqa: F401
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    Dropout2d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    Upsample,
)
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
from chainrule.nn.misc import GroupNorm, SmoothL1Loss  # noqa: F401,E402
from chainrule.nn.transformer import (  # noqa: F401,E402
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from chainrule.nn.activation import (  # noqa: F401,E402
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    ReLU6,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from chainrule.nn.distance import CosineSimilarity, PairwiseDistance  # noqa: F401,E402
from chainrule.nn.loss import (  # noqa: F401,E402
    CosineEmbeddingLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from chainrule.nn.dropout import AlphaDropout, FeatureAlphaDropout  # noqa: F401,E402
from chainrule.nn.embedding import EmbeddingBag  # noqa: F401,E402
from chainrule.nn.fold import ChannelShuffle, Fold, PixelShuffle, PixelUnshuffle, Unfold  # noqa: F401,E402
from chainrule.nn.linear import Bilinear  # noqa: F401,E402
from chainrule.nn.normalization import (  # noqa: F401,E402
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
)
from chainrule.nn.padding import (  # noqa: F401,E402
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from chainrule.nn.pooling import (  # noqa: F401,E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    Dropout1d,
    Dropout3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
