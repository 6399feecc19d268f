"""Import time and peak memory, each measured in fresh subprocesses.

Import time: `import X` inside a fresh interpreter (interpreter start-up excluded), timed by
the wall clock and by the process's CPU time (which other work on the machine barely
disturbs), median of several runs, runs of the libraries interleaved, after one warm-up import
each with bytecode caching on (as in any normal installation).
Peak memory of a 100,000-op scalar chain, forward + backward, after a small warm-up chain so
lazy initialisation is not counted. Two methods:
- RSS: the process's peak resident set size above its resident size just before the run
  (Linux: reset the peak by writing 5 to /proc/self/clear_refs, read VmHWM from
  /proc/self/status). It sees every allocator (PyTorch's C++ one included), so it is the
  like-for-like comparison.
- tracemalloc: the peak of Python-level allocations (NumPy reports its buffers there);
  PyTorch's C++ allocations are invisible to it, so it is shown for the NumPy-based libraries.
"""

import gc
import os
import statistics
import subprocess
import sys

__all__ = ["run", "markdown"]

MEMORY_STEPS = 100_000
IMPORT_MODULES = ("numpy", "chainrule", "torch", "autograd", "jax")
IMPORT_TARGET_MS = 50.0
MEMORY_TARGET = 0.5
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child_environment():
    # Bytecode caching on, as in a normal installation: with PYTHONDONTWRITEBYTECODE set, every
    # import of an editable install recompiles chainrule from source while NumPy's installed
    # .pyc files load, which would charge chainrule for compilation no user pays twice.
    environment = {**os.environ, "JAX_PLATFORMS": "cpu"}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def _python(code_or_module_args):
    completed = subprocess.run(
        [sys.executable, *code_or_module_args], capture_output=True, text=True, cwd=_ROOT,
        env=_child_environment(), timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1] if completed.stderr else "?")
    return completed.stdout.strip()


def _import_seconds(module):
    """(wall seconds, CPU seconds) of `import module` in a fresh interpreter."""
    code = (
        "import time; wall, cpu = time.perf_counter(), time.process_time(); "
        f"import {module}; "
        "print(time.perf_counter() - wall, time.process_time() - cpu)"
    )
    wall, cpu = _python(["-c", code]).split()
    return float(wall), float(cpu)


def measure_import(repeats):
    """{module: (median wall seconds, median CPU seconds)}."""
    samples = {module: [] for module in IMPORT_MODULES}
    missing = set()
    for module in IMPORT_MODULES:  # warm-up: fills the bytecode caches and the disk cache
        try:
            _import_seconds(module)
        except RuntimeError:
            missing.add(module)
    for _ in range(repeats):
        for module in IMPORT_MODULES:
            if module in missing:
                continue
            try:
                samples[module].append(_import_seconds(module))
            except RuntimeError:
                missing.add(module)
    return {
        module: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for module, runs in samples.items() if runs
    }


# ----- peak memory (the child process side) ------------------------------------------------------
def _status_kib(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _chain_step(library, steps):
    from bench import core_ops

    cycles = steps // 5
    builders = {
        "chainrule": core_ops.chain_step_chainrule,
        "torch": core_ops._chain_torch,
        "autograd": core_ops._chain_autograd,
    }
    return builders[library](cycles)


def _child(library, method, steps):
    """Run in a fresh process: print the peak bytes of one forward + backward chain."""
    _chain_step(library, 500)()  # warm-up: lazy imports, caches, allocator pools
    step = _chain_step(library, steps)
    gc.collect()
    if method == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        step()
        print(tracemalloc.get_traced_memory()[1])
        return
    baseline = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset VmHWM (the peak RSS) to the current RSS
    step()
    print((_status_kib("VmHWM") - baseline) * 1024)


def measure_memory(repeats):
    plan = [("chainrule", "rss"), ("chainrule", "tracemalloc"), ("torch", "rss"),
            ("autograd", "rss"), ("autograd", "tracemalloc")]
    samples = {}
    for _ in range(repeats):
        for library, method in plan:
            try:
                output = _python(["-m", "bench.system", "--child", library, method,
                                  str(MEMORY_STEPS)])
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                samples.setdefault((library, method), [])
                print(f"    note: {library} {method} failed: {exc}")
                continue
            samples.setdefault((library, method), []).append(int(output))
    return {key: statistics.median(values) for key, values in samples.items() if values}


# ----- the report --------------------------------------------------------------------------------
def run(keys, quick=False):
    rows = []
    if "import" in keys:
        rows.extend(_import_rows(measure_import(3 if quick else 9)))
    if "memory" in keys:
        rows.extend(_memory_rows(measure_memory(1 if quick else 3)))
    return rows


def _import_rows(times):
    print("\n(import) time to import, fresh interpreter, median: wall clock and CPU time")
    for module, (wall, cpu) in times.items():
        print(f"    import {module:<12}{wall * 1e3:8.1f} ms wall {cpu * 1e3:8.1f} ms CPU")
    if "chainrule" not in times or "numpy" not in times:
        return []
    rows = []
    for index, clock in enumerate(("wall", "CPU")):
        extra = (times["chainrule"][index] - times["numpy"][index]) * 1e3
        met = extra <= IMPORT_TARGET_MS
        print(f"    chainrule - numpy ({clock}): {extra:.1f} ms "
              f"(target <= {IMPORT_TARGET_MS:.0f} ms: {'yes' if met else 'NO'})")
        torch_ms = times.get("torch", (float("nan"),) * 2)[index] * 1e3
        rows.append({"key": "import", "what": f"import chainrule - import numpy ({clock})",
                     "chainrule": f"{times['chainrule'][index] * 1e3:.1f} ms",
                     "peer": f"numpy {times['numpy'][index] * 1e3:.1f} ms; torch {torch_ms:.0f} ms",
                     "value": f"{extra:+.1f} ms", "target": "<= +50 ms", "met": met})
    return rows


def _memory_rows(peaks):
    mib = lambda key: peaks[key] / 2**20 if key in peaks else float("nan")
    print(f"\n(memory) peak memory of a {MEMORY_STEPS:,}-op scalar chain, forward + backward")
    for (library, method), _ in sorted(peaks.items()):
        print(f"    {library:<10}{method:<12}{mib((library, method)):9.1f} MiB")
    rows = []
    torch_rss = peaks.get(("torch", "rss"))
    if torch_rss and ("chainrule", "rss") in peaks:
        for method in ("rss", "tracemalloc"):
            if ("chainrule", method) not in peaks:
                continue
            ratio = peaks[("chainrule", method)] / torch_rss
            met = ratio <= MEMORY_TARGET
            print(f"    chainrule ({method}) / PyTorch (rss): {ratio:.2f}x "
                  f"(target <= {MEMORY_TARGET}x: {'yes' if met else 'NO'})")
            rows.append({"key": "memory", "what": f"peak memory, chainrule by {method}",
                         "chainrule": f"{mib(('chainrule', method)):.1f} MiB",
                         "peer": f"PyTorch {mib(('torch', 'rss')):.1f} MiB (RSS); autograd "
                                 f"{mib(('autograd', 'rss')):.1f} MiB (RSS)",
                         "value": f"{ratio:.2f}x", "target": f"<= {MEMORY_TARGET}x", "met": met})
    return rows


def markdown(rows):
    lines = ["| measure | chainrule | peers | chainrule vs target | target | met? |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        met = "yes" if row["met"] else "**no**"
        lines.append(f"| {row['what']} | {row['chainrule']} | {row['peer']} | {row['value']} | "
                     f"{row['target']} | {met} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
