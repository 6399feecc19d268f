"""Recurrent layers: `RNN`, `LSTM`, `GRU` and their single-step cells, PyTorch's way.

Constructor arguments, defaults, forward signatures and outputs are PyTorch's, and so are the
parameters: their names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`,
`weight_ih_l0_reverse`..., LSTM's `weight_hr_l0` with `proj_size`), shapes, gate order (LSTM
i, f, g, o; GRU r, z, n) and initialisation (every entry U(-1/sqrt(hidden), 1/sqrt(hidden))).
A PyTorch `state_dict()` converted to NumPy arrays therefore loads with `load_state_dict` and
gives PyTorch's outputs. The formulas (W_i* = weight_ih rows of that gate, W_h* = weight_hh):

    RNN   h' = tanh(W_i x + b_i + W_h h + b_h)                       (or relu)
    LSTM  i, f, o = sigmoid(.), g = tanh(.)  of  W_i* x + b_i* + W_h* h + b_h*
          c' = f c + i g,  h' = o tanh(c')                  (h' = W_hr (o tanh(c')) with proj_size)
    GRU   r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
          n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h

Layers take (T, B, input_size) input, (B, T, input_size) with `batch_first=True`, or one
unbatched (T, input_size) sequence, and return `(output, h_n)` (LSTM: `(output, (h_n, c_n))`);
`output` holds the last layer's hidden state at every step (both directions concatenated),
`h_n`/`c_n` (num_layers * num_directions, B, hidden) the final state of every layer and
direction.

Each layer and direction is one recorded operation (a `cr.custom_vjp`, see `_scan`): the
input-to-hidden product of all time steps is one matrix product; the time loop runs in NumPy,
and so does its backward pass, written out by hand (the weight gradients are one product over
all steps); `.backward()` and `cr.grad` take this path. Where the loop or its backward pass
must itself be traced (vmap, forward mode, derivatives of derivatives,
`.backward(create_graph=True)`), the same loop composed of `chainrule.numpy` operations is
differentiated instead, so gradients reach the input, the initial state and every parameter
under every transform and to any order. The cells are one step of that composed loop.

Padded batches (PyTorch's packed sequences): pass `lengths=` (B integers, each sequence's
number of real steps, in any order) or `mask=` (a boolean (B, T) array, True at real steps).
A padded step leaves the state unchanged and outputs zeros, so `h_n` is each sequence's state
after its last real step (for the reverse direction: after its first), as with
`pack_padded_sequence(..., enforce_sorted=False)` followed by `pad_packed_sequence`. A mask
need not be a prefix: the state simply skips the steps that are False. A sequence of length 0
keeps its initial state and outputs zeros (PyTorch refuses length 0).
"""

import math

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.dtypes import dtype_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.errors import ShapeError
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, _check_device, check_input_dtype
from chainrule.nn.parameter import Parameter
from chainrule.transforms import custom_vjp, vjp

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NONLINEARITIES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


# ----- one time step ----------------------------------------------------------------------------
# Each step takes `xp`, the input's contribution W_ih x + b_ih (all gates), the state as a tuple
# ((h,) or (h, c)) and the hidden-to-hidden parameters, and returns the new state. Slices use
# `...` so that the cells' unbatched (hidden,) states go through the same code.
def _rnn_tanh_step(xp, state, w_hh, b_hh, w_hr=None):
    return (cnp.tanh(xp + F.linear(state[0], w_hh, b_hh)),)


def _rnn_relu_step(xp, state, w_hh, b_hh, w_hr=None):
    return (F.relu(xp + F.linear(state[0], w_hh, b_hh)),)


def _lstm_step(xp, state, w_hh, b_hh, w_hr=None):
    h, c = state
    hidden = cnp.shape(c)[-1]
    gates = xp + F.linear(h, w_hh, b_hh)
    in_forget = F.sigmoid(gates[..., :2 * hidden])
    cell = cnp.tanh(gates[..., 2 * hidden:3 * hidden])
    out_gate = F.sigmoid(gates[..., 3 * hidden:])
    c_new = in_forget[..., hidden:] * c + in_forget[..., :hidden] * cell
    h_new = out_gate * cnp.tanh(c_new)
    if w_hr is not None:
        h_new = F.linear(h_new, w_hr)
    return h_new, c_new


