"""Small modules (STYLE.md, ADR 0043): no module of ``src/ben`` over 500 lines, generated code (``ben.v1``) aside."""

from __future__ import annotations

from pathlib import Path

import ben

SRC = Path(ben.__file__).parent
MAX_LINES = 500


def too_long(root: Path, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``(module, lines)`` of every module over ``limit`` lines under ``root`` (``v1/`` aside)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("v1/"):
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append((rel, n))
    return out


def test_no_module_is_over_500_lines():
    assert too_long(SRC) == []


def test_a_long_module_is_caught(tmp_path):
    (tmp_path / "v1").mkdir()
    (tmp_path / "long.py").write_text("x = 1\n" * 501)
    (tmp_path / "short.py").write_text("x = 1\n" * 500)
    (tmp_path / "v1" / "generated.py").write_text("x = 1\n" * 900)
    assert too_long(tmp_path) == [("long.py", 501)]
