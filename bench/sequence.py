"""Issue #16's sequence cases: the char-level GRU language model of `chainrule train --model
charlm` against PyTorch's nn.GRU, one training step each.

(gru-step) is `chainrule.cli.charlm.CharLM(103, "gru", 256)` as the CLI builds it (Embedding
103x64 -> GRU 64->256, batch_first -> Linear 256->103), one step on a fixed (32, 64) batch of
character ids: forward, cross-entropy over all 2,048 positions, zero_grad, backward, Adam
(lr 0.003). The CLI's gradient clipping and learning-rate schedule are left out on both sides.
The PyTorch twin is torch.nn.Embedding + torch.nn.GRU(batch_first=True) + torch.nn.Linear under
the same parameter names, loaded from chainrule's initial state_dict, with F.cross_entropy and
torch.optim.Adam. Each column trains its own copy on the same batch from step to step (the
optimiser state is a trained model's, as in a real run); the harness compares the first step's
losses, which start from the same weights.

(gru-fwd-bwd) is the GRU layer alone: nn.GRU(64, 256, batch_first=True) on fixed
(32, 64, 64) float32 inputs, forward and backward of a fixed weighting of its outputs, with no
optimiser: the recurrence's share of (gru-step).
"""

import numpy as np

from bench.harness import Case
from bench.peers import load

__all__ = ["CASES", "charlm_batch"]

VOCAB = 103  # the pydoc help topics' alphabet
HIDDEN = 256
BATCH, STEPS = 32, 64
LEARNING_RATE = 3e-3


def _charlm_defaults():
    """The CLI's batch size, sequence length and Adam learning rate (fallbacks otherwise)."""
    try:
        from chainrule.cli import charlm, train

        return (charlm.DEFAULTS["batch_size"], charlm.DEFAULTS["seq_len"],
                charlm.DEFAULT_HIDDEN["gru"], train.DEFAULT_LR["adam"])
    except (ImportError, AttributeError, KeyError):
        return BATCH, STEPS, HIDDEN, LEARNING_RATE


BATCH, STEPS, HIDDEN, LEARNING_RATE = _charlm_defaults()
EMBEDDING = min(64, HIDDEN)  # CharLM's embedding width for a GRU


def charlm_batch():
    """(inputs, targets): fixed (BATCH, STEPS) int64 character ids, the targets shifted by one
    along a longer random stream, as the corpus batches are."""
    stream = np.random.default_rng(0).integers(0, VOCAB, (BATCH, STEPS + 1))
    return stream[:, :-1].copy(), stream[:, 1:].copy()


def _charlm_chainrule_model():
    from chainrule.cli.charlm import CharLM

    return CharLM(VOCAB, "gru", HIDDEN, context=STEPS, rng=0)


def _step_chainrule():
    from chainrule import optim
    from chainrule.nn import functional

    model = _charlm_chainrule_model()
    model.train()
    inputs, targets = charlm_batch()
    flat_targets = targets.reshape(-1)
    optimiser = optim.Adam(model.parameters(), lr=LEARNING_RATE)

    def step():
        logits, _ = model(inputs)
        loss = functional.cross_entropy(logits.reshape(-1, VOCAB), flat_targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        return loss.item()

    return step


def _torch_charlm(torch):
    """The PyTorch twin of CharLM's GRU variant, under the same parameter names."""

    class CharLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMBEDDING)
            self.rnn = torch.nn.GRU(EMBEDDING, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, VOCAB)

        def forward(self, ids):
            output, state = self.rnn(self.embedding(ids))
            return self.head(output), state

    model = CharLM()
    initial = _charlm_chainrule_model().state_dict()
    model.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in
                           initial.items()})
    return model


def _step_torch():
    torch = load("torch")
    model = _torch_charlm(torch)
    model.train()
    inputs, targets = (torch.from_numpy(array) for array in charlm_batch())
    flat_targets = targets.reshape(-1)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    def step():
        logits, _ = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), flat_targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        return loss.item()

    return step


# ----- the GRU layer alone -----------------------------------------------------------------------
def _layer_data():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((BATCH, STEPS, EMBEDDING)).astype(np.float32)
    weights = rng.standard_normal((BATCH, STEPS, HIDDEN)).astype(np.float32) / (BATCH * STEPS)
    return inputs, weights


def _gru_chainrule():
    import chainrule as cr
    from chainrule import nn

    layer = nn.GRU(EMBEDDING, HIDDEN, batch_first=True, rng=0)
    inputs, weights = _layer_data()
    inputs = cr.tensor(inputs)
    params = list(layer.parameters())

    def step():
        output, _ = layer(inputs)
        loss = (output * weights).sum()
        loss.backward()
        grad = params[1].grad  # weight_hh_l0's
        for param in params:
            param.grad = None
        return loss.item(), float(np.asarray(grad.numpy()).ravel()[0])

    step.layer = layer
    return step


def _gru_torch():
    torch = load("torch")
    layer = torch.nn.GRU(EMBEDDING, HIDDEN, batch_first=True)
    initial = _gru_chainrule().layer.state_dict()
    layer.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in
                           initial.items()})
    inputs, weights = (torch.from_numpy(array) for array in _layer_data())
    params = list(layer.parameters())

    def step():
        output, _ = layer(inputs)
        loss = (output * weights).sum()
        loss.backward()
        grad = params[1].grad
        for param in params:
            param.grad = None
        return loss.item(), grad.reshape(-1)[0].item()

    return step


CASES = [
    Case(
        key="gru-step",
        title=f"char-level GRU language model: one training step (batch {BATCH}, {STEPS} "
        f"characters, GRU {HIDDEN}, Adam)",
        builders={"chainrule": _step_chainrule, "torch": _step_torch},
        target=1.5,
        rtol=1e-4,
        atol=1e-5,
        note=f"chainrule.cli.charlm.CharLM (Embedding {VOCAB}x{EMBEDDING}, GRU {HIDDEN}, "
        f"Linear head) against torch.nn.Embedding + nn.GRU + nn.Linear with the same initial "
        f"weights, batch, cross-entropy and Adam lr={LEARNING_RATE:g}; no clipping or schedule",
    ),
    Case(
        key="gru-fwd-bwd",
        title=f"nn.GRU({EMBEDDING}, {HIDDEN}, batch_first=True) alone: forward + backward on "
        f"({BATCH}, {STEPS}, {EMBEDDING}) float32 inputs",
        builders={"chainrule": _gru_chainrule, "torch": _gru_torch},
        rtol=1e-4,
        atol=1e-5,
        note="the same initial weights and inputs; the loss is a fixed weighting of the "
        "outputs; no optimiser (the recurrence's share of gru-step)",
    ),
]
