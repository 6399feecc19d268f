"""`chainrule demo` (what `make demo` runs): the seed example f(x, y) = (x + y)(x - y) explained
in both modes, its graph and tables written to demo-output/, a grouped picture of a small MLP,
then a short training run once `chainrule.cli.train` provides one.
"""

import importlib
import os
import sys

import numpy as np

import chainrule.numpy as cnp
from chainrule.cli.explain import explain_graph
from chainrule.errors import ChainruleError
from chainrule.viz import trace
from chainrule.viz.dot import write_file

__all__ = ["add_parser", "run", "SEED_EXPRESSION", "SEED_POINT", "write_seed_files"]

SEED_EXPRESSION = "(x + y) * (x - y)"
SEED_POINT = ["x=3", "y=2"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="explain the seed example f(x, y) = (x + y)(x - y) and draw its graph",
        description="Explain f(x, y) = (x + y) * (x - y) at x = 3, y = 2 in forward and "
        "reverse mode, write its graph (SVG) and tables to the output folder, draw a small "
        "MLP, and run a short training demo when available.",
    )
    parser.add_argument("--out", default="demo-output", metavar="DIR",
                        help="folder for the pictures and tables (default: demo-output)")
    parser.add_argument("--no-train", action="store_true", help="skip the training demo")
    parser.set_defaults(handler=run)
    return parser


def _write_text(path, text):
    return write_file(path, (text if text.endswith("\n") else text + "\n").encode("utf-8"))


def _render(graph, path, notes, **options):
    """Draw if Graphviz is there; otherwise keep the DOT file and say how to get pictures."""
    try:
        return [graph.render(path, **options)]
    except ImportError as exc:
        notes.append(f"no picture: {exc}")
        dot_path = os.path.splitext(path)[0] + ".dot"
        return [_write_text(dot_path, graph.to_dot(**options))]


def write_seed_files(out_dir, notes):
    """The seed example: text explanation (returned), its tables and its graph (written)."""
    graph = explain_graph(SEED_EXPRESSION, SEED_POINT)
    written = _render(graph, os.path.join(out_dir, "seed-graph.svg"), notes)
    for suffix, format_name in (("md", "markdown"), ("html", "html"), ("json", "json")):
        path = os.path.join(out_dir, f"seed-explain.{suffix}")
        written.append(_write_text(path, graph.explain(format=format_name)))
    return graph.explain(format="text"), written


def small_mlp(x, w1, b1, w2, b2, w3, b3, target):
    """Three dense layers and a mean squared error: a graph big enough to need grouping."""
    hidden = cnp.tanh(x @ w1 + b1)
    hidden = cnp.tanh(hidden @ w2 + b2)
    prediction = hidden @ w3 + b3
    return cnp.mean((prediction - target) ** 2)


def mlp_graph():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3, 8), (8,), (8, 8), (8,), (8, 1), (1,), (4, 1)]
    return trace(small_mlp, *(rng.normal(size=shape) for shape in shapes))


def run_training_hook(out_dir):
    """HOOK (training helper): a short training run, once chainrule.cli.train defines
    `run_demo_training(out_dir)` (returning the path, or the paths, it wrote). Skipped while
    it does not; returns the list of paths, or None when there was no training demo."""
    try:
        train = importlib.import_module("chainrule.cli.train")
    except ModuleNotFoundError as exc:
        if exc.name != "chainrule.cli.train":
            raise
        return None
    run_demo_training = getattr(train, "run_demo_training", None)
    if run_demo_training is None:
        return None
    written = run_demo_training(out_dir)
    if written is None:
        return []
    if isinstance(written, (str, os.PathLike)):
        return [os.fspath(written)]
    return [os.fspath(path) for path in written]


def run(args) -> int:
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    notes = []
    try:
        text, written = write_seed_files(out_dir, notes)
        print(text)
        mlp = mlp_graph()
        mlp.title = "small_mlp"
        written += _render(mlp, os.path.join(out_dir, "mlp-graph.svg"), notes)
    except ChainruleError as exc:
        print(f"chainrule demo: {exc}", file=sys.stderr)
        return 1
    training = None
    if not args.no_train:
        print("\nA short training run (chainrule train):", flush=True)
        training = run_training_hook(out_dir)
        if training is None:
            print("(training demo: not available yet in this version)")
    print()
    written += training or []
    for note in notes:
        print(f"note: {note}")
    print(f"Files written to {os.path.abspath(out_dir)}:")
    for path in written:
        print(f"  {path}")
    return 0
