"""The measuring loop: interleaved rounds, per-round ratios, and the tables they print as.

A `Case` maps each library to a builder; a builder sets up (arrays, parameters, compiled
functions) and returns `step`, a zero-argument callable doing one timed unit of work and
returning a few numbers that the harness compares across libraries (so every column computes
the same thing). Round r runs chainrule, then each peer, `inner` calls each; the ratio
chainrule/peer is taken within the round and summarised by the median and quartiles.
"""

import gc
import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from bench import peers

__all__ = ["Case", "Settings", "Unavailable", "run_case", "format_case", "markdown_summary"]

# chainrule's own second columns: the same work done the plain way (a Python loop of grad
# against vmap(grad); the eager transforms against cr.jit), timed in the same interleaved
# rounds; chainrule/it is the speed-up.
OWN = ("chainrule", "chainrule-loop", "chainrule-eager", "dask-by-hand")
LIBRARIES = OWN + peers.PEERS
LABELS = {
    "chainrule": "chainrule",
    "chainrule-loop": "chainrule loop",
    "chainrule-eager": "chainrule eager",
    "dask-by-hand": "Dask by hand",
    "torch": "PyTorch",
    "autograd": "HIPS autograd",
    "jax": "JAX eager",
    "jax-jit": "JAX jit",
}


class Unavailable(Exception):
    """Raised by a builder whose library lacks the feature (yet): the column says why."""


@dataclass
class Case:
    key: str  # what --only selects
    title: str
    builders: dict  # library -> builder() -> step()
    target: float | None = None  # the most chainrule/PyTorch may be
    targets: dict = field(default_factory=dict)  # other columns: library -> most chainrule/it
    per: int = 1  # a step does this many units (2,000 ops: report time per op)
    unit: str = "step"
    rtol: float = 1e-6  # how closely each library's numbers must agree with chainrule's
    atol: float = 1e-9
    rounds: int | None = None  # fewer rounds for slow cases (a training epoch)
    note: str = ""


@dataclass
class Settings:
    rounds: int = 21
    warmup: int = 3
    round_seconds: float = 0.1  # each library runs about this long per round
    # time.perf_counter (wall) by default; time.process_time (CPU time of this process) keeps
    # single-threaded timings honest on a machine shared with other work.
    clock: object = time.perf_counter

    @classmethod
    def quick(cls):
        return cls(rounds=5, warmup=1, round_seconds=0.02)


@dataclass
class Result:
    case: Case
    times: dict = field(default_factory=dict)  # library -> per-unit seconds, one per round
    ratios: dict = field(default_factory=dict)  # peer -> chainrule/peer, one per round
    notes: list = field(default_factory=list)

    def median_time(self, library):
        return statistics.median(self.times[library])

    def ratio_summary(self, library):
        """(median, low quartile, high quartile) of chainrule/peer over the rounds."""
        values = sorted(self.ratios[library])
        if len(values) >= 4:
            low, _, high = statistics.quantiles(values, n=4)
        else:
            low, high = values[0], values[-1]
        return statistics.median(values), low, high

    @property
    def target_met(self):
        if self.case.target is None or "torch" not in self.ratios:
            return None
        return self.ratio_summary("torch")[0] <= self.case.target

    def other_target_met(self, library):
        if library not in self.case.targets or library not in self.ratios:
            return None
        return self.ratio_summary(library)[0] <= self.case.targets[library]


def _build_steps(case, result):
    steps = {}
    for library in LIBRARIES:
        builder = case.builders.get(library)
        if builder is None:
            continue
        if library not in OWN and not peers.available(library):
            continue
        try:
            steps[library] = builder()
        except Unavailable as exc:
            result.notes.append(f"{LABELS[library]}: not available yet ({exc})")
            continue
        note = getattr(steps[library], "note", "")  # a builder may say how it set up
        if note and note not in result.notes:
            result.notes.append(note)
    return steps


