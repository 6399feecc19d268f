"""`python -m bench [--quick] [--only CASE ...] [--profile] [--markdown FILE]`.

Runs every case (or the selected ones) side by side with the peers that are installed and
prints one table per case, then a summary table; `--profile` prints where chainrule's time goes.
"""

import argparse
import json
import os
import platform
import sys


def _all_cases():
    from bench import core_ops, dask_case, jit, per_example, sequence, training, transforms

    return (core_ops.CASES + transforms.CASES + per_example.CASES + training.CASES
            + sequence.CASES + jit.CASES + dask_case.CASES)


SYSTEM_KEYS = ("import", "memory")


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few short rounds (a smoke run)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="CASE",
        help="run only this case (repeatable; comma-separated allowed); --list shows the keys",
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--profile", action="store_true", help="profile chainrule on the cases")
    parser.add_argument("--markdown", metavar="FILE", help="also write the summary as Markdown")
    parser.add_argument("--json", metavar="FILE", help="also write every round's numbers as JSON")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time, robust to other "
        "work on the machine but only fair with --threads 1",
    )
    parser.add_argument(
        "--threads", type=int, metavar="N",
        help="limit NumPy's BLAS, PyTorch and XLA to N threads (default: each library's own)",
    )
    return parser.parse_args(argv)


def _limit_threads(count):
    """Before NumPy, PyTorch or JAX is imported: the thread pools read these at start-up."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(count)
    if count == 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
        ).strip()



def _selected(args, cases):
    wanted = {key for item in args.only for key in item.split(",") if key}
    known = {case.key for case in cases} | set(SYSTEM_KEYS)
    unknown = wanted - known
    if unknown:
        sys.exit(f"unknown case(s) {sorted(unknown)}; known: {sorted(known)}")
    return wanted


def _header():
    from bench import peers

    names = ("torch", "autograd", "jax")
    versions = ", ".join(f"{name} {peers.version_of(name)}" for name in names)
    import numpy

    import chainrule

    lines = [
        f"chainrule {chainrule.__version__}, numpy {numpy.__version__}, {versions}",
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{peers.describe_threads()}",
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5 * (os.cpu_count() or 1) + 0.5:
        lines.append(
            f"WARNING: load average {load:.1f} on {os.cpu_count()} CPUs: other work shares the "
            "machine, so absolute times are inflated; interleaved rounds keep ratios comparable, "
            "but multi-threaded pools suffer most (try --threads 1)."
        )
    return "\n".join(lines)


def main(argv=None):
    args = _parse(argv)
    if args.threads:
        _limit_threads(args.threads)
    from bench.harness import Settings, format_case, markdown_summary, run_case
    from bench.peers import set_torch_threads

    if args.threads:
        set_torch_threads(args.threads)
    cases = _all_cases()
    if args.list:
        for case in cases:
            print(f"{case.key:<16}{case.title}")
        print(f"{'import':<16}import time of chainrule over numpy (fresh interpreters)")
        print(f"{'memory':<16}peak memory of a 100,000-op chain against PyTorch (fresh processes)")
        return 0
    wanted = _selected(args, cases)
    settings = Settings.quick() if args.quick else Settings()
    if args.clock == "cpu":
        import time

        settings.clock = time.process_time
    if args.profile:
        from bench.profile import profile_cases

        profile_cases([c for c in cases if not wanted or c.key in wanted], quick=args.quick)
        return 0
    print(_header(), f"\nclock: {args.clock}", flush=True)
    results = []
    for case in cases:
        if wanted and case.key not in wanted:
            continue
        result = run_case(case, settings)
        results.append(result)
        print("\n" + format_case(result), flush=True)
    system_rows = []
    if not wanted or wanted & set(SYSTEM_KEYS):
        from bench import system

        system_rows = system.run(wanted or set(SYSTEM_KEYS), quick=args.quick)
    summary = markdown_summary(results) if results else ""
    if summary:
        print("\nSummary (median time per unit; ratio chainrule/peer in brackets)\n" + summary)
    if system_rows:
        print("\n" + system.markdown(system_rows))
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(summary + "\n\n" + (system.markdown(system_rows) if system_rows else ""))
    if args.json:
        _write_json(args.json, results, system_rows)
    return 0


def _write_json(path, results, system_rows):
    payload = {
        "cases": [
            {"key": r.case.key, "title": r.case.title, "unit": r.case.unit,
             "target": r.case.target, "targets": r.case.targets, "times": r.times,
             "ratios": r.ratios, "notes": r.notes}
            for r in results
        ],
        "system": system_rows,
    }
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)


if __name__ == "__main__":
    sys.exit(main())
