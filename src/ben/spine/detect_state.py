"""The detection checkpoint file: no pickle, nothing from telemetry in clear, written atomically, 0600.

Layout (ADR 0029)::

    b"BENDCKP1\\n" | nonce (12 bytes) | AES-256-GCM( u32 header length | JSON header | BENDET1 arrays )

The JSON header holds the spine_seq covered, the configuration and counters, the series keys (with
their peers and units) and the correlator's incidents; the arrays (the detector's state, open buckets,
each counter's latest point, co-movement rings) are the detectors' own documented checkpoint format (``ben.detect.checkpoint``: a
JSON index and raw little-endian bytes, never pickle). For the calibrated detection (ADR 0040) the detector's state is
``CalibratedBank.checkpoint()``: the ``(series, N_STATE)`` float64 state matrix, each series' last
timestamp (int64 ns), the timing and the format number. Series keys are built from attribute values, so the whole
payload is encrypted and authenticated with a key of its own (``detect.key``, 32 random bytes,
0600, in the data directory): the file is not a second clear copy of telemetry, and a file that
was altered or written with another key is refused before anything in it is parsed. Loading
never calls pickle, so a crafted file cannot run code.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ben.core.errors import StorageError
from ben.core.files import create_once, write_atomic
from ben.detect import MonitorBank
from ben.detect.calibrated_bank import CalibratedBank
from ben.detect.checkpoint import from_bytes, to_bytes
from ben.spine.buckets import Columns as _Columns
from ben.spine.detection import Detection
from ben.spine.incidents import Anomaly, Correlator, Incident, State

MAGIC = b"BENDCKP1\n"
log = logging.getLogger(__name__)

VERSION = 1
KEY_BYTES = 32


def load_key(path: Path) -> bytes:
    """The checkpoint key, created (0600, whole or not at all) on first use; refused if readable by others.

    An empty key file is what a spine killed between creating and writing it left (before ADR 0046 round 6 the
    key was written into a file made first): no checkpoint was made with it, so a new key replaces it."""
    if path.exists() and path.stat().st_size == 0:
        log.warning("%s is empty (a start was killed making it); a new detection checkpoint key is made", path)
        path.unlink()
    key = os.urandom(KEY_BYTES)
    if create_once(path, key, 0o600):
        return key
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise StorageError(f"{path}: mode {mode:o} lets others read the detection checkpoint key; chmod 600 it")
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise StorageError(f"{path}: {len(key)} bytes, expected a {KEY_BYTES}-byte key")
    return key


def encode(detection: Detection, last_seq: int, key: bytes) -> bytes:
    """The whole detection state and the spine_seq it covers, as checkpoint bytes."""
    det = detection
    n = len(det.series)
    header = {
        "version": VERSION, "last_seq": int(last_seq), "bucket_ns": det.bucket_ns, "algorithm": det.algorithm,
        "max_series_per_subsystem": det.max_series_per_subsystem, "max_series": det.max_series,
        "counts": {"points": det.points, "rows": det.rows, "late_points": det.late_points,
                   "refused_points": det.refused_points, "refused_series": det.refused_series,
                   "refused_series_peer": det.refused_series_peer},
        "series": det.series, "peers": det.peers, "units": det.units, "open": sorted(det._open),
        "correlator": _correlator_state(det.correlator),
    }
    cm = det.comove
    arrays = {"bank": det.bank.checkpoint(),
              "cols": {k: getattr(det.cols, k).copy() for k in _Columns.SPEC},
              "comove": {"bucket": cm._bucket[:n].copy(), "value": cm._value[:n].copy(),
                         "count": cm._count[:n].copy()}}
    arrays["cols"]["counter"] = arrays["cols"]["counter"].astype(np.bool_)
    head = json.dumps(header, separators=(",", ":")).encode()
    plain = struct.pack("<I", len(head)) + head + to_bytes(arrays)
    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, MAGIC)


def decode(blob: bytes, key: bytes) -> tuple[int, Detection]:
    """(last_seq, detection) from checkpoint bytes; ``StorageError`` if they are not ours or damaged."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
        raise StorageError("not a detection checkpoint (bad magic; an older pickle checkpoint is never loaded)")
    nonce = blob[len(MAGIC):len(MAGIC) + 12]
    try:
        plain = AESGCM(key).decrypt(nonce, blob[len(MAGIC) + 12:], MAGIC)
    except InvalidTag:
        raise StorageError("detection checkpoint fails its authentication (altered, or another key)") from None
    try:
        (size,) = struct.unpack_from("<I", plain, 0)
        header = json.loads(plain[4:4 + size])
        if header.get("version") != VERSION:
            raise StorageError(f"detection checkpoint version {header.get('version')}, expected {VERSION}")
        arrays = from_bytes(plain[4 + size:])
        algorithm = header.get("algorithm", "bank")  # (checkpoints from before the calibrated default: the bank)
        det = Detection(int(header["bucket_ns"]), _correlator(header["correlator"]),
                        max_series_per_subsystem=int(header["max_series_per_subsystem"]),
                        max_series=int(header["max_series"]), algorithm=algorithm)
        det.bank = (CalibratedBank.from_checkpoint(arrays["bank"]) if algorithm == "calibrated"
                    else MonitorBank.from_checkpoint(arrays["bank"]))
        det.series = list(header["series"])
        det.keys = {k: i for i, k in enumerate(det.series)}
        for k in det.series:
            sub = k[:k.index("\x1f")]
            det.per_subsystem[sub] = det.per_subsystem.get(sub, 0) + 1
        det.peers = list(header.get("peers") or [""] * len(det.series))  # (a checkpoint from before peers: "")
        units = [str(u) for u in header.get("units") or []]  # (a checkpoint from before units: none)
        det.units = (units + [""] * len(det.series))[:len(det.series)]
        for peer in det.peers:
            det.per_peer[peer] = det.per_peer.get(peer, 0) + 1
        n = len(det.series)
        det.cols.grow(n)
        for k in _Columns.SPEC:
            if k in arrays["cols"]:
                getattr(det.cols, k)[:] = arrays["cols"][k]
        if "last_ts" not in arrays["cols"]:  # (a checkpoint from before round 3 of ADR 0012: see _last_ts)
            det.cols.last_ts[:] = _last_ts(det.cols, det.bucket_ns)
        det.comove.grow(n)
        det.comove._bucket[:n], det.comove._value[:n] = arrays["comove"]["bucket"], arrays["comove"]["value"]
        det.comove._count[:n] = arrays["comove"]["count"]
        det._open = set(header["open"])
        for name, value in header["counts"].items():
            setattr(det, name, int(value))
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001  (any malformed content: one clear refusal)
        raise StorageError(f"detection checkpoint damaged: {type(exc).__name__}: {exc}") from exc
    if det.bank.n_series != n:
        raise StorageError(f"detection checkpoint damaged: {det.bank.n_series} series in the bank, {n} keys")
    return int(header["last_seq"]), det


