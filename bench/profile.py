"""Where chainrule's time goes: a cProfile breakdown by engine stage, plus profiler-free costs.

cProfile charges every Python call the same hook overhead, so it inflates small functions; the
shares below are a map, not a stopwatch. NumPy ufuncs are not Python functions to cProfile:
their time lands in the caller (the `record` stage for forward impls). The profiler-free part
times the same chain with plain NumPy, forward alone, and the engine's building blocks with
`timeit`, which splits the real per-op time into NumPy work, forward overhead and backward.
"""

import cProfile
import os
import pstats
import timeit

import numpy as np

__all__ = ["profile_cases", "categorise"]

# (file suffix, function name or None for any) -> stage; first match wins.
_STAGES = (
    (("core/primitive.py", "bind"), "bind (find trace level)"),
    (("core/primitive.py", "apply_impl"), "bind (find trace level)"),
    (("core/primitive.py", None), "residual pick (saves)"),
    (("core/tape.py", "process"), "record on tape (+ NumPy ufunc time)"),
    (("core/tape.py", None), "backward: leaves, seed, .grad"),
    (("core/backward.py", "__init__"), "Node creation"),
    (("core/backward.py", "_input_cotangents"), "VJP dispatch (_input_cotangents)"),
    (("core/backward.py", "add_cotangents"), "add_cotangents"),
    (("core/backward.py", "fit"), "fit (unbroadcast, cast)"),
    (("core/backward.py", "_count_children"), "backward: count children"),
    (("core/backward.py", "backward_pass"), "backward: walk"),
    (("core/backward.py", "_accumulate_leaf"), "backward: leaves, seed, .grad"),
    (("core/backward.py", None), "backward: leaves, seed, .grad"),
    (("core/tensor.py", "__init__"), "Tensor creation"),
    (("core/tensor.py", "tensor"), "cr.tensor / item / conversions"),
    (("core/tensor.py", "item"), "cr.tensor / item / conversions"),
    (("core/tensor.py", "raw_value"), "cr.tensor / item / conversions"),
    (("core/tensor.py", "method"), "Tensor operator methods"),
    (("core/tensor.py", "_inplace"), "in-place update (SGD)"),
    (("core/tensor.py", "inplace_update"), "in-place update (SGD)"),
    (("core/tensor.py", "_overwrite_leaf"), "in-place update (SGD)"),
    (("core/tensor.py", "__array_ufunc__"), "NumPy dispatch (NEP-13/18)"),
    (("core/tensor.py", "__array_function__"), "NumPy dispatch (NEP-13/18)"),
    (("core/tensor.py", None), "Tensor properties and methods"),
    (("core/trace.py", None), "grad mode switches"),
    (("core/dtypes.py", None), "cr.tensor / item / conversions"),
    (("ops/_rules.py", "implementation"), "impl dispatch (via_operator)"),
    (("ops/_rules.py", None), "VJP rule calls (rule helpers)"),
    (("ops/elementwise.py", None), "VJP rule bodies"),
    (("ops/", None), "VJP rule bodies"),
    (("chainrule/numpy/", None), "chainrule.numpy wrappers"),
    (("chainrule/transforms/", None), "functional transforms (set-up, custom rules, batching)"),
    (("chainrule/nn/functional.py", None), "chainrule.nn.functional (losses, conv)"),
    (("chainrule/nn/", None), "chainrule.nn modules"),
    (("chainrule/optim/", None), "chainrule.optim (optimiser step)"),
    (("core/inplace.py", None), "in-place version checks"),
    (("site-packages/numpy/", None), "NumPy Python-level code"),
    (("bench/", None), "benchmark driver"),
)


def categorise(filename, function):
    path = filename.replace(os.sep, "/")
    for (suffix, name), stage in _STAGES:
        if suffix in path and (name is None or name == function):
            return stage
    if filename == "~":
        if "_operator." in function:  # impls call operator.mul & co. on arrays: NumPy's work
            return "C built-ins (operator.*: NumPy arithmetic)"
        return "C built-ins (" + ("numpy" if "numpy" in function else "list/tuple/dict") + ")"
    return "other"


def _profile(step, calls):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    return pstats.Stats(profiler)


def _print_breakdown(stats, calls, per, unit):
    stages = {}
    functions = []
    for (filename, _, function), (_, ncalls, tottime, _, _) in stats.stats.items():
        stage = categorise(filename, function)
        total, count = stages.get(stage, (0.0, 0))
        stages[stage] = (total + tottime, count + ncalls)
        functions.append((tottime, ncalls, f"{os.path.basename(filename)}:{function}"))
    grand = sum(total for total, _ in stages.values())
    units = calls * per
    print(f"    {'stage':<42}{'share':>7}{'us/' + unit:>12}{'calls/' + unit:>14}")
    for stage, (total, count) in sorted(stages.items(), key=lambda item: -item[1][0]):
        print(f"    {stage:<42}{100 * total / grand:6.1f}%{total / units * 1e6:12.2f}"
              f"{count / units:14.2f}")
    print(f"    {'total under the profiler':<42}{'':>7}{grand / units * 1e6:10.2f}")
    print("    top functions by own time:")
    for tottime, ncalls, name in sorted(functions, reverse=True)[:12]:
        per_unit = tottime / units * 1e6
        print(f"      {name:<48}{per_unit:8.2f} us/{unit}  {ncalls / units:6.2f} calls")


