"""The house: layers and import contracts (import-linter), no private names across modules, module sizes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "weiwen"
LONG_LINES = 420  # "about 400": a module longer says why in its docstring, in a paragraph starting "Length:"


def test_import_contracts_hold() -> None:
    """pyproject.toml [tool.importlinter]: layers in order, the engine free of reading, sheets and the terminal."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    run = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_broken_contract_is_caught(tmp_path: Path) -> None:
    """The contract check can fail: the engine importing the roster reader breaks it."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    with (copy / "weiwen" / "engine" / "quota.py").open("a") as f:
        f.write("\nimport weiwen.roster.build  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent)}
    run = subprocess.run([exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode != 0
    assert "BROKEN" in run.stdout and "weiwen.engine.quota -> weiwen.roster.build" in run.stdout


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _private_imports(path: Path) -> list[str]:
    """``from weiwen.x import _name`` and ``module._name`` where ``module`` is an imported weiwen module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("weiwen"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("weiwen"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    found = [hit for p in _modules() for hit in _private_imports(p)]
    found += [hit for p in sorted((ROOT / "tests").glob("*.py")) for hit in _private_imports(p)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_private_name_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from weiwen.roster import cells\nfrom weiwen.core.text import _x\ncells._hidden()\n")
    assert len(_private_imports(bad)) == 2


def test_long_modules_say_why() -> None:
    long = []
    for p in _modules():
        text = p.read_text(encoding="utf-8")
        if text.count("\n") > LONG_LINES and "Length:" not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(f"{p.relative_to(SRC)}: {text.count(chr(10))} lines")
    assert not long, "modules over ~400 lines without a 'Length:' reason in their docstring:\n" + "\n".join(long)
