"""The import rule of docs/architecture.md, checked: a package imports only packages below it.

Every ``import ben.X`` / ``from ben.X import`` counts, at module level or inside a function (a lazy
import is still a dependency); imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ben

SRC = Path(ben.__file__).parent

#: Lowest first. A package may import its own modules and any package of a lower layer.
LAYERS: list[set[str]] = [
    {"v1"},
    {"core"},
    {"store", "detect", "redact"},
    {"control"},
    {"sdk", "federation", "cortex"},
    {"otlp", "baseline"},
    {"sidecar", "spine", "web"},
    {"cli"},
    {"ben"},  # ben/__init__.py, ben/__main__.py
]
LAYER = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

#: The only parts of ``ben.control`` the SDK may import: no keys, no signing, no cryptography.
SDK_FROM_CONTROL = {"ben.control.contract", "ben.control.actions"}

#: Imports against the rule, each with its reason.
EXCEPTIONS = {
    ("redact/corpus.py", "ben.sdk.batch"): "the redaction corpus runner (benchmark tooling, never loaded by the "
                                           "sidecar) encodes its events with the SDK's batch builder",
}


def package_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else "ben"


def imports(source: str, package: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``ben.*`` import that can run (not under ``TYPE_CHECKING``)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names if a.name.split(".")[0] == "ben")
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: inside the same package
                    found.append((child.lineno, f"ben.{package}"))
                elif (child.module or "").split(".")[0] == "ben":
                    found.append((child.lineno, child.module))
            visit(child)

    visit(ast.parse(source))
    return found


def violations(files: dict[str, str]) -> list[str]:
    """Forbidden imports in ``files`` (path relative to ``src/ben`` -> source)."""
    bad = []
    for rel, source in sorted(files.items()):
        pkg = package_of(Path(rel))
        for line, module in imports(source, pkg):
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else "ben"
            if target == pkg or module == "ben" or (rel, module) in EXCEPTIONS:
                continue  # (``ben`` itself holds only ``__version__`` and imports nothing)
            if target not in LAYER or pkg not in LAYER:
                bad.append(f"{rel}:{line}: {module}: package not placed in a layer (tests/test_imports.py)")
            elif LAYER[target] >= LAYER[pkg]:
                bad.append(f"{rel}:{line}: {pkg} may not import {module} (layer {LAYER[target]} >= {LAYER[pkg]})")
            elif pkg == "sdk" and target == "control" and module not in SDK_FROM_CONTROL:
                bad.append(f"{rel}:{line}: sdk may import from control only {sorted(SDK_FROM_CONTROL)}, not {module}")
    return bad


def ben_sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text() for p in SRC.rglob("*.py")}


def test_every_package_is_placed():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert packages - set(LAYER) == set()


def test_imports_follow_the_layers():
    sources = ben_sources()
    assert imports(sources["__init__.py"], "ben") == []
    assert violations(sources) == []


def test_a_forbidden_import_is_caught():
    planted = {
        "core/planted.py": "from ben.spine.app import Spine\n",                          # upwards
        "store/planted.py": "def f():\n    import ben.redact.engine\n",                  # sideways, lazy
        "sdk/planted.py": "def f():\n    from ben.control.documents import ACTION_RE\n",  # signing code
        "detect/planted.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ben.spine import app\n",
        "cli/planted.py": "from ben.spine.app import Spine\nfrom . import main\n",         # allowed
    }
    assert violations(planted) == [
        "core/planted.py:1: core may not import ben.spine.app (layer 6 >= 1)",
        "sdk/planted.py:2: sdk may import from control only ['ben.control.actions', 'ben.control.contract'], "
        "not ben.control.documents",
        "store/planted.py:2: store may not import ben.redact.engine (layer 2 >= 2)",
    ]


def test_the_sdks_command_contract_loads_no_signing_code():
    code = ("import sys, ben.sdk.client, ben.control.contract, ben.control.actions; "
            "print(sorted(m for m in sys.modules if m.startswith(('cryptography', 'ben.control.keys', "
            "'ben.control.documents'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
