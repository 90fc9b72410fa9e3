"""The sidecar's redaction: the engine in force, atomic reloads, counters that survive them.

``Redactor.encode`` is the sidecar receiver's encoder: it redacts a request's batch and returns
the bytes written to the WAL, so nothing reaches the WAL (and so the wire and the store) that the
manifest names. It runs in the receiver's commit worker thread (one at a time), off the event loop. ``reload`` builds a complete new engine first and swaps it in with one assignment;
a manifest that does not load is refused with its error (file, rule, line), counted, and the
previous one stays in force.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

from ben.core.errors import RedactionError
from ben.core.figures import Figure, counter, gauge
from ben.redact.defaults import DEFAULT_MANIFEST
from ben.redact.engine import Engine
from ben.redact.manifest import Manifest, load_manifest, parse_manifest
from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger(__name__)


def load(path: Path | None) -> Manifest:
    """The manifest at path, or the built-in default."""
    if path is None:
        return parse_manifest(DEFAULT_MANIFEST, "built-in default manifest")
    from ben.core.files import check_trusted

    check_trusted(path, "redact_manifest")  # another account able to write it could turn redaction off
    return load_manifest(path)


class Redactor:
    """The sidecar's redaction in force: the engine of the current manifest, reloaded atomically, with figures."""

    def __init__(self, path: Path | None):
        self.path = path
        manifest = load(path)   # a bad manifest at start is a start failure
        # Engines are not thread-safe (caches, counts). The receiver commits alerts and the other
        # lanes in two tasks that may run at once, so each gets an engine of its own.
        self.engine = Engine(manifest)
        self.alert_engine = Engine(manifest)
        self._stamp = self._file_stamp()
        self.loads = 1
        self.reload_errors = 0
        self.last_error = ""
        self._counts: Counter = Counter()  # of engines replaced by a reload
        self._failures = 0

    def _file_stamp(self):
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def encode(self, request: pb.IngestRequest) -> bytes:
        engine = self.alert_engine if request.lane == pb.LANE_ALERT else self.engine
        return engine.apply(request.batch).SerializeToString()

    def reload(self, why: str = "reload") -> bool:
        """Load the manifest again and swap it in; on error keep the one in force. True if swapped."""
        self._stamp = self._file_stamp()
        try:
            manifest = load(self.path)
            engine, alert_engine = Engine(manifest), Engine(manifest)
        except RedactionError as exc:
            self.reload_errors += 1
            self.last_error = f"redaction manifest refused ({why}), the previous one stays in force: {exc}"
            log.error("%s", self.last_error)
            return False
        old = (self.engine, self.alert_engine)
        self.engine, self.alert_engine = engine, alert_engine  # the workers pick them up at their next batch
        for retired in old:
            self._counts.update(dict(retired.counts))
            self._failures += retired.failures
        self.loads += 1
        self.last_error = ""
        log.info("redaction manifest %s loaded (%s): %d rules", self.path or "(built-in)", why,
                 len(engine.manifest.rules))
        return True

    def changed_on_disk(self) -> bool:
        return self.path is not None and self._file_stamp() != self._stamp

    @property
    def counts(self) -> Counter:
        # dict() copies in one C call: the engine may be counting in the receiver's worker thread
        return self._counts + Counter(dict(self.engine.counts)) + Counter(dict(self.alert_engine.counts))

    def figures(self) -> list[Figure]:
        rules = [r.name for r in self.engine.manifest.rules] + ["allow-list"]
        counts = self.counts
        out = [counter("redactions_total", counts.get(name, 0), "values redacted, by rule", rule=name)
               for name in dict.fromkeys(rules + sorted(counts))]
        out += [
            gauge("redact_rules", len(self.engine.manifest.rules), "rules of the manifest in force"),
            counter("redact_manifest_loads_total", self.loads, "manifests loaded (start and reloads)"),
            counter("redact_reload_errors_total", self.reload_errors, "reloads refused (bad manifest)"),
            counter("redact_failures_total", self._failures + self.engine.failures + self.alert_engine.failures,
                    "batches the engine failed on (stored with every string replaced)"),
        ]
        return out
