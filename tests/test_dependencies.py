"""Packages depend one way: inspection -> evidence -> items. Items never imports evidence or
inspection (they add their parts through tracker.items.hooks), and evidence never imports inspection,
at module level or inside a function."""
import ast
import importlib
from pathlib import Path

import pytest

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
FORBIDDEN = {"items": ("tracker.evidence", "tracker.inspection"), "evidence": ("tracker.inspection",)}


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement anywhere in the file names (`from tracker import evidence`
    names tracker.evidence)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_the_ones_built_on_it(package):
    files = sorted((TRACKER / package).glob("*.py"))
    assert files
    wrong = {f"{path.name}: {name}" for path in files for name in imported_modules(path)
             if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])}
    assert not wrong


@pytest.mark.parametrize("package", ["items", "evidence", "inspection"])
def test_each_module_imports(package):
    for path in sorted((TRACKER / package).glob("*.py")):
        module = f"tracker.{package}" if path.stem == "__init__" else f"tracker.{package}.{path.stem}"
        assert importlib.import_module(module).__name__ == module


def test_the_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from tracker import inspection\n    import tracker.evidence.models\n")
    assert {"tracker.inspection", "tracker.evidence.models"} <= imported_modules(sample)
