"""Trace levels and grad mode: how nested transforms keep their perturbations apart.

Every differentiated value carries the `Trace` it belongs to. Level 0 is the Tensor API's tape
(PyTorch style, core/tape.py); each call of a functional transform (`grad`, `jvp`, ...) opens
a fresh level with a larger number. `bind` applies a primitive at the innermost (largest) level
among its arguments; values of lower levels are constants there. This is what makes
d/dx [x * d/dy (x + y)] = 1 rather than 2. What differs from level to level (is this value
differentiated here, what is one level down, may it become a number) is asked of the trace.
"""

import itertools
import threading

from chainrule.core.primitive import TRACED_TYPES

__all__ = [
    "Trace", "new_level", "raw_value", "physical_value", "strip_derivatives", "batched_like",
    "batch_traces",
    "is_grad_enabled",
    "no_grad", "enable_grad", "set_grad_enabled",
]

_level_counter = itertools.count(1)


def new_level() -> int:
    """A level number larger than every level opened before it (unique across threads)."""
    return next(_level_counter)


def raw_value(value):
    """The plain NumPy value under any number of trace levels.

    Raises BatchingError for a value batched by `cr.vmap`: its plain value holds every example
    along extra leading axes, so whatever used it as one example's value would be silently
    wrong (shapes, axes, masks). Code that knows about the batch axes reads `physical_value`.
    At `cr.jit`'s staging level the value read is recorded as a guard of the staged program
    (core/staging.py): a replay whose value differs traces the function again."""
    while type(value) in TRACED_TYPES:
        trace = value._trace
        if trace.intercepts:  # vmap refuses; jit's staging level records a guard
            return trace.read(value)
        value = value._value
    return value


def strip_derivatives(value):
    """`value` as a constant at every differentiation level, still batched at every vmap level:
    what masks and indices are computed from. (A mask from the plain value would hold all the
    examples, and under vmap that is not one example's mask.) A plain value is returned as is."""
    if type(value) not in TRACED_TYPES:
        return value
    return batched_like(value, physical_value(value))


def batch_traces(value) -> list:
    """The vmap levels `value` is batched at, innermost (highest level) first: one leading axis
    of its stored array each, the outermost's first. (The hot paths, shape_of and aval, walk
    the levels themselves.)"""
    levels = []
    while type(value) in TRACED_TYPES:
        if value._trace.batched:
            levels.append(value._trace)
        value = value._value
    return levels


def batched_like(value, array):
    """`array`, stored like `value` (a leading axis per vmap level), as a constant batched at
    the same vmap levels as `value`: each example gets its own slice (a random mask drawn for
    the whole batch, say). `array` itself when `value` is not batched."""
    for trace in reversed(batch_traces(value)):  # the outermost vmap (lowest level) boxes first
        array = trace.box(array)
    return array


def physical_value(value):
    """The stored array under every level, batch axes of `cr.vmap` levels included (leading,
    outermost vmap first). For the engine's own use: users' code sees one example's shape.
    Inside `cr.jit` the walk stops at the staging level, whose values stand for the arrays of
    every later call: a value read below it would be baked into the program."""
    while type(value) in TRACED_TYPES and not value._trace.staged:
        value = value._value
    return value