def _check_agreement(case, steps, result):
    """One call each: every library must produce chainrule's numbers (same work timed)."""
    reference = None
    for library, step in steps.items():
        numbers = np.asarray(step(), dtype=np.float64).ravel()
        if reference is None:
            reference = numbers
            continue
        if numbers.shape != reference.shape or not np.allclose(
            numbers, reference, rtol=case.rtol, atol=case.atol
        ):
            result.notes.append(
                f"WARNING: {LABELS[library]} computed {numbers[:4]} where chainrule computed "
                f"{reference[:4]}: the columns may not measure the same work"
            )


def _time_calls(step, inner, clock=time.perf_counter):
    gc.collect()
    start = clock()
    for _ in range(inner):
        step()
    return (clock() - start) / inner


def _calibrate(step, settings):
    """How many calls make a round of about `settings.round_seconds` (warm-up included)."""
    once = min(_time_calls(step, 1, settings.clock) for _ in range(max(settings.warmup, 1)))
    return max(1, math.ceil(settings.round_seconds / max(once, 1e-9)))


def run_case(case, settings):
    result = Result(case)
    steps = _build_steps(case, result)
    if "chainrule" not in steps:
        result.notes.append("chainrule cannot run this case yet; nothing measured")
        return result
    _check_agreement(case, steps, result)
    inner = {library: _calibrate(step, settings) for library, step in steps.items()}
    rounds = settings.rounds if case.rounds is None else min(case.rounds, settings.rounds)
    per_round = {library: [] for library in steps}
    for _ in range(rounds):
        for library, step in steps.items():
            per_round[library].append(_time_calls(step, inner[library], settings.clock) / case.per)
    result.times = per_round
    base = per_round["chainrule"]
    for library in steps:
        if library != "chainrule":
            result.ratios[library] = [c / p for c, p in zip(base, per_round[library], strict=True)]
    return result


# ----- printing ----------------------------------------------------------------------------------
def format_seconds(seconds) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _ratio_text(summary) -> str:
    median, low, high = summary
    return f"{median:.2f}x [{low:.2f}-{high:.2f}]"


def format_case(result) -> str:
    case = result.case
    lines = [f"({case.key}) {case.title}"]
    if case.note:
        lines.append(f"    {case.note}")
    header = f"    {'library':<14}{'time/' + case.unit:>13}   {'chainrule/peer (median [IQR])':<32}"
    lines.append(header + f"{'target':<10}met?")
    for library, times in result.times.items():
        row = f"    {LABELS[library]:<14}{format_seconds(statistics.median(times)):>13}   "
        if library == "chainrule":
            lines.append(row.rstrip())
            continue
        row += f"{_ratio_text(result.ratio_summary(library)):<32}"
        if library == "torch" and case.target is not None:
            target = f"<= {case.target:g}x"
            row += f"{target:<10}{'yes' if result.target_met else 'NO'}"
        elif library in case.targets:
            target = f"<= {case.targets[library]:.2f}x"
            row += f"{target:<10}{'yes' if result.other_target_met(library) else 'NO'}"
        lines.append(row.rstrip())
    for library in peers.PEERS:
        if library in case.builders and library in peers.NOTES:
            lines.append(f"    note: {peers.NOTES[library]}")
    lines.extend(f"    note: {note}" for note in result.notes)
    return "\n".join(lines)


def markdown_summary(results) -> str:
    """One Markdown table: time per unit of each library and chainrule/peer ratios."""
    shown = [lib for lib in LIBRARIES if any(lib in r.times for r in results)]
    columns = " | ".join(LABELS[lib] for lib in shown)
    head = f"| case | {columns} | target (vs PyTorch) | met? |"
    rule = "|" + "---|" * (len(shown) + 3)
    rows = [head, rule]
    for result in results:
        case = result.case
        cells = [f"({case.key}) {case.title}"]
        for library in shown:
            if library not in result.times:
                cells.append("n/a")
                continue
            text = f"{format_seconds(result.median_time(library))}/{case.unit}"
            if library != "chainrule":
                text += f" ({result.ratio_summary(library)[0]:.2f}x)"
            if library in case.targets and library in result.ratios:
                met = result.other_target_met(library)
                text += f" target <= {case.targets[library]:.2f}x: {'yes' if met else '**no**'}"
            cells.append(text)
        cells.append(f"<= {case.target:g}x" if case.target is not None else "-")
        met = result.target_met
        cells.append("-" if met is None else "yes" if met else "**no**")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
