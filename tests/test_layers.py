"""The layers of docs/architecture.md, checked: import-linter's contracts, no private names across packages,
and no import cycles inside storage."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "mineaction"


def _package(dotted: str) -> str:
    """The first-level package of a mineaction name (``""`` for top-level modules such as ``errors``)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and (SOURCE / parts[1]).is_dir() else ""


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """Imports in ``source`` (module ``module``) of a private name or module from another mineaction package."""
    own = _package(module)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            imported = [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        else:
            continue
        for full in imported:
            if not full.startswith("mineaction.") or _package(full) == own:
                continue
            if any(_private(part) for part in full.split(".")[1:]):
                found.append(f"{module}:{node.lineno} imports {full}")
    return found


def test_import_contracts_are_kept() -> None:
    """import-linter's contracts in pyproject.toml: the layers, and SQL libraries only in storage."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            check=False)  # the failure is reported with its output below
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_private_name_is_imported_across_packages() -> None:
    offences = [
        line
        for path in sorted(SOURCE.rglob("*.py"))
        for line in _private_imports(_module_name(path), path.read_text(), is_package=path.name == "__init__.py")
    ]
    assert offences == []


def test_the_private_import_scan_sees_an_offence() -> None:
    """The scan itself: a private name of another package is caught; one of the module's own package,
    a dunder and a relative import within the package are not."""
    source = ("from mineaction.access._db import reading\nfrom mineaction.storage.register import _x\n"
              "from mineaction.web.problems import _y\nfrom mineaction import __version__\n"
              "from ._private import z\nimport mineaction.io._hidden\n")
    found = _private_imports("mineaction.web.probe", source)
    assert [line.split(" imports ")[1] for line in found] == [
        "mineaction.access._db.reading", "mineaction.storage.register._x", "mineaction.io._hidden"]


def test_storage_has_no_import_cycles() -> None:
    """No storage module imports, directly or not, a storage module that imports it (the package front aside)."""
    graph = grimp.build_graph("mineaction", cache_dir=None)
    modules = sorted(m for m in graph.modules if m.startswith("mineaction.storage."))
    cycles = [
        (importer, imported)
        for importer in modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("mineaction.storage.") and graph.chain_exists(importer=imported, imported=importer)
    ]
    assert cycles == []