def _gru_step(xp, state, w_hh, b_hh, w_hr=None):
    (h,) = state
    hidden = cnp.shape(h)[-1]
    gh = F.linear(h, w_hh, b_hh)
    reset_update = F.sigmoid(xp[..., :2 * hidden] + gh[..., :2 * hidden])
    reset, update = reset_update[..., :hidden], reset_update[..., hidden:]
    candidate = cnp.tanh(xp[..., 2 * hidden:] + reset * gh[..., 2 * hidden:])
    return (candidate + update * (h - candidate),)


_STEPS = {"RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step, "LSTM": _lstm_step,
          "GRU": _gru_step}


def _uniform(shape, hidden_size, rng, dtype):
    return Parameter(init.uniform(shape, 1.0 / math.sqrt(hidden_size), rng, dtype))


def _state_dtype(x, *parameters):
    return np.result_type(dtype_of(x), *(dtype_of(p) for p in parameters if p is not None))


def _describe(value) -> str:
    return f"a tuple of {len(value)}" if isinstance(value, (tuple, list)) else \
        f"shape {tuple(cnp.shape(value))}"


# ----- the layers ------------------------------------------------------------------------------
class _RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per layer and direction, the time loop, the
    padding masks and the shape checks."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, rng=None,
                 dtype=np.float32, device=None):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        name = type(self).__name__
        input_size, hidden_size = int(input_size), int(hidden_size)
        num_layers, proj_size = int(num_layers), int(proj_size)
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(
                f"{name}: input_size, hidden_size and num_layers must be positive, got "
                f"{input_size}, {hidden_size} and {num_layers}"
            )
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(
                f"{name}: proj_size must be 0 (no projection) or in (0, hidden_size="
                f"{hidden_size}), got {proj_size}"
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = proj_size
        self._rng = np.random.default_rng(rng)
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        # Registered in PyTorch's order, so state_dict() lists the names as PyTorch does.
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, "weight_ih" + suffix,
                        _uniform((gates, layer_input), hidden_size, self._rng, dtype))
                setattr(self, "weight_hh" + suffix,
                        _uniform((gates, out_size), hidden_size, self._rng, dtype))
                if self.bias:
                    setattr(self, "bias_ih" + suffix,
                            _uniform((gates,), hidden_size, self._rng, dtype))
                    setattr(self, "bias_hh" + suffix,
                            _uniform((gates,), hidden_size, self._rng, dtype))
                if proj_size:
                    setattr(self, "weight_hr" + suffix,
                            _uniform((proj_size, hidden_size), hidden_size, self._rng, dtype))

    # ----- PyTorch conveniences ------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self):
        """The parameters of each layer and direction, as lists (PyTorch's `all_weights`)."""
        return [[p for p in self._layer_parameters(layer, direction) if p is not None]
                for layer in range(self.num_layers) for direction in range(self.num_directions)]

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code (there it compacts weights for cuDNN)."""

    def _layer_parameters(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, name + suffix, None)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    # ----- forward -------------------------------------------------------------------------------
    def forward(self, input, hx=None, lengths=None, mask=None):  # noqa: A002 - PyTorch's name
        """Run the whole sequence; see the class docstring for shapes and padding."""
        x, batched = self._time_major(input)
        steps, batch = cnp.shape(x)[:2]
        valid = self._valid_steps(lengths, mask, steps, batch, batched)
        initial = self._initial_states(hx, x, batch, batched)
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_parameters(layer, direction)
                out, final = _run_direction(
                    self.mode, layer_input, initial[layer * self.num_directions + direction],
                    w_ih, w_hh, b_ih, b_hh, w_hr, valid, reverse=direction == 1,
                )
                outputs.append(out)
                finals.append(final)
            layer_input = outputs[0] if len(outputs) == 1 else cnp.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True, self._rng)
        output = layer_input
        final_states = tuple(cnp.stack([state[k] for state in finals])
                             for k in range(len(finals[0])))
        if not batched:
            output = output[:, 0]
            final_states = tuple(state[:, 0] for state in final_states)
        elif self.batch_first:
            output = cnp.swapaxes(output, 0, 1)
        if self.mode == "LSTM":
            return output, final_states
        return output, final_states[0]

    def _time_major(self, input):
        """(T, B, input_size) from the accepted layouts, and whether the input was batched."""
        shape = tuple(cnp.shape(input))
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            layout = "(B, T, {0})" if self.batch_first else "(T, B, {0})"
            raise ShapeError(
                f"{self!r} expects input of shape {layout.format(self.input_size)} or, "
                f"unbatched, (T, {self.input_size}), got {shape}"
            )
        if shape[0 if len(shape) == 2 or not self.batch_first else 1] == 0:
            raise ShapeError(f"{self!r} needs at least one time step, got input of shape {shape}")
        check_input_dtype(self, input)
        if len(shape) == 2:
            return cnp.expand_dims(input, 1), False
        return (cnp.swapaxes(input, 0, 1) if self.batch_first else input), True

    def _valid_steps(self, lengths, mask, steps, batch, batched):
        """None (every step is real) or a boolean (T, B, 1) NumPy array, True at real steps."""
        if lengths is not None and mask is not None:
            raise ValueError(f"{type(self).__name__}: pass lengths= or mask=, not both")
        name = type(self).__name__
        if lengths is not None:
            lengths = np.asarray(lengths)
            if lengths.dtype.kind not in "iu":
                raise TypeError(
                    f"{name}: lengths must be integers (each sequence's number of real steps), "
                    f"got dtype {lengths.dtype}; for a boolean padding mask pass mask="
                )
            if lengths.shape not in (((batch,),) if batched else ((), (1,))):
                raise ShapeError(
                    f"{name}: lengths must have shape {(batch,) if batched else '()'} (one "
                    f"length per sequence of the batch), got {lengths.shape}"
                )
            lengths = lengths.reshape(-1)
            if lengths.size and (lengths.min() < 0 or lengths.max() > steps):
                raise ValueError(
                    f"{name}: lengths must lie in [0, {steps}] (the input has {steps} steps), "
                    f"got values from {lengths.min()} to {lengths.max()}"
                )
            valid = np.arange(steps)[:, None] < lengths[None, :]
        elif mask is not None:
            mask = np.asarray(mask)
            expected = (batch, steps) if batched else (steps,)
            if mask.dtype != np.bool_:
                raise TypeError(
                    f"{name}: mask must be a boolean array, True at real steps and False at "
                    f"padding, got dtype {mask.dtype}"
                )
            if mask.shape != expected:
                raise ShapeError(
                    f"{name}: mask must have shape {expected} ((batch, time), True at real "
                    f"steps, whatever batch_first says), got {mask.shape}"
                )
            valid = mask.reshape(-1, steps).T
        else:
            return None
        return None if valid.all() else valid[:, :, None]

    def _initial_states(self, hx, x, batch, batched):
        """One state tuple ((h,) or (h, c)) per layer and direction."""
        count = self.num_layers * self.num_directions
        out_size = self.proj_size or self.hidden_size
        sizes = (out_size, self.hidden_size) if self.mode == "LSTM" else (out_size,)
        if hx is None:
            dtype = _state_dtype(x, self.weight_ih_l0)
            return [tuple(np.zeros((batch, size), dtype) for size in sizes)] * count
        parts = tuple(hx) if self.mode == "LSTM" and isinstance(hx, (tuple, list)) else (hx,)
        names = ("h_0", "c_0") if self.mode == "LSTM" else ("h_0",)
        if len(parts) != len(sizes):
            raise ValueError(
                f"{type(self).__name__}: the initial state must be "
                + ("a pair (h_0, c_0)" if self.mode == "LSTM" else "one array h_0")
                + f", got {_describe(hx)}"
            )
        states = []
        for part, size, name in zip(parts, sizes, names, strict=True):
            expected = (count, batch, size) if batched else (count, size)
            if tuple(cnp.shape(part)) != expected:
                raise ShapeError(
                    f"{self!r} expects {name} of shape {expected} (num_layers * num_directions"
                    f"{', batch' if batched else ''}, {'hidden' if name == 'c_0' else 'output'}"
                    f" size) for this input, got {tuple(cnp.shape(part))}"
                )
            check_input_dtype(self, part)
            states.append(part if batched else cnp.expand_dims(part, 1))
        return [tuple(state[k] for state in states) for k in range(count)]

    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.mode == "RNN_RELU":
            parts.append("nonlinearity='relu'")
        if self.proj_size:
            parts.append(f"proj_size={self.proj_size}")
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)


def _run_direction(mode, x, state, w_ih, w_hh, b_ih, b_hh, w_hr, valid, reverse):
    """One layer, one direction over time-major `x` (T, B, in): the outputs (T, B, out) and the
    final state tuple. `valid` (T, B, 1) or None marks the real steps."""
    steps, batch, features = cnp.shape(x)
    # The input's contribution to every gate at every step: one (T*B, in) @ (in, gates) product.
    projected = F.linear(cnp.reshape(x, (steps * batch, features)), w_ih, b_ih)
    projected = cnp.reshape(projected, (steps, batch, -1))
    lstm = mode == "LSTM"
    states = _scan(projected, state[0], state[1] if lstm else None, w_hh, b_hh, w_hr,
                   mode=mode, reverse=reverse, valid=valid)
    states = states if lstm else (states,)
    last = 0 if reverse else steps - 1
    final = tuple(sequence[last] for sequence in states)
    output = states[0] if valid is None else cnp.where(valid, states[0], 0.0)
    return output, final


# ----- the recurrence over time ------------------------------------------------------------------
# `_scan(xp, h0, c0, w_hh, b_hh, w_hr)` runs one layer and direction over the projected inputs
# xp (T, B, gates) and returns the state after every step, (T, B, out) (LSTM: a pair with the
# cell states): at a padded step the state is carried unchanged. It is a custom_vjp with two
# paths that compute the same function:
# - NumPy (the fast path): when the values are plain arrays or tape tensors, the forward loop
#   runs in NumPy, saving the gates, and the backward pass is written out by hand, with the
#   weight gradients as one (T*B)-row product each. A transform that traces the values (vmap,
#   or a derivative of the derivative) never sees this path, nor does the tape while it
#   records (a transform's backward pass through a model's own Parameters, create_graph).
# - composed: the loop over `chainrule.numpy` operations (`_scan_composed`); every transform
#   differentiates it as usual. bwd falls back to the VJP of this loop whenever its cotangent
#   is not a plain array (create_graph=True, forward mode, vmap) or the tape records the
#   arguments, so derivatives of every order stay exact.
def _scan_composed(xp, h0, c0, w_hh, b_hh, w_hr, *, mode, reverse, valid):
    step = _STEPS[mode]
    steps = cnp.shape(xp)[0]
    inputs = cnp.unstack(xp)
    state = (h0, c0) if mode == "LSTM" else (h0,)
    sequence = [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        new = step(inputs[t], state, w_hh, b_hh, w_hr)
        if valid is not None and not valid[t].all():
            new = tuple(cnp.where(valid[t], n, s) for n, s in zip(new, state, strict=True))
        state = sequence[t] = new
    stacked = tuple(cnp.stack([entry[k] for entry in sequence]) for k in range(len(state)))
    return stacked if mode == "LSTM" else stacked[0]


def _plain(value):
    """`value` as a real NumPy array when it is one or a tape tensor, else None (traced by a
    transform, or complex, where the hand-written backward pass does not apply)."""
    if value is None:
        return None
    if type(value) in TRACED_TYPES:
        if not value._trace.concrete:
            return None
        value = value.numpy()
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else None


def _recorded(arguments) -> bool:
    """Whether the tape records operations on some argument now: a tensor that requires grad
    while grad mode is on (outside `.backward()` without create_graph, which turns it off). Such
    an argument's dependence must reach the tape, which NumPy kernels would hide."""
    return cr.is_grad_enabled() and any(
        type(a) in TRACED_TYPES and a._trace.concrete and a.requires_grad for a in arguments)


