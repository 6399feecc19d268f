"""The package's layers depend downward only: core <- ops <- numpy / transforms <- viz / nn /
optim / data / io <- cli. Every import in src/ (lazy ones inside functions included) is read
with `ast` and checked against that order, so an upward arrow cannot creep back in."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Layer of each top-level module or sub-package of chainrule; a module may import its own layer
# and the ones below it.
LAYERS = {
    "errors": 0,
    "core": 1,
    "ops": 2,
    "numpy": 3, "transforms": 3, "tree": 3, "reliability": 3,  # (the last two: old import paths)
    "viz": 4, "nn": 4, "optim": 4, "data": 4, "io": 4,
    "cli": 5, "__init__": 5, "__main__": 5,
}


def _part(module_path: pathlib.Path) -> str:
    relative = module_path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imported_parts(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            names = names[:1] if node.module != "chainrule" else names[1:]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "chainrule" and len(parts) > 1:
                yield node.lineno, parts[1]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer():
    assert {_part(path) for path in MODULES} <= set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path):
    own = _part(path)
    upward = [
        f"line {line}: chainrule.{part} (layer {LAYERS[part]})"
        for line, part in _imported_parts(ast.parse(path.read_text()))
        if part in LAYERS and LAYERS[part] > LAYERS[own]
    ]
    assert not upward, f"{path.name} (layer {LAYERS[own]}) imports upward: {upward}"
