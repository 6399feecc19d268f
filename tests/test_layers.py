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
    "viz": 4, "nn": 4, "optim": 4, "data": 4, "io": 4, "scipy": 4,
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


# ----- no import cycles --------------------------------------------------------------------------
def _module_name(path: pathlib.Path) -> str:
    parts = ("chainrule",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULE_NAMES = {_module_name(path): path for path in MODULES}


def _import_time_statements(tree: ast.Module):
    """The statements Python runs when it imports the module: its top level, including class
    bodies and `if`/`try` blocks, but not function bodies (lazy imports)."""
    pending = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        yield statement
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(getattr(statement, field, []))


def _imported_modules(module: str, tree: ast.Module):
    """The chainrule modules `module` imports at import time. `from package import name` counts
    as importing the submodule `package.name` when there is one, else the package itself."""
    package = module if MODULE_NAMES[module].name == "__init__.py" else module.rpartition(".")[0]
    for statement in _import_time_statements(tree):
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names if alias.name in MODULE_NAMES)
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in statement.names:
                if f"{base}.{alias.name}" in MODULE_NAMES:
                    yield f"{base}.{alias.name}"
                elif base in MODULE_NAMES:
                    yield base


def _import_graph():
    return {
        module: {
            imported for imported in _imported_modules(module, ast.parse(path.read_text()))
            if imported != module
        }
        for module, path in MODULE_NAMES.items()
    }


def _find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None. Iterative DFS."""
    state = {}  # module -> "open" while on the DFS path, "done" after
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [], [(root, iter(sorted(graph[root])))]
        state[root] = "open"
        path.append(root)
        while stack:
            module, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[module] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_no_module_imports_itself_back_at_import_time():
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