def _plain_arguments(arguments):
    values = [_plain(value) for value in arguments]
    if any(value is None and argument is not None
           for value, argument in zip(values, arguments, strict=True)):
        return None
    return values


def _scan_function(xp, h0, c0, w_hh, b_hh, w_hr, *, mode, reverse, valid):
    arguments = (xp, h0, c0, w_hh, b_hh, w_hr)
    values = None if _recorded(arguments) else _plain_arguments(arguments)
    if values is None:
        return _scan_composed(*arguments, mode=mode, reverse=reverse, valid=valid)
    # Nothing records (no gradient wanted): the NumPy loop, its result as a constant tensor.
    out, _ = _numpy_forward(mode, reverse, valid, *values)
    wrap = cr.tensor if any(type(a) in TRACED_TYPES for a in arguments) else (lambda a: a)
    return tuple(wrap(a) for a in out) if mode == "LSTM" else wrap(out)


def _scan_fwd(xp, h0, c0, w_hh, b_hh, w_hr, *, mode, reverse, valid):
    arguments = (xp, h0, c0, w_hh, b_hh, w_hr)
    options = {"mode": mode, "reverse": reverse, "valid": valid}
    values = _plain_arguments(arguments)
    if values is None:
        return _scan_composed(*arguments, **options), (arguments, options, None)
    out, saved = _numpy_forward(mode, reverse, valid, *values)
    return out, (arguments, options, (values, saved))


