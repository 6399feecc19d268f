"""`chainrule.nn`: neural-network modules built on chainrule's Tensor API.

A `Module` registers the `Parameter`s and submodules assigned to it; layers, activations and
normalisation live here, their functional forms in `chainrule.nn.functional`, initialisers in
`chainrule.nn.init`, gradient clipping under PyTorch's name in `chainrule.nn.utils`.
Optimisers are in `chainrule.optim`, data loading in `chainrule.data`.
`functional_call` runs a module as a pure function of its parameters, for functional
transforms (`cr.vmap(cr.grad(...))` for per-example gradients).
"""

from chainrule.nn import functional, init, utils
from chainrule.nn.attention import (
    MultiheadAttention,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from chainrule.nn.conv import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
)
from chainrule.nn.layers import (
    ELU,
    GELU,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    Hardtanh,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Mish,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.module import (
    Module,
    ModuleDict,
    ModuleList,
    RemovableHandle,
    Sequential,
    StateDictError,
)
from chainrule.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from chainrule.nn.stateless import functional_call

__all__ = [
    "Module", "Sequential", "Parameter", "StateDictError", "Linear", "Conv2d", "MaxPool2d",
    "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
    "Identity", "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax", "functional", "init",
    "utils",
    "functional_call",
    "ModuleList", "ModuleDict", "Conv1d", "ConvTranspose2d", "MaxPool1d", "AdaptiveAvgPool2d",
    "GroupNorm", "Dropout2d", "LeakyReLU", "ELU", "SiLU", "Softplus", "Mish", "Hardtanh",
    "RemovableHandle",
    "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "L1Loss",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerEncoder",
]
