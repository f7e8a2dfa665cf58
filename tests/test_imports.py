"""The light modules stay light and the engine's imports run one way.

Each check starts a fresh interpreter, so what another test imported cannot hide a heavy
import: building a ConfigError (core and the catalogues' lookup) and importing the figures
load neither torch nor an algorithm module, and `python -m engine --help` no torch.
The import graph of every engine module, function-local imports included, has no circle;
the optional Ray seam (engine/ray_executor.py, imported only when Ray is asked for) is
exempt. `python tests/test_imports.py` prints the circles it finds.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXEMPT = {"engine.ray_executor"}  # the optional Ray seam: jobs <-> ray_executor

REPORT = """
import json, sys
print(json.dumps({"torch": "torch" in sys.modules,
                  "algorithms": sorted(m for m in sys.modules
                                       if m.startswith("engine.algorithms"))}))
"""


def _loaded_after(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code + "\n" + REPORT], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    'from engine.core import ConfigError\n'
    'error = ConfigError("error.between", name="epochs", lo=1, hi=50, value=0)\n'
    'assert str(error) == "epochs must be between 1 and 50, got 0", str(error)\n'
    'assert error.text("zh") != str(error)',
    "import engine.plots",
    "import engine.plots.sweeps, engine.plots.compare",
], ids=["config-error", "plots", "plots-submodules"])
def test_light_modules_load_no_torch_and_no_algorithm(code):
    loaded = _loaded_after(code)
    assert loaded == {"torch": False, "algorithms": []}, loaded


def test_cli_help_loads_no_torch():
    code = ("import runpy, sys\n"
            "sys.argv = ['python -m engine', '--help']\n"
            "try:\n"
            "    runpy.run_module('engine', run_name='__main__', alter_sys=True)\n"
            "except SystemExit as end:\n"
            "    assert end.code in (0, None), end.code\n"
            "else:\n"
            "    raise AssertionError('--help did not exit')\n")
    loaded = _loaded_after(code)
    assert loaded == {"torch": False, "algorithms": []}, loaded


# ---- the import graph ------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, dict[str, int]]:
    """engine module -> {engine module it imports: the first line that does}, from every
    import statement anywhere in the file (top level, functions, TYPE_CHECKING blocks)."""
    files = {_module_name(path): path for path in sorted((ROOT / "engine").rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # a relative import
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                # `from engine import registry` imports the module engine.registry
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                           for alias in node.names]
            for target in targets:
                if target in files and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]], exempt=frozenset(EXEMPT)) -> list[list[str]]:
    """The strongly connected groups of more than one module (each one or more circles),
    leaving out the exempt modules and every import into or out of them."""
    graph = {m: [t for t in edges if t not in exempt] for m, edges in graph.items()
             if m not in exempt}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def _path(module: str) -> str:
    path = ROOT / module.replace(".", "/")
    return str((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).relative_to(ROOT))


def describe(group: list[str], graph: dict[str, dict[str, int]]) -> str:
    return "\n".join(f"  {source} -> {target}  ({_path(source)}:{line})"
                     for source in group for target, line in graph[source].items()
                     if target in group)


def test_the_cycle_check_finds_a_circle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 1},
             "e": {"r": 1}, "r": {"e": 1}}
    assert cycles(graph, exempt={"r"}) == [["a", "b", "c"]]


def test_the_graph_sees_function_local_imports():
    graph = import_graph()
    assert "engine.ray_executor" in graph["engine.jobs"]  # imported inside a function


def test_no_import_circle_among_engine_modules():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import circles:\n" + "\n\n".join(describe(g, graph) for g in found)


# ---- one definition of a run's statuses ------------------------------------------------------
STATUS_NAMES = {"Status", "LIVE", "STATUSES", "RESTARTABLE"}


def status_definitions() -> list[str]:
    """'path:line name' for every module-level assignment or class named like a run-status
    constant in engine/."""
    found = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ClassDef):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                      if n in STATUS_NAMES]
    return found


def test_run_statuses_are_defined_once_in_names():
    found = status_definitions()
    assert all(line.startswith("engine/names.py:") for line in found), found
    assert sorted(line.split()[-1] for line in found) == sorted(STATUS_NAMES)
    loaded = _loaded_after("import sys\nfrom engine.names import LIVE, Status\n"
                           "assert 'queued' in LIVE and Status.DONE == 'done'\n"
                           "assert 'engine.store' not in sys.modules")
    assert loaded == {"torch": False, "algorithms": []}, loaded


if __name__ == "__main__":
    graph = import_graph()
    found = cycles(graph)
    for group in found:
        print(f"{len(group)} modules in a circle:\n{describe(group, graph)}\n")
    print(f"{len(graph)} engine modules, {sum(map(len, graph.values()))} imports, "
          f"{len(found)} circle group(s) (exempt: {', '.join(sorted(EXEMPT))})")
    sys.exit(1 if found else 0)
