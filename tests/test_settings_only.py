"""Issue 25: every environment variable is read (and, for a child process or a benchmark's
part, set) in engine/settings.py alone; Ray's own switches, which Ray reads from the
environment itself, are set in one function of engine/ray_executor.py. An ast walk of every
engine module finds any other use of os.environ, os.getenv, os.putenv or os.unsetenv."""
from __future__ import annotations

import ast
import os
from pathlib import Path

from engine import settings

ROOT = Path(__file__).resolve().parents[1]
ENVIRON = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
ALLOWED = {"engine/settings.py": None, "engine/ray_executor.py": "_ray_switch"}  # None: anywhere


def environment_uses(path: Path) -> list[tuple[int, str | None]]:
    """(line, enclosing function or None) of every os.environ-like name in the file."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Attribute) and node.attr in ENVIRON and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append((node.lineno, function))
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(alias.name in ENVIRON for alias in node.names):
            found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def offenders() -> list[str]:
    lines = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for line, function in environment_uses(path):
            if name in ALLOWED and ALLOWED[name] in (None, function):
                continue
            lines.append(f"{name}:{line} ({function or 'module level'})")
    return lines


def test_only_settings_touches_the_environment():
    assert offenders() == [], "os.environ outside engine/settings.py:\n" + "\n".join(offenders())


def test_the_walk_sees_every_spelling(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nos.environ.get('A')\n"
                      "def f():\n    os.environ['B'] = '1'\n    return os.getenv('C')\n")
    assert environment_uses(sample) == [(2, None), (3, None), (5, "f"), (6, "f")]


def test_overridden_puts_the_environment_back_and_child_env_changes_a_copy(monkeypatch):
    monkeypatch.setenv("TOP10_FAULT_AT", "after_swap")
    monkeypatch.delenv("TOP10_STORE_MIRROR", raising=False)
    monkeypatch.delenv("TOP10_EXECUTOR", raising=False)
    with settings.overridden({"TOP10_FAULT_AT": None, "TOP10_STORE_MIRROR": ""}):
        assert settings.fault_at() is None and settings.store_mirrors() == []
    assert os.environ["TOP10_FAULT_AT"] == "after_swap" and "TOP10_STORE_MIRROR" not in os.environ
    env = settings.child_env({"TOP10_FAULT_AT": None, "TOP10_EXECUTOR": "ray"}, python_path="/x")
    assert "TOP10_FAULT_AT" not in env and env["TOP10_EXECUTOR"] == "ray"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == "/x"
    assert os.environ["TOP10_FAULT_AT"] == "after_swap" and "TOP10_EXECUTOR" not in os.environ