class Trace:
    """One level of differentiation. Subclasses say how a primitive is applied there (`process`)
    and how a value enters the level (`box`).

    `adopted` lists tensors made outside this level that an in-place operation inside it moved
    onto it (`total += x` with `total = cr.tensor(0.0)`); when the transform that opened the
    level returns, they are moved back down (see `core.tape.release_level`), so no traced
    value outlives its transform.
    """

    __slots__ = ("level", "adopted")

    # Whether the values of this level are numbers: true of the tape alone, the bottom level,
    # where nothing lies below and tensors hold NumPy arrays. At a transform's level a value
    # stands for a variable, and turning it into a number would drop its derivative.
    concrete = False
    # Whether this level's values carry an extra leading batch axis (a `cr.vmap` level): their
    # shape, as every rule and user sees it, leaves that axis out (core/dtypes.shape_of).
    batched = False
    # Whether this is `cr.jit`'s staging level (core/staging.py): the floor of every walk down
    # the levels, since what lies below a staged value is one call's array.
    staged = False
    # Whether `raw_value` must ask this level (`read`) rather than look below it.
    intercepts = False

    def __init__(self, level: int):
        self.level = level
        self.adopted = None

    def owns(self, value) -> bool:
        """Whether `value` is differentiated at this level."""
        return type(value) in TRACED_TYPES and value._trace is self

    def unbox(self, value):
        """`value` one level down: this level's box removed, enclosing levels' boxes kept."""
        if type(value) in TRACED_TYPES and value._trace is self:
            return value._value
        return value

    def recording(self) -> bool:
        """Whether operations on this level's values are recorded now (the tape: grad mode)."""
        return True

    def box(self, value, *tangent):  # pragma: no cover - abstract
        """`value` as an input differentiated at this level (with its tangent at a forward
        level). Transforms enter a level through `transforms._levels._enter_level`."""
        raise NotImplementedError

    def process(self, primitive, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def adopt(self, tensor):
        """Note a tensor from outside that an in-place operation moved onto this level."""
        if self.adopted is None:
            self.adopted = []
        self.adopted.append(tensor)

    def backward(self, output, gradient, retain_graph, create_graph):
        """`output.backward()`: only the tape has a graph to walk from a tensor."""
        raise RuntimeError(
            "backward() on a value traced inside a functional transform; inside cr.grad/cr.vjp "
            "return the value instead and let the transform differentiate it (inside cr.vmap, "
            "for per-example gradients, use cr.vmap(cr.grad(f)))."
        )

    def __repr__(self):
        return f"<{type(self).__name__} level={self.level}>"


class _GradMode(threading.local):
    # Thread-local so two threads can train and evaluate side by side.
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether the Tensor API records operations now (in this thread).

    Returns:
        bool: False inside `no_grad` (or after `set_grad_enabled(False)`), True otherwise.
        Functional transforms (grad, jvp, ...) differentiate regardless of it.

    Example:
        >>> with cr.no_grad():
        ...     cr.is_grad_enabled()                        # False
    """
    return _grad_mode.enabled


class _GradModeSwitch:
    """Sets grad mode inside a `with` block or a decorated function, restoring it afterwards."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = []

    def __enter__(self):
        self._previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _grad_mode.enabled = self._previous.pop()
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode) if type(self) is set_grad_enabled else type(self)():
                return function(*args, **kwargs)

        return wrapper


class _BareDecorator(_GradModeSwitch):
    """A switch that also decorates without parentheses (`@cr.no_grad`, as PyTorch allows):
    called with a function, the class returns the decorated function itself."""

    def __new__(cls, function=None):
        if function is not None:
            if not callable(function):
                raise TypeError(
                    f"cr.{cls.__name__}() takes no arguments; use it as `with cr.{cls.__name__}():`"
                    f", `@cr.{cls.__name__}` or `@cr.{cls.__name__}()`"
                )
            return cls()(function)
        return super().__new__(cls)


class no_grad(_BareDecorator):
    """Record nothing inside: `with cr.no_grad(): ...`, `@cr.no_grad` or `@cr.no_grad()`.
    Thread-local.

    Returns:
        A context manager (`with` gives the switch itself); applied to a function, the
        function wrapped so that each call runs under no_grad. Tensors computed inside do not
        require grad and have no grad_fn; the previous mode comes back on exit.

    Raises:
        TypeError: called with an argument that is not a function (`cr.no_grad(x)`).

    Example:
        >>> with cr.no_grad():
        ...     w -= 0.1 * w.grad                           # an update, not recorded
    """

    def __init__(self, function=None):
        super().__init__(False)


class enable_grad(_BareDecorator):
    """Record again inside a `no_grad` block (`with`, `@cr.enable_grad`, `@cr.enable_grad()`).
    Thread-local.

    Returns:
        A context manager (`with` gives the switch itself); applied to a function, the
        function wrapped so that each call records. The previous mode comes back on exit.

    Raises:
        TypeError: called with an argument that is not a function.

    Example:
        >>> with cr.no_grad():
        ...     with cr.enable_grad():
        ...         y = x * 2                               # recorded: y.requires_grad
    """

    def __init__(self, function=None):
        super().__init__(True)


class set_grad_enabled(_GradModeSwitch):
    """`cr.set_grad_enabled(flag)`: as a plain call it switches at once; as a context manager or
    decorator it switches inside and restores afterwards (PyTorch's semantics).

    Returns:
        The switch: a context manager (the `with` target is the switch itself) and a decorator;
        `mode` is read as a bool.

    Example:
        >>> with cr.set_grad_enabled(is_training):
        ...     loss = model(x).sum()
    """

    def __init__(self, mode: bool):
        super().__init__(mode)
        self._before_call = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self):
        self._previous.append(self._before_call)
        _grad_mode.enabled = self.mode
        return self

    def __call__(self, function):
        _grad_mode.enabled = self._before_call  # used as a decorator: creating it changes nothing
        return super().__call__(function)