def _scan_bwd(residuals, cotangent):
    arguments, options, fast = residuals
    parts = cotangent if options["mode"] == "LSTM" else (cotangent,)
    plain = all(type(part) is np.ndarray or part is None for part in parts)
    if fast is not None and plain and not _recorded(arguments):
        values, saved = fast
        return _numpy_backward(options["mode"], options["reverse"], options["valid"], values,
                               saved, parts)
    # A traced cotangent, or arguments the tape records (cr.grad of a model's own Parameters):
    # differentiate the composed loop, so that the enclosing transform or the tape sees every
    # operation of the backward pass.
    present = [k for k, argument in enumerate(arguments) if argument is not None]

    def scan(*given):
        full = [None] * len(arguments)
        for k, value in zip(present, given, strict=True):
            full[k] = value
        return _scan_composed(*full, **options)

    _, pullback = vjp(scan, *(arguments[k] for k in present))
    found = dict(zip(present, pullback(cotangent), strict=True))
    return tuple(found.get(k) for k in range(len(arguments)))


_scan = custom_vjp(_scan_function)
_scan.defvjp(_scan_fwd, _scan_bwd)


# NumPy kernels. They run the steps in processing order (a reverse direction sees the time axis
# flipped, as views) and return the states in time order.
def _sigmoid_(x):
    """sigmoid(x) in place, as 1/2 + tanh(x/2)/2 (no overflow for large |x|)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def _numpy_forward(mode, reverse, valid, xp, h0, c0, w_hh, b_hh, w_hr):
    if reverse:
        xp = xp[::-1]
        valid = None if valid is None else valid[::-1]
    keep = None if valid is None else ~valid  # where a padded step keeps the previous state
    steps, batch, gates = xp.shape
    hidden = w_hh.shape[0] // _GATES[mode]
    dtype = np.result_type(*(v for v in (xp, h0, c0, w_hh, b_hh, w_hr) if v is not None))
    w_t = np.ascontiguousarray(w_hh.T)  # BLAS is faster on it than on the transposed view
    acts = np.empty((steps, batch, gates), dtype)
    h = h0
    if mode == "LSTM":
        out_size = w_hh.shape[1]
        hs = np.empty((steps, batch, out_size), dtype)
        cs = np.empty((steps, batch, hidden), dtype)
        tanh_cs = np.empty((steps, batch, hidden), dtype)
        ms = np.empty((steps, batch, hidden), dtype) if w_hr is not None else None
        c = c0
        for t in range(steps):
            a = acts[t]
            np.matmul(h, w_t, out=a)
            a += xp[t]
            if b_hh is not None:
                a += b_hh
            _sigmoid_(a[:, :2 * hidden])
            np.tanh(a[:, 2 * hidden:3 * hidden], out=a[:, 2 * hidden:3 * hidden])
            _sigmoid_(a[:, 3 * hidden:])
            c_new = cs[t]
            np.multiply(a[:, hidden:2 * hidden], c, out=c_new)
            c_new += a[:, :hidden] * a[:, 2 * hidden:3 * hidden]
            np.tanh(c_new, out=tanh_cs[t])
            if w_hr is None:
                np.multiply(a[:, 3 * hidden:], tanh_cs[t], out=hs[t])
            else:
                np.multiply(a[:, 3 * hidden:], tanh_cs[t], out=ms[t])
                np.matmul(ms[t], w_hr.T, out=hs[t])
            if keep is not None:
                np.copyto(c_new, c, where=keep[t])
                np.copyto(hs[t], h, where=keep[t])
            h, c = hs[t], c_new
        saved = (acts, hs, cs, tanh_cs, ms)
        out = (hs[::-1], cs[::-1]) if reverse else (hs, cs)
        return out, saved
    hs = np.empty((steps, batch, hidden), dtype)
    if mode == "GRU":
        hn = np.empty((steps, batch, hidden), dtype)  # W_hn h + b_hn, which r multiplies
        gh = np.empty((batch, gates), dtype)
        for t in range(steps):
            np.matmul(h, w_t, out=gh)
            if b_hh is not None:
                gh += b_hh
            a = acts[t]
            np.add(xp[t, :, :2 * hidden], gh[:, :2 * hidden], out=a[:, :2 * hidden])
            _sigmoid_(a[:, :2 * hidden])
            hn[t] = gh[:, 2 * hidden:]
            n = a[:, 2 * hidden:]
            np.multiply(a[:, :hidden], hn[t], out=n)
            n += xp[t, :, 2 * hidden:]
            np.tanh(n, out=n)
            np.subtract(h, n, out=hs[t])
            hs[t] *= a[:, hidden:2 * hidden]
            hs[t] += n
            if keep is not None:
                np.copyto(hs[t], h, where=keep[t])
            h = hs[t]
        saved = (acts, hs, hn)
    else:  # RNN_TANH, RNN_RELU: acts holds the step's new state before masking
        for t in range(steps):
            a = acts[t]
            np.matmul(h, w_t, out=a)
            a += xp[t]
            if b_hh is not None:
                a += b_hh
            if mode == "RNN_TANH":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            hs[t] = a
            if keep is not None:
                np.copyto(hs[t], h, where=keep[t])
            h = hs[t]
        saved = (acts, hs)
    return (hs[::-1] if reverse else hs), saved


def _numpy_backward(mode, reverse, valid, values, saved, cotangents):
    """The cotangents of (xp, h0, c0, w_hh, b_hh, w_hr): the steps in reverse processing order
    on (batch, hidden) arrays, which stay in cache (computing the step-independent factors for
    all steps at once before the loop measured twice as slow), then the weight gradients as one
    product over all steps."""
    xp, h0, c0, w_hh, b_hh, w_hr = values
    steps, batch, gates = xp.shape
    hidden = w_hh.shape[0] // _GATES[mode]
    acts, hs = saved[0], saved[1]
    dtype = acts.dtype
    if reverse and valid is not None:
        valid = valid[::-1]

    def incoming(cotangent, size):  # the outputs' cotangents, in processing order
        if cotangent is None:
            return np.zeros((steps, batch, size), dtype)
        return cotangent[::-1] if reverse else cotangent

    g_h = incoming(cotangents[0], hs.shape[-1])
    previous_h = np.concatenate([h0[None].astype(dtype, copy=False), hs[:-1]])
    d_acts = np.empty((steps, batch, gates), dtype)  # cotangent of W_hh h + b_hh per step
    dh = np.zeros((batch, hs.shape[-1]), dtype)
    d_c0 = d_w_hr = None
    lstm = mode == "LSTM"
    if lstm:
        _, _, cs, tanh_cs, ms = saved
        g_c = incoming(cotangents[1], hidden)
        previous_c = np.concatenate([c0[None].astype(dtype, copy=False), cs[:-1]])
        dc = np.zeros((batch, hidden), dtype)
        dhs = np.empty_like(hs) if w_hr is not None else None
    elif mode == "GRU":
        hn = saved[2]
        d_candidate = np.empty((steps, batch, hidden), dtype)
    h1, h2, h3 = hidden, 2 * hidden, 3 * hidden
    for t in range(steps - 1, -1, -1):
        dh = dh + g_h[t]
        if valid is not None:  # a padded step passes the cotangent on to the previous state
            dh_step = dh * valid[t]
            dh_carry = dh - dh_step
        else:
            dh_step, dh_carry = dh, None
        a, d = acts[t], d_acts[t]
        if lstm:
            dc = dc + g_c[t]
            if valid is not None:
                dc_step = dc * valid[t]
                dc_carry = dc - dc_step
            else:
                dc_step, dc_carry = dc, None
            i, f, g, o = a[:, :h1], a[:, h1:h2], a[:, h2:h3], a[:, h3:]
            if w_hr is not None:
                dhs[t] = dh_step
                dm = dh_step @ w_hr
            else:
                dm = dh_step
            tc = tanh_cs[t]
            dc_step = dc_step + dm * o * (1.0 - tc * tc)
            np.multiply(dc_step * g, i * (1.0 - i), out=d[:, :h1])
            np.multiply(dc_step * previous_c[t], f * (1.0 - f), out=d[:, h1:h2])
            np.multiply(dc_step * i, 1.0 - g * g, out=d[:, h2:h3])
            np.multiply(dm * tc, o * (1.0 - o), out=d[:, h3:])
            dc = dc_step * f
            if dc_carry is not None:
                dc += dc_carry
            dh = d @ w_hh
        elif mode == "GRU":
            r, z, n = a[:, :h1], a[:, h1:h2], a[:, h2:]
            dn, dr, dz = d_candidate[t], d[:, :h1], d[:, h1:h2]
            np.subtract(1.0, z, out=dn)
            np.multiply(dn, z, out=dz)  # z (1 - z)
            dz *= previous_h[t] - n
            dz *= dh_step
            dn *= dh_step
            dn *= 1.0 - n * n  # the candidate's pre-activation
            np.multiply(dn, r, out=d[:, h2:])  # W_hn h + b_hn
            np.subtract(1.0, r, out=dr)
            dr *= r
            dr *= dn
            dr *= hn[t]
            dh = dh_step * z
            dh += d @ w_hh
        else:
            if mode == "RNN_TANH":
                np.multiply(dh_step, 1.0 - a * a, out=d)
            else:
                np.multiply(dh_step, a > 0, out=d)
            dh = d @ w_hh
        if dh_carry is not None:
            dh += dh_carry
    d_w_hh = d_acts.reshape(-1, gates).T @ previous_h.reshape(-1, previous_h.shape[-1])
    d_b_hh = d_acts.sum(axis=(0, 1)) if b_hh is not None else None
    if mode == "GRU":  # xp reaches n directly, W_hn h + b_hn through r
        d_xp = d_acts.copy()
        d_xp[:, :, h2:] = d_candidate
    else:
        d_xp = d_acts
    if lstm:
        d_c0 = dc
        if w_hr is not None:
            d_w_hr = dhs.reshape(-1, hs.shape[-1]).T @ ms.reshape(-1, hidden)
    return (d_xp[::-1] if reverse else d_xp), dh, d_c0, d_w_hh, d_b_hh, d_w_hr


class RNN(_RNNBase):
    """Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), PyTorch's `nn.RNN`.

    forward(input, hx=None, lengths=None, mask=None) -> (output, h_n); see the module
    docstring for shapes, padding and the parameters' names.

    Returns:
        `layer(input, hx=None)` gives (output, h_n) with output (L, N, D * hidden_size)
        ((N, L, ...) if batch_first) and h_n (D * num_layers, N, hidden_size).

    Raises:
        ShapeError: when input's feature axis is not input_size or hx has the wrong shape.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, rng=None,
                 dtype=np.float32, device=None):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(_NONLINEARITIES[nonlinearity], input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, rng, dtype, device)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory, PyTorch's `nn.LSTM` (gates i, f, g, o; optional `proj_size`).

    forward(input, hx=None, lengths=None, mask=None) -> (output, (h_n, c_n)), `hx` a pair
    (h_0, c_0); see the module docstring for shapes, padding and the parameters' names.

    Returns:
        `layer(input, hx=None)` gives (output, (h_n, c_n)), shaped as for RNN (h_n's last
        axis is proj_size when set).

    Raises:
        ShapeError: when input's feature axis is not input_size or hx has the wrong shape.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, rng=None, dtype=np.float32,
                 device=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, rng, dtype, device)