def _best_seconds(function, number, repeat=7):
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def chain_split(cycles=400):
    """Profiler-free split of one op of case (a): NumPy alone, forward, forward + backward."""
    import chainrule as cr
    import chainrule.numpy as cnp
    from bench.core_ops import CHAIN_START, _chain, chain_step_chainrule

    ops = 5 * cycles
    start = np.array(CHAIN_START)
    numpy_only = _best_seconds(lambda: _chain(start, np.tanh, np.exp, np.sin, cycles), 20) / ops

    def forward():
        x = cr.tensor(CHAIN_START, requires_grad=True)
        return _chain(x, cnp.tanh, cnp.exp, cnp.sin, cycles)

    forward_only = _best_seconds(forward, 20) / ops
    total = _best_seconds(chain_step_chainrule(cycles), 20) / ops
    return numpy_only, forward_only, total


def stage_costs():
    """The engine's stages for one tanh op on a 0-d float64 value, each timed in isolation.
    Each line includes the lines it builds on (marked by indentation)."""
    import chainrule as cr
    from chainrule.core import backward
    from chainrule.core.backward import Node
    from chainrule.core.primitive import bind
    from chainrule.core.tape import TAPE

    tanh, multiply = cr.REGISTRY["tanh"], cr.REGISTRY["multiply"]
    value = np.array(0.5)
    leaf = cr.tensor(0.5, requires_grad=True)
    inner = tanh(leaf)
    node = inner._node
    out = node.residuals[0]
    cotangent = np.array(1.0)
    rule = tanh.vjps[0]
    n = 30_000
    return [
        ("forward: cnp.tanh(t) = bind + record + impl + Node + Tensor",
         _best_seconds(lambda: tanh(inner), n)),
        ("  TAPE.process(tanh, (t,), {})",
         _best_seconds(lambda: TAPE.process(tanh, (inner,), {}), n)),
        ("    np.tanh(0-d array) (the NumPy work)", _best_seconds(lambda: np.tanh(value), n)),
        ("    Node(...)", _best_seconds(
            lambda: Node(tanh, {}, (node,), (out,), (((), value.dtype),)), n)),
        ("    Tensor(value, TAPE, node, True)",
         _best_seconds(lambda: cr.Tensor(value, TAPE, node, True), n)),
        ("    tanh.pick(values, out) (residuals)",
         _best_seconds(lambda: tanh.pick((value,), out), n)),
        ("forward: t * u (operator -> bind -> via_operator)",
         _best_seconds(lambda: inner * inner, n)),
        ("  bind(multiply, t, u) without the operator method",
         _best_seconds(lambda: bind(multiply, inner, inner), n)),
        ("  0-d array * 0-d array (the NumPy work)", _best_seconds(lambda: value * value, n)),
        ("backward: backward._input_cotangents(tanh node)",
         _best_seconds(lambda: backward._input_cotangents(node, cotangent, None), n)),
        ("  tanh VJP rule: g * (1 - out * out)",
         _best_seconds(lambda: rule(cotangent, out), n)),
        ("    the same three NumPy ops inline",
         _best_seconds(lambda: cotangent * (1.0 - out * out), n)),
        *_walk_costs(),
        ("Python: an empty function call", _best_seconds(lambda: None, n)),
    ]


def _walk_costs(cycles=400):
    """backward_pass over a recorded 2,000-op chain (retain_graph, so it can rerun), per node."""
    import chainrule as cr
    import chainrule.numpy as cnp
    from bench.core_ops import _chain
    from chainrule.core import backward

    x = cr.tensor(0.5, requires_grad=True)
    root = _chain(x, cnp.tanh, cnp.exp, cnp.sin, cycles)._node
    ops = 5 * cycles
    seed = np.float64(1.0)
    walk = _best_seconds(lambda: backward.backward_pass([(root, seed)], retain_graph=True), 20)
    count = _best_seconds(lambda: backward._count_children([root]), 20)
    return [
        ("backward: backward_pass, per node of the chain", walk / ops),
        ("  backward._count_children, per node", count / ops),
    ]


def _print_chain_costs():
    numpy_only, forward_only, total = chain_split()
    print("\n(a) profiler-free split of one op (best of 5 runs of 20 chains)")
    print(f"    NumPy alone on 0-d arrays (the floor)         {numpy_only * 1e6:7.2f} us/op")
    print(f"    chainrule forward (records the graph)         {forward_only * 1e6:7.2f} us/op"
          f"  -> overhead {(forward_only - numpy_only) * 1e6:.2f} us")
    print(f"    chainrule backward (total - forward)          {(total - forward_only) * 1e6:7.2f}"
          " us/op")
    print(f"    chainrule forward + backward                  {total * 1e6:7.2f} us/op")
    print("    stages of one op, each timed alone (best of 5):")
    for name, seconds in stage_costs():
        print(f"      {name:<62}{seconds * 1e9:7.0f} ns")


def profile_cases(cases, quick=False):
    """cProfile chainrule's column of each timing case; print stages and top functions."""
    for case in cases:
        builder = case.builders.get("chainrule")
        if builder is None:
            continue
        try:
            step = builder()
        except Exception as exc:  # noqa: BLE001 - an unavailable feature: say so and go on
            print(f"\n({case.key}) not profiled: {exc}")
            continue
        step()
        seconds = _best_seconds(step, 1, repeat=3)
        calls = max(1, int((0.3 if quick else 1.5) / max(seconds, 1e-6)))
        print(f"\n({case.key}) {case.title} - cProfile over {calls} calls")
        _print_breakdown(_profile(step, calls), calls, case.per, case.unit)
    if any(case.key == "a" for case in cases):
        _print_chain_costs()
