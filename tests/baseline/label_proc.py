"""The spine's label call in a process of its own, SIGKILLed between its audit entry and its store insert.

``python -m tests.baseline.label_proc CONFIG INCIDENT LABEL``: opens the spine's store and control plane on
the spine's data directory (the spine itself stopped) as the spine does, and calls ``Spine._label``,
the code behind the Admin ``Label`` call, with the store's insert into ``ben.incident_labels`` replaced by a
SIGKILL of this process: what the spine leaves when it is killed between the two.
"""

from __future__ import annotations

import os
import signal
import sys

from ben.control.plane import ControlPlane
from ben.core.config import load_config
from ben.spine.app import Spine
from ben.store import open_store
from ben.store.schema import INCIDENT_LABELS


def main() -> None:
    config, incident, label = sys.argv[1:4]
    cfg = load_config(config).spine
    app = Spine(cfg)
    app.store = open_store(cfg.store, cfg.store_path, cfg.background_nice)
    app.control = ControlPlane(cfg.control, cfg.data_dir, app.store)
    inner = app.store.insert_values

    def insert_values(target, columns, rows):
        if target == INCIDENT_LABELS:
            os.kill(os.getpid(), signal.SIGKILL)   # audited (fsync'd), not stored
        return inner(target, columns, rows)

    app.store.insert_values = insert_values
    app._label(incident, label, "spike", "killed before it was stored", "bob")
    sys.exit("the label was stored: the kill point was not reached")


if __name__ == "__main__":
    main()
