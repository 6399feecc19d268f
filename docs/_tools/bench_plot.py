"""Tables and a bar chart from the JSON that `python -m bench --json FILE` writes.

    python docs/_tools/bench_plot.py stamp FILE --name NAME --command CMD   # once, after the run
    python docs/_tools/bench_plot.py show FILE                             # the tables as text

`stamp` adds a "machine" record (CPU model, cores, memory, Python and library versions, the date
and the command that ran the benchmarks) to the file; run it with the interpreter that ran the
benchmarks, so the versions are those measured. The Benchmarks page of the site calls `table`
and `figure` on the committed file at build time, so every number and bar on it comes from that
file.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import sys

LABELS = {
    "chainrule": "chainrule", "chainrule-loop": "chainrule loop",
    "chainrule-eager": "chainrule eager", "dask-by-hand": "Dask by hand", "torch": "PyTorch",
    "autograd": "HIPS autograd", "jax": "JAX eager", "jax-jit": "JAX jit",
}
PEERS = ("torch", "autograd", "jax", "jax-jit", "chainrule-loop", "chainrule-eager",
         "dask-by-hand")


def load(path):
    with open(path) as handle:
        return json.load(handle)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_record(name, command):
    packages = ("chainrule", "numpy", "torch", "autograd", "jax", "jaxlib")
    return {
        "name": name,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {package: _version(package) for package in packages},
        "date": datetime.date.today().isoformat(),
        "command": command,
    }


def stamp(path, name, command):
    payload = load(path)
    payload["machine"] = machine_record(name, command)
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)


def describe_machine(payload):
    machine = payload.get("machine")
    if not machine:
        return "machine not recorded"
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    memory = f", {machine['memory_gib']} GiB" if machine.get("memory_gib") else ""
    return (f"{machine['name']}: {machine['cpu']}, {machine['cores']} cores{memory}, "
            f"{machine['os']}, Python {machine['python']}; {versions}; measured "
            f"{machine['date']} by `{machine['command']}`")


def _format_time(seconds):
    for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {suffix}"
    return f"{seconds:.3g} s"


def rows(payload):
    """One dict per case: its title, unit, median times and median chainrule/peer ratios."""
    result = []
    for case in payload["cases"]:
        times = {lib: statistics.median(values) for lib, values in case["times"].items()}
        ratios = {lib: statistics.median(values) for lib, values in case["ratios"].items()}
        result.append({"key": case["key"], "title": case["title"], "unit": case["unit"],
                       "times": times, "ratios": ratios, "target": case.get("target"),
                       "targets": case.get("targets") or {}})
    return result


def table(payload):
    """A Markdown table: median time per unit for each library, chainrule/peer in brackets."""
    libraries = [lib for lib in LABELS if any(lib in row["times"] for row in rows(payload))]
    header = "| case | " + " | ".join(LABELS[lib] for lib in libraries) + " | targets |"
    lines = [header, "|" + "---|" * (len(libraries) + 2)]
    for row in rows(payload):
        cells = []
        for lib in libraries:
            if lib not in row["times"]:
                cells.append("n/a")
                continue
            text = f"{_format_time(row['times'][lib])}/{row['unit']}"
            if lib in row["ratios"]:
                text += f" ({row['ratios'][lib]:.2f}x)"
            cells.append(text)
        goals = ([f"<= {row['target']:g}x PyTorch"] if row["target"] is not None else []) + [
            f"<= {limit:g}x {LABELS.get(lib, lib)}" for lib, limit in row["targets"].items()]
        target = ", ".join(goals) or "-"
        lines.append(f"| ({row['key']}) {row['title']} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def system_table(payload):
    lines = ["| measure | chainrule | peers | value | target | met? |", "|---|---|---|---|---|---|"]
    for row in payload.get("system", []):
        lines.append(f"| {row['what']} | {row['chainrule']} | {row['peer']} | {row['value']} | "
                     f"{row['target']} | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines)


def figure(payload):
    """Bars of chainrule/peer time ratios per case (log scale; below 1: chainrule is faster)."""
    import matplotlib.pyplot as plt
    import numpy as np

    data = rows(payload)
    peers = [lib for lib in PEERS if any(lib in row["ratios"] for row in data)]
    height = 0.8 / len(peers)
    fig, axis = plt.subplots(figsize=(8, 0.55 * len(data) + 1.2))
    positions = np.arange(len(data))
    for index, lib in enumerate(peers):
        values = [row["ratios"].get(lib, np.nan) for row in data]
        axis.barh(positions + index * height, values, height, label=f"vs {LABELS[lib]}")
    axis.axvline(1.0, color="black", lw=0.8)
    axis.set_xscale("log")
    axis.set_yticks(positions + 0.4 - height / 2, [f"({row['key']})" for row in data])
    axis.invert_yaxis()
    axis.set_xlabel("chainrule time / peer time (log scale; < 1 means chainrule is faster)")
    axis.legend(fontsize=8, loc="lower right")
    axis.set_title(payload.get("machine", {}).get("name", ""), fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    stamp_parser = commands.add_parser("stamp", help="record the machine in a bench JSON file")
    stamp_parser.add_argument("path")
    stamp_parser.add_argument("--name", required=True, help="a name for the machine")
    stamp_parser.add_argument("--command", required=True, help="the command that was run")
    show_parser = commands.add_parser("show", help="print the machine and the tables")
    show_parser.add_argument("path")
    args = parser.parse_args(argv)
    if args.action == "stamp":
        stamp(args.path, args.name, args.command)
    payload = load(args.path)
    print(describe_machine(payload))
    if args.action == "show":
        print(table(payload), system_table(payload), sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
