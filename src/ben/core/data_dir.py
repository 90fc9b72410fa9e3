"""Whose data directory this is (ADR 0033): the marker a component writes in its data directory, and the refusal of
another component's directory or a newer ben's."""

from __future__ import annotations

from pathlib import Path

from ben.core.errors import ConfigError
from ben.core.files import FILE_MODE, write_atomic

#: The file in a data directory that says which component owns it and which layout of it was written.
DATA_DIR_MARKER = "ben-data-dir.json"
#: The layout this ben writes and reads; a directory of a higher one was written by a newer ben.
DATA_DIR_LAYOUT = 1
_COMPONENTS = ("spine", "sidecar")


def claim_data_dir(path: Path, component: str, flag: str = "data_dir", *, mark: bool = True) -> None:
    """Refuse a data directory that is another component's, or of a newer layout; mark it as ``component``'s
    otherwise (a directory of an older ben, without the marker, is recognised by its control key; ``mark=False``:
    refuse only, as ``--check`` does)."""
    import json

    from ben import __version__

    marker = path / DATA_DIR_MARKER
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {marker}: {exc}", field=flag) from None
    if text is None:
        for other in _COMPONENTS:
            if other != component and (path / "control" / f"{other}.key").exists():
                raise ConfigError(f"{path} is a {other}'s data directory (it holds control/{other}.key); give the "
                                  f"{component} a directory of its own", field=flag)
        if not mark:
            return
        # synced, renamed and the directory synced: a power cut never leaves an empty marker, which every
        # later start would refuse as damaged; no fixed temporary name to be planted as a symlink
        write_atomic(marker, (json.dumps({"component": component, "layout": DATA_DIR_LAYOUT,
                                          "written_by": f"ben {__version__}"}) + "\n").encode(), FILE_MODE)
        return
    try:
        info = json.loads(text)
        owner, layout, writer = str(info["component"]), int(info["layout"]), str(info.get("written_by", "?"))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{marker} is damaged (it says whose data directory this is); if the directory is the "
                          f"{component}'s, delete the file", field=flag) from None
    if owner != component:
        raise ConfigError(f"{path} is a {owner}'s data directory ({marker.name}); give the {component} a directory "
                          "of its own", field=flag)
    if layout > DATA_DIR_LAYOUT:
        raise ConfigError(f"{path} was written by a newer ben ({writer}, layout {layout}); ben {__version__} reads "
                          f"layout {DATA_DIR_LAYOUT}: run the newer ben, or give this one another directory", field=flag)