def _last_ts(cols: _Columns, bucket_ns: int) -> np.ndarray:
    """Each counter's latest point, for a checkpoint from before counters kept it (ADR 0012, 2026-12-07 round 3):
    the start of its open bucket, so its next increment is spread from there, as from a point at that time (a
    counter not yet seen, and a gauge: -1, none)."""
    return np.where(cols.counter & (cols.open_bucket >= 0), cols.open_bucket * bucket_ns, -1).astype(np.int64)


def write(path: Path, blob: bytes) -> None:
    """Atomically (temp file 0600, fsync, rename, fsync of the directory)."""
    write_atomic(path, blob, 0o600)


def _correlator_state(c: Correlator) -> dict:
    return {"group_window_ns": c.group_window_ns, "resolve_after_ns": c.resolve_after_ns,
            "open": c._open_by_subsystem,
            "detached": [_anomaly_state(a) for a in c.detached.values()],
            "incidents": [{"subsystem": i.subsystem, "opened_ns": i.opened_ns, "state": i.state.value,
                           "updated_ns": i.updated_ns, "resolved_ns": i.resolved_ns,
                           "acknowledged_by": i.acknowledged_by,
                           "anomalies": [_anomaly_state(a) for a in i.anomalies]} for i in c.incidents.values()]}


def _anomaly_state(a: Anomaly) -> dict:
    return {"series": a.series, "subsystem": a.subsystem, "name": a.name, "start_ns": a.start_ns,
            "baseline": a.baseline, "observed": a.observed, "score": a.score, "detectors": a.detectors,
            "end_ns": a.end_ns, "scale": a.scale, "index": a.index, "moved_with": a.moved_with, "note": a.note,
            "per_ns": a.per_ns, "peak": a.peak, "unit": a.unit}


def _correlator(state: dict) -> Correlator:
    c = Correlator(int(state["group_window_ns"]), int(state["resolve_after_ns"]))
    for i in state["incidents"]:
        anomalies = [Anomaly(**{**a, "moved_with": [tuple(p) for p in a["moved_with"]]}) for a in i["anomalies"]]
        inc = Incident(i["subsystem"], int(i["opened_ns"]), anomalies, State(i["state"]), int(i["updated_ns"]),
                       i["resolved_ns"], i["acknowledged_by"])
        c.incidents[inc.id] = inc
    c._open_by_subsystem = dict(state["open"])
    for a in state["detached"]:
        anomaly = Anomaly(**{**a, "moved_with": [tuple(p) for p in a["moved_with"]]})
        c.detached[anomaly.id] = anomaly
    return c
