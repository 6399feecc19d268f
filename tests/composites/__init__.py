"""Cases for the composite sweep (tests/test_composite_sweep.py): the functions of
`chainrule.numpy` and `chainrule.scipy` that are built from primitives rather than being one
registry row. One module per topic; each defines `CASES`, a list of `Case`.

A `Case` names the public function (`name`, as in the coverage table), calls it (`function`,
taking the positional `args`), and says what to compare with: `reference`, NumPy's or SciPy's
own function on the same plain arrays (None when only the derivative is checked, e.g. for a
function NumPy lacks). Derivatives are checked by `cr.gradcheck` (reverse and forward mode
against central differences, complex inputs by real and imaginary parts) with respect to
`wrt` (default: every floating argument), to second order unless `second_order=False`, and
under vmap against a loop unless `batch=False`. `edge` marks a sample at an edge point (zeros,
ties, singular input), as the registry samples do.
"""

from dataclasses import dataclass


@dataclass
class Case:
    name: str
    function: object
    args: tuple
    reference: object = None
    wrt: tuple | None = None
    label: str = ""
    edge: bool = False
    second_order: bool = True
    batch: bool = True
    rtol: float = 1e-5
    atol: float = 1e-8

    @property
    def id(self):
        return f"{self.name}[{self.label}]" if self.label else self.name


def all_cases():
    import importlib
    import pkgutil

    import composites

    cases = []
    for module in pkgutil.iter_modules(composites.__path__):
        cases.extend(importlib.import_module(f"composites.{module.name}").CASES)
    return cases
