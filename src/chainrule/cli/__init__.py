"""The `chainrule` command (also `python -m chainrule`).

Each subcommand lives in its own module here and exposes `add_parser(subparsers)`, which
registers its arguments and sets `run` as the handler. User expressions are parsed with `ast`
against a whitelist, never evaluated.
"""

import argparse
import importlib
import sys

SUBCOMMANDS = ["explain", "demo", "train"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Automatic differentiation for NumPy: see and use the chain rule.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"chainrule.cli.{name}").add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
