"""Works without internet access and with a license beside each vendored library (no build step)."""

from __future__ import annotations

import re
from pathlib import Path

import ben.web

WEB = Path(ben.web.__file__).parent
REMOTE = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//""", re.I)


def test_pages_load_nothing_from_elsewhere() -> None:
    pages = [*(WEB / "templates").glob("*.html"), WEB / "static" / "app.js"]
    assert len(pages) > 5
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert not REMOTE.search(text), f"{path.name} loads from another host: {REMOTE.search(text).group(0)}"
        assert "fetch(\"http" not in text and "fetch('http" not in text and "EventSource(\"http" not in text, path


def test_every_vendored_library_has_its_license() -> None:
    vendor = WEB / "static" / "vendor"
    for lib in ("htmx", "uPlot", "cytoscape"):
        assert any(vendor.glob(f"{lib}*.js")), lib
        assert (vendor / f"{lib}.LICENSE").read_text(encoding="utf-8").strip(), lib
