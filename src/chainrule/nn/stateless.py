"""`functional_call`: a Module run as a pure function of its parameters (torch.func's spelling).

For the duration of one call the module's parameter (and, if given, buffer) attributes hold the
values passed in, which may be traced values of any transform; afterwards the originals are back.
That turns a stateful model into `loss(params, x, y)`, which `cr.grad`, `cr.vmap`, `cr.jacrev`
and `cr.hessian` take apart like any other function of arrays.
"""

import chainrule.numpy as cnp
from chainrule.errors import ShapeError
from chainrule.nn.module import Module, StateDictError

__all__ = ["functional_call"]


def functional_call(module: Module, params, args=(), kwargs=None, *, strict: bool = True):
    """Call `module(*args, **kwargs)` with its parameters replaced by the values in `params`.

    The semantics of `torch.func.functional_call`: each value is used as it is (a NumPy array,
    a Tensor, a value traced by `cr.grad`, `cr.vmap`, `cr.jacrev`... — never copied into a
    Parameter or converted), and the module's own Parameters and buffers are put back when the
    call returns or raises. Neither the values passed nor the stored parameters are modified.

    Args:
        module: the Module to call.
        params: a dict {dotted name: value} with names as in `module.named_parameters()` /
            `module.state_dict()` (`"0.weight"`, `"encoder.fc.bias"`), or a tuple of such dicts
            (`(params, buffers)`). Buffers (BatchNorm's running statistics) may be included;
            those not given keep the module's values. A tied parameter may be given under any
            of its names. Each value must have the parameter's shape (under `cr.vmap`, one
            example's shape).
        args: the positional arguments, a tuple; anything else is the single argument.
        kwargs: the keyword arguments, a dict.
        strict: every parameter must be given (the default). `strict=False` allows a subset;
            the others keep the module's values. Unknown names are an error either way.

    Returns:
        Whatever `module(*args, **kwargs)` returns.

    Raises:
        StateDictError: names that are not parameters or buffers of the module, or (strict)
            parameters missing from `params`; the message lists them all.
        ShapeError: a value whose shape differs from its parameter's or buffer's.
        ValueError: two names of one tied parameter given different values.

    Only the attributes are swapped: inside the call `module.parameters()` still lists the
    module's own Parameters. A buffer given in `params` is read-only for the call: what the
    forward pass writes to it (BatchNorm's running statistics in training mode) is discarded
    with the swap; buffers not given are updated as in a plain call. The swap is visible to
    other threads using the same module during the call.

    Example:
        >>> grads = cr.grad(lambda p: F.mse_loss(nn.functional_call(model, p, (x,)), y))(
        ...     model.parameters_dict())
    """
    values = _merged(params)
    slots, aliases = _slots(module)
    _check_names(module, values, slots, aliases, strict)
    assignments = _assignments(values, slots, aliases)
    originals = []
    try:
        for owner, attribute, value in assignments:
            originals.append((owner, attribute, owner.__dict__[attribute]))
            object.__setattr__(owner, attribute, value)
        arguments = args if isinstance(args, tuple) else (args,)
        return module(*arguments, **(kwargs or {}))
    finally:
        for owner, attribute, original in reversed(originals):
            object.__setattr__(owner, attribute, original)


def _merged(params) -> dict:
    dicts = params if isinstance(params, (tuple, list)) else (params,)
    merged = {}
    for index, part in enumerate(dicts):
        if not isinstance(part, dict):
            raise TypeError(
                f"functional_call: params must be a dict {{name: value}} or a tuple of dicts, got "
                f"{type(part).__name__}" + (f" at position {index}" if len(dicts) > 1 else "")
                + "; use model.parameters_dict() for the module's own values."
            )
        repeated = sorted(set(merged) & set(part))
        if repeated:
            raise ValueError(f"functional_call: names given in two dicts: {', '.join(repeated)}")
        merged.update(part)
    return merged


def _slots(module):
    """(slots, aliases): slots lists, per parameter or buffer, the (owner, attribute) places it
    occupies (a tied parameter has several); aliases maps every dotted name to its slot."""
    slots, aliases, by_identity = [], {}, {}
    for prefix, owner in module.named_modules(remove_duplicate=False):
        dot = f"{prefix}." if prefix else ""
        entries = [(name, ("parameter", id(value)), value)
                   for name, value in owner._parameters.items()]
        entries += [(name, ("buffer", id(owner), name), value)
                    for name, value in owner._buffer_items()]
        for name, identity, value in entries:
            if identity not in by_identity:
                by_identity[identity] = len(slots)
                slots.append({"name": dot + name, "kind": identity[0], "places": [],
                              "shape": tuple(cnp.shape(value))})
            slot = by_identity[identity]
            places = slots[slot]["places"]
            if not any(place is owner and attribute == name for place, attribute in places):
                places.append((owner, name))
            aliases[dot + name] = slot
    return slots, aliases


def _check_names(module, values, slots, aliases, strict):
    unexpected = [name for name in values if name not in aliases]
    given = {aliases[name] for name in values if name in aliases}
    missing = [slot["name"] for index, slot in enumerate(slots)
               if strict and slot["kind"] == "parameter" and index not in given]
    if not (missing or unexpected):
        return
    parts = [f"functional_call({type(module).__name__}) got names that do not match its "
             "parameters and buffers:"]
    if missing:
        parts.append(f"  missing parameters: {', '.join(missing)}")
    if unexpected:
        known = list(aliases)
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        parts.append(f"  unknown names: {', '.join(unexpected)} (the module has: {shown})")
    parts.append(
        "Use the names of model.parameters_dict() (buffers: dict(model.named_buffers())), or "
        "pass strict=False to give only some parameters (the others keep the module's values)."
    )
    raise StateDictError("\n".join(parts))


def _assignments(values, slots, aliases):
    """[(owner, attribute, value)] to swap in; checks shapes and tied names."""
    chosen, misshaped = {}, []
    for name, value in values.items():
        slot = aliases[name]
        if slot in chosen and chosen[slot][1] is not value:
            raise ValueError(
                f"functional_call: {chosen[slot][0]} and {name} name one tied parameter but were "
                "given different values; give it under one name."
            )
        chosen[slot] = (name, value)
        expected = slots[slot]["shape"]
        if tuple(cnp.shape(value)) != expected:
            misshaped.append(f"{name}: expected {expected}, got {tuple(cnp.shape(value))}")
    if misshaped:
        raise ShapeError(
            "functional_call: values whose shape differs from the module's: "
            + "; ".join(misshaped)
            + " (under cr.vmap a value's shape is one example's shape)."
        )
    return [(owner, attribute, value)
            for slot, (_, value) in chosen.items()
            for owner, attribute in slots[slot]["places"]]