class GRU(_RNNBase):
    """Gated recurrent unit, PyTorch's `nn.GRU` (gates r, z, n; r multiplies W_hn h + b_hn).

    forward(input, hx=None, lengths=None, mask=None) -> (output, h_n); see the module
    docstring for shapes, padding and the parameters' names.

    Returns:
        `layer(input, hx=None)` gives (output, h_n), shaped as for RNN.

    Raises:
        ShapeError: when input's feature axis is not input_size or hx has the wrong shape.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, rng=None, dtype=np.float32,
                 device=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, rng, dtype, device)


# ----- the cells -------------------------------------------------------------------------------
class _CellBase(Module):
    """One time step: parameters weight_ih (gates, input), weight_hh (gates, hidden), bias_ih,
    bias_hh, each U(-1/sqrt(hidden), 1/sqrt(hidden)) as in PyTorch."""

    def __init__(self, mode, input_size, hidden_size, bias, rng, dtype, device):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        if self.input_size <= 0 or self.hidden_size <= 0:
            raise ValueError(
                f"{type(self).__name__}: input_size and hidden_size must be positive, got "
                f"{self.input_size} and {self.hidden_size}"
            )
        self.bias = bool(bias)
        rng = np.random.default_rng(rng)
        gates = _GATES[mode] * self.hidden_size
        self.weight_ih = _uniform((gates, self.input_size), self.hidden_size, rng, dtype)
        self.weight_hh = _uniform((gates, self.hidden_size), self.hidden_size, rng, dtype)
        self.bias_ih = _uniform((gates,), self.hidden_size, rng, dtype) if self.bias else None
        self.bias_hh = _uniform((gates,), self.hidden_size, rng, dtype) if self.bias else None

    def forward(self, input, hx=None):  # noqa: A002 - PyTorch's name
        shape = tuple(cnp.shape(input))
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ShapeError(
                f"{self!r} expects input of shape (B, {self.input_size}) or, unbatched, "
                f"({self.input_size},), got {shape}"
            )
        check_input_dtype(self, input)
        lstm = self.mode == "LSTM"
        expected = shape[:-1] + (self.hidden_size,)
        if hx is None:
            zeros = np.zeros(expected, _state_dtype(input, self.weight_ih))
            state = (zeros, zeros) if lstm else (zeros,)
        else:
            state = tuple(hx) if lstm and isinstance(hx, (tuple, list)) else (hx,)
            if len(state) != (2 if lstm else 1):
                raise ValueError(
                    f"{type(self).__name__}: the state must be "
                    + ("a pair (h, c)" if lstm else "one array h") + f", got {_describe(hx)}"
                )
            for part in state:
                check_input_dtype(self, part)
                if tuple(cnp.shape(part)) != expected:
                    raise ShapeError(
                        f"{self!r} expects a state of shape {expected} for input of shape "
                        f"{shape}, got {tuple(cnp.shape(part))}"
                    )
        projected = F.linear(input, self.weight_ih, self.bias_ih)
        new = _STEPS[self.mode](projected, state, self.weight_hh, self.bias_hh)
        return new if lstm else new[0]

    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if not self.bias:
            parts.append("bias=False")
        if self.mode == "RNN_RELU":
            parts.append("nonlinearity='relu'")
        return ", ".join(parts)


class RNNCell(_CellBase):
    """One Elman step, PyTorch's `nn.RNNCell`: forward(input, hx=None) -> h'.

    Returns:
        `cell(input, hx=None)` gives h' of shape (N, hidden_size) (or (hidden_size,)).
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *, rng=None,
                 dtype=np.float32, device=None):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__(_NONLINEARITIES[nonlinearity], input_size, hidden_size, bias, rng,
                         dtype, device)
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One LSTM step, PyTorch's `nn.LSTMCell`: forward(input, hx=None) -> (h', c'), `hx` a
    pair (h, c).

    Returns:
        `cell(input, hx=None)` gives (h', c'), each of shape (N, hidden_size).
    """

    def __init__(self, input_size, hidden_size, bias=True, *, rng=None, dtype=np.float32,
                 device=None):
        super().__init__("LSTM", input_size, hidden_size, bias, rng, dtype, device)


class GRUCell(_CellBase):
    """One GRU step, PyTorch's `nn.GRUCell`: forward(input, hx=None) -> h'.

    Returns:
        `cell(input, hx=None)` gives h' of shape (N, hidden_size) (or (hidden_size,)).
    """

    def __init__(self, input_size, hidden_size, bias=True, *, rng=None, dtype=np.float32,
                 device=None):
        super().__init__("GRU", input_size, hidden_size, bias, rng, dtype, device)
