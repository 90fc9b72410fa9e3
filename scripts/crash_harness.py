#!/usr/bin/env python3
"""kill -9 harness: ben's promise "nothing acknowledged is lost" checked from the outside.

Written as a stranger would write it, with documented commands and APIs only: it starts
``ben spine --config`` and ``ben sidecar --config`` as processes, sends events through the
public SDK (``ben.sdk.Client``, in load processes of its own) and through OTLP/gRPC (the
``LogsService/Export`` call any OpenTelemetry exporter makes), records every acknowledgement
the clients got, SIGKILLs processes at seeded random moments, restarts them the documented
way, and at the end reads the store with ``ben query`` and checks:

- every event the SDK acknowledged is stored exactly once (``ben.events``, by its number);
- every log record of an OTLP request answered with success is stored exactly once, also when the
  request was sent again after a lost answer (the sidecar remembers the digests of the requests it
  stored, ADR 0036, 2026-12-06); duplicates after a retry are counted apart, and fail the run too;
- no incident is stored twice (``FINAL``), ``ben audit verify`` says intact for both
  components, and both stop on SIGTERM in time.

Faults, one per round, chosen by the seed: SIGKILL of the sidecar, the spine, the spine's store
process, the load process, several at once, a component killed while it starts or while it
drains after SIGTERM, and a kill followed by a torn write appended to the newest RocksDB log
of its WAL (a half-written record), and a spine killed again while it catches up on a backlog.
``otlp-gate`` kills the sidecar at the OTLP/gRPC gate's moments (ADR 0045 round 7): a request in flight
through it, the gate listening before gRPC serves behind it, the gate closed while gRPC drains; after every
sidecar restart the OTLP exporter must get a request answered again (``OTLP_RECONNECT_S``). ``wal-file`` kills
a running component within 3 ms of its WAL making or removing a file (a flush, a log switch, a compaction's
deletions), ``wal-open`` the same in the recovery that follows a first kill (RocksDB's open makes its new log
and rotates its info log); ``store-part`` kills the store process as
chDB writes a part (an insert's or a merge's ``tmp_*`` directory). After the final stop no file a killed write
left may remain (a temporary file of an atomic write, a chDB part directory) (ADR 0046 round 5).
``reload`` (round 6) sends SIGHUP to the spine or the sidecar with a bad redaction manifest (it must keep the
one in force, say why and go on answering), then with a good new one, and SIGKILLs it 0-50 ms into that
reload; the restarted component must run the new one (``redact_rules``). ``store-repair`` kills the store
process, then its successor 0-1.5 s after it appears (in the repair a new generation starts, ADR 0031).

    python scripts/crash_harness.py --rounds 50 --seed 7     # progress per round, then a summary

Exit code 0: nothing acknowledged lost or duplicated, every restart without manual repair.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ben.core.interpreter import python_argv  # (every child with -P: a stray ben.py in the cwd is not ben)

READY_TIMEOUT_S = 180.0
SCENARIOS = ("sidecar", "spine", "store", "spine+sidecar", "all", "loader", "startup", "shutdown", "torn-tail",
             "backlog", "replay", "checkpoint", "otlp-gate", "wal-file", "wal-open", "store-part", "reload",
             "store-repair")
#: Drawn only when the harness can make them: a small file system of its own (root: ``--small-disk-mb``),
#: a ClickHouse server (``--store clickhouse``), a store process (chDB: with a ClickHouse server the spine has
#: none, and these rounds killed nothing: "no store process found").
DISK_SCENARIOS = ("disk-full",)
SERVER_SCENARIOS = ("clickhouse",)
CHDB_SCENARIOS = ("store", "store-part", "store-repair")
ALL_SCENARIOS = SCENARIOS + DISK_SCENARIOS + SERVER_SCENARIOS


def drawable(scenarios: tuple[str, ...], *, server: bool, disk: bool) -> tuple[str, ...]:
    """The faults of ``scenarios`` this run can make (``server``: a ClickHouse server is the store; ``disk``:
    data directories on small file systems of their own)."""
    return tuple(sc for sc in scenarios if (sc not in DISK_SCENARIOS or disk)
                 and (sc not in SERVER_SCENARIOS or server) and (sc not in CHDB_SCENARIOS or not server))
#: What the spine's log says when its store engine set parts aside (broken, unexpected) as it opened the data: rows
#: gone from the store with no error anywhere else (ADR 0046, round 7). Every such line is a finding.
SET_ASIDE = "the store engine set aside"
OTLP_RECORDS = 20  # log records per OTLP request
#: The redaction manifests the ``reload`` fault switches between (by their number of rules), and a bad one.
MANIFESTS = {1: '[[rule]]\nname = "card"\ndetect = "card"\naction = "mask"\n'}
MANIFESTS[2] = MANIFESTS[1] + '\n[[rule]]\nname = "ids"\npattern = "ID-[0-9]{6}"\naction = "mask"\n'
BAD_MANIFEST = MANIFESTS[2] + '\n[[rule]]\nname = "oops"\ndetect = "cards"\naction = "mask"\n'
#: After a sidecar restart, an OTLP exporter must get a request answered again within this (its gRPC channel
#: redials with a backoff of its own: 1 s, x1.6, jittered; ADR 0046 round 4).
OTLP_RECONNECT_S = 60.0


# -- the load processes (this same file, run with --sdk-load / --otlp-load) -------------------------------------
def sdk_load(sidecar: str, subsystem: str, rate: float) -> None:
    """Emit numbered events through the public SDK; print every new acknowledgement (``acked N``)."""
    from ben.sdk import Client

    client = Client(subsystem, sidecar=sidecar, full_policy="block", max_batch_events=200, flush_interval_ms=20,
                    max_buffer_events=50_000, reconnect_max_ms=500)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    printed = 0

    def report() -> None:
        nonlocal printed
        acked = client.acked_seq
        if acked > printed:
            printed = acked
            print(f"acked {acked}", flush=True)

    started = time.monotonic()
    i = 0
    while not stop.is_set():
        i += 1
        if i % 25 == 0:  # alerts take their own lane (and the store's urgent path)
            seq = client.alert("crash.alert", "harness alert")
        else:
            seq = client.gauge("crash.n", float(i))
        if seq is None:
            print(f"dropped {i}", flush=True)
        if i % 50 == 0:
            report()
            ahead = i / rate - (time.monotonic() - started)
            if ahead > 0:
                stop.wait(ahead)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not client.flush(timeout=0.5):
        report()
    report()
    print(f"done {client.acked_seq}", flush=True)
    client.shutdown(timeout=5)


def otlp_load(endpoint: str, service: str, rate: float) -> None:
    """Send OTLP/gRPC log requests; print ``ok R`` for each answered with success (``retry R`` when a
    request had to be sent again, as every OTLP exporter does after a failure)."""
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_svc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    channel = grpc.insecure_channel(endpoint)
    stub = logs_grpc.LogsServiceStub(channel)
    resource = resource_pb2.Resource(attributes=[common_pb2.KeyValue(
        key="service.name", value=common_pb2.AnyValue(string_value=service))])
    started = time.monotonic()
    r = 0
    while not stop.is_set():
        r += 1
        now = time.time_ns()
        records = [logs_pb2.LogRecord(time_unix_nano=now, severity_text="INFO", severity_number=9,
                                      body=common_pb2.AnyValue(string_value=f"otlp {r} {k}"))
                   for k in range(OTLP_RECORDS)]
        request = logs_svc.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
            resource=resource, scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])
        backoff = 0.05
        attempts = 0
        while True:  # a request is sent until it is answered with success (the exporters' retry)
            attempts += 1
            try:
                stub.Export(request, timeout=10)
                print(f"ok {r} {attempts}", flush=True)
                break
            except grpc.RpcError:
                if attempts == 1:
                    print(f"retry {r}", flush=True)
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
        ahead = r * OTLP_RECORDS / rate - (time.monotonic() - started)
        if ahead > 0:
            stop.wait(ahead)
    print("done", flush=True)


# -- the harness --------------------------------------------------------------------------------------------------
def ben(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a documented ``ben`` command (the one beside this interpreter)."""
    return subprocess.run(python_argv("-m", "ben", *args), capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Loader:
    """A load process and the acknowledgements it printed."""

    kind: str  # sdk | otlp
    name: str  # the SDK subsystem / the OTLP service.name
    proc: subprocess.Popen
    acked: int = 0  # sdk: every event numbered up to this one was acknowledged
    ok: dict[int, int] = field(default_factory=dict)  # otlp: request -> attempts
    retried: set[int] = field(default_factory=set)
    finished: bool = False
    reader: threading.Thread | None = None

    def read(self) -> None:
        for line in self.proc.stdout:
            word, *rest = line.split()
            if word == "acked":
                self.acked = max(self.acked, int(rest[0]))
            elif word == "ok":
                self.ok[int(rest[0])] = int(rest[1])
            elif word == "retry":
                self.retried.add(int(rest[0]))
            elif word == "done":
                self.finished = True
        self.proc.stdout.close()


class Harness:
    def __init__(self, home: Path, seed: int, *, rate: float, otlp_rate: float, log=print,
                 scenarios: tuple[str, ...] = SCENARIOS, store: str = "chdb", small_disk_mb: int = 0):
        self.home = home
        self.mounted: list[Path] = []
        self.clickhouse = None
        store_toml = ""
        if store == "clickhouse":  # a real server of its own, on loopback (Debian's clickhouse-server)
            from ben.store.local_server import LocalClickHouse
            self.clickhouse = LocalClickHouse(home / "clickhouse").start()
            store_toml = (f'[spine.store]\nbackend = "clickhouse"\nhost = "{self.clickhouse.host}"\n'
                          f'port = {self.clickhouse.port}\n')
        if small_disk_mb:  # each component's data directory on a file system of its own, to fill
            for which in ("spine", "sidecar"):
                self.mount(home / which, small_disk_mb)
            if store == "chdb":  # the store's default reserve (256 MiB kept free) is refused on a disk this size
                store_toml = f"[spine.store]\nmin_free_bytes = {(small_disk_mb << 20) // 4}\n"
        self.scenarios = drawable(scenarios, server=self.clickhouse is not None, disk=bool(self.mounted))
        self.seed = seed
        self.rng = random.Random(seed)
        self.rate = rate
        self.otlp_rate = otlp_rate
        self.log = log
        self.spine_addr = f"unix://{home / 'spine.sock'}"
        self.sidecar_addr = f"unix://{home / 'sidecar.sock'}"
        self.otlp_endpoint = f"127.0.0.1:{free_port()}"
        self.config = home / "ben.toml"
        self.manifest, self.manifest_rules = home / "redact.toml", 1   # both components' (SIGHUP reloads it)
        self.write_manifest(MANIFESTS[1])
        self.in_force = {"spine": 1, "sidecar": 1}   # rules of the manifest each read at its start
        self.config.write_text(
            f'[spine]\ndata_dir = "{home / "spine"}"\nlisten = "{self.spine_addr}"\n'
            f'redact_manifest = "{self.manifest}"\n'
            f'[sidecar]\ndata_dir = "{home / "sidecar"}"\nlisten = "{self.sidecar_addr}"\n'
            f'spine = "{self.spine_addr}"\nredact_manifest = "{self.manifest}"\nredact_watch_interval_ms = 0\n'
            f'[sidecar.otlp]\ngrpc_listen = "{self.otlp_endpoint}"\nhttp_listen = ""\n'
            # a detection checkpoint every half second: a spine kill often meets one being written
            f'[spine.detect]\ncheckpoint_interval_s = 0.5\n{store_toml}')
        self.procs: dict[str, subprocess.Popen | None] = {"spine": None, "sidecar": None}
        self.loaders: list[Loader] = []
        self.findings: list[str] = []
        self.restarts: list[float] = []
        self.checkpoint_writes_cut = 0  # checkpoint kills that left a write's temporary file
        self.resumed = 0  # spine starts that went on from a detection checkpoint
        self.otlp_reconnects: list[float] = []  # sidecar ready -> an OTLP request answered again (s)
        self.resends = {"sidecar": 0, "spine": 0}  # requests resent and acknowledged again, not stored
        self._seen: dict[str, tuple[int, float]] = {}
        self.faults: dict[str, int] = {}  # fault -> rounds that drew it  # component -> (pid, its duplicates_total when seen)

    # -- processes -------------------------------------------------------------------------------------------
    def spawn(self, which: str) -> subprocess.Popen:
        logs = self.home / "logs"
        logs.mkdir(exist_ok=True)
        with open(logs / f"{which}.log", "ab") as out:
            proc = subprocess.Popen(python_argv("-m", "ben", which, "--config", str(self.config)),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[which] = proc
        self.in_force[which] = self.manifest_rules
        return proc

    def ready(self, which: str, timeout: float = READY_TIMEOUT_S) -> bool:
        """Wait until ``ben status`` gets an answer from it (False if it died or did not answer in time)."""
        deadline = time.monotonic() + timeout
        flag = "--spine" if which == "spine" else "--sidecar"
        addr = self.spine_addr if which == "spine" else self.sidecar_addr
        while time.monotonic() < deadline:
            proc = self.procs[which]
            if proc is None or proc.poll() is not None:
                return False
            out = ben("status", flag, addr, "--json", timeout=60)
            if "error" not in json.loads(out.stdout or "{}").get(which, {"error": 1}):
                return True
            time.sleep(0.2)
        return False

    def start(self, which: str) -> None:
        """Start it the documented way; a start that fails or hangs is a finding (started again once)."""
        t0 = time.monotonic()
        for attempt in (1, 2):
            log_at = self.log_size(which)
            checkpoint = which == "spine" and (self.home / "spine" / "detect.ckpt").exists()
            self.spawn(which)
            if self.ready(which):
                self.restarts.append(time.monotonic() - t0)
                if checkpoint:
                    self.check_resumed(log_at)
                return
            code = self.procs[which].poll()
            self.finding(f"{which} did not start (attempt {attempt}, exit code {code}): {self.tail(which)}")
            self.kill(which)
        raise SystemExit(f"seed={self.seed}: {which} cannot be restarted without manual repair")

    def log_size(self, which: str) -> int:
        try:
            return (self.home / "logs" / f"{which}.log").stat().st_size
        except OSError:
            return 0

    def check_resumed(self, log_at: int) -> None:
        """A spine started on a data directory holding a detection checkpoint (the one a kill, even one
        during its write, left) goes on from it: it says so before it answers (ADR 0046 round 4)."""
        with open(self.home / "logs" / "spine.log", "rb") as f:
            f.seek(log_at)
            text = f.read().decode(errors="replace")
        self.resumed += 1
        left = self.checkpoint_temporaries()
        if left:  # the running spine's own write (every 0.5 s here) renames its file within milliseconds
            ckpt = self.home / "spine" / "detect.ckpt"
            seen = ckpt.stat().st_mtime_ns if ckpt.exists() else 0
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and any(p.exists() for p in left):
                if ckpt.exists() and ckpt.stat().st_mtime_ns != seen and any(p.exists() for p in left):
                    break  # a later write finished and these are still there: a killed write's
                time.sleep(0.01)
            left = [p for p in left if p.exists()]
        if left:
            self.finding(f"the spine started with the temporary files of a killed checkpoint write left: {left}")
        if "detection resumed from its checkpoint" not in text or "unreadable" in text:
            self.resumed -= 1
            lines = [ln for ln in text.splitlines() if "detect" in ln][:5]
            self.finding(f"the spine restarted without its detection checkpoint: {lines}")

    def kill(self, which: str) -> None:
        proc = self.procs.get(which)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def store_pids(self) -> list[int]:
        """The spine's store process(es): its children running ``ben.store.worker``."""
        spine = self.procs["spine"]
        if spine is None or spine.poll() is not None:
            return []
        pids = []
        for task in Path(f"/proc/{spine.pid}/task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
        found = []
        for pid in pids:
            try:
                if b"ben.store.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                pass
        return found

    def kill_store(self) -> bool:
        pids = self.store_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return bool(pids)

    def tail(self, which: str, lines: int = 15) -> str:
        try:
            return "\n".join((self.home / "logs" / f"{which}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def parts_set_aside(self) -> list[str]:
        """The spine log's lines saying its store engine set parts aside as it opened the data (``SET_ASIDE``)."""
        try:
            text = (self.home / "logs" / "spine.log").read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if SET_ASIDE in line]

    def write_manifest(self, text: str) -> None:
        """As an operator's tool saves a file: written beside it, then renamed over it."""
        tmp = self.manifest.with_suffix(".new")
        tmp.write_text(text)
        tmp.replace(self.manifest)

    def log_since(self, which: str, at: int) -> str:
        with open(self.home / "logs" / f"{which}.log", "rb") as f:
            f.seek(at)
            return f.read().decode(errors="replace")

    def rules_in_force(self, which: str) -> int | str:
        """The rules of the manifest in force, as ``ben status`` says; else what it said instead."""
        flag, addr = ("--spine", self.spine_addr) if which == "spine" else ("--sidecar", self.sidecar_addr)
        out = ben("status", flag, addr, "--json")
        comp = json.loads(out.stdout or "{}").get(which, {})
        found = [f["value"] for f in comp.get("figures", []) if f["name"] == "redact_rules"]
        if found:
            return int(found[0])
        return (f"no redact_rules figure (ben status exit {out.returncode}: {comp.get('error') or out.stderr.strip()[-300:]}"
                f"; figures {sorted(f['name'] for f in comp.get('figures', []))[:12]})")

    def reload_fault(self, which: str) -> str:
        """SIGHUP with a bad manifest (refused, said, still answering), then with a good new one, killed 0-50 ms
        into that reload (ADR 0046 round 6)."""
        proc, at = self.procs[which], self.log_size(which)
        self.write_manifest(BAD_MANIFEST)
        proc.send_signal(signal.SIGHUP)
        deadline, said = time.monotonic() + 30.0, False
        while time.monotonic() < deadline and proc.poll() is None and not said:
            said = "previous one stays in force" in self.log_since(which, at)
            time.sleep(0.02)
        if proc.poll() is not None:
            self.finding(f"{which} exited on a SIGHUP with a bad redaction manifest: {self.tail(which)}")
        elif not said:
            self.finding(f"{which} did not say it refused a bad redaction manifest on SIGHUP: {self.tail(which)}")
        elif (rules := self.rules_in_force(which)) != self.in_force[which]:
            self.finding(f"{which}: after a refused reload {rules} rules in force, not the {self.in_force[which]} "
                         "of the manifest before")
        self.manifest_rules = 2 if self.manifest_rules == 1 else 1
        self.write_manifest(MANIFESTS[self.manifest_rules])
        proc.send_signal(signal.SIGHUP)
        after = self.rng.uniform(0.0, 0.05)
        time.sleep(after)
        reloaded = "loaded (SIGHUP)" in self.log_since(which, at)
        self.kill(which)
        return (f"bad manifest refused{'' if said else ' NOT said'}; killed {after * 1000:.0f} ms into the reload "
                f"of a {self.manifest_rules}-rule one ({'after' if reloaded else 'before'} it was in force)")

    def check_manifest(self, which: str) -> None:
        """A component started after a kill runs the manifest on disk. A status call that fails once it answered
        (seen once, under load 12: no figure, the error not kept) is asked again for 30 s and logged; a figure
        never given, or another count, is a finding."""
        rules, deadline = self.rules_in_force(which), time.monotonic() + 30.0
        while isinstance(rules, str) and time.monotonic() < deadline:
            self.log(f"  {which}: status after it was ready: {rules}; asked again")
            time.sleep(0.5)
            rules = self.rules_in_force(which)
        if rules != self.manifest_rules:
            self.finding(f"{which} restarted with {rules} redaction rules in force, not the {self.manifest_rules} "
                         "of its manifest")

    def finding(self, text: str) -> None:
        self.findings.append(text)
        self.log(f"  FINDING: {text}")

    # -- load ------------------------------------------------------------------------------------------------
    def start_loader(self, kind: str) -> Loader:
        name = f"crash-{kind}-{self.seed}-{len(self.loaders)}"
        args = (["--sdk-load", self.sidecar_addr, name, str(self.rate)] if kind == "sdk"
                else ["--otlp-load", self.otlp_endpoint, name, str(self.otlp_rate)])
        with open(self.home / "logs" / f"{name}.err", "ab") as err:
            proc = subprocess.Popen(python_argv(__file__, *args), stdout=subprocess.PIPE, stderr=err,
                                    text=True, start_new_session=True)
        loader = Loader(kind, name, proc)
        loader.reader = threading.Thread(target=loader.read, daemon=True)
        loader.reader.start()
        self.loaders.append(loader)
        return loader

    def live_loaders(self, kind: str) -> list[Loader]:
        return [ld for ld in self.loaders if ld.kind == kind and ld.proc.poll() is None]

    # -- faults ----------------------------------------------------------------------------------------------
    def tear_tail(self, which: str) -> str:
        """Append a half-written record to the newest RocksDB log of the (stopped) component's WALs."""
        logs = list((self.home / which).glob("wal-*/*.log"))  # RocksDB's logs of its WALs (ADR 0003)
        if not logs:
            return "no log file"
        newest = max(logs, key=lambda p: p.stat().st_mtime)
        garbage = self.rng.randbytes(self.rng.randint(7, 3000))
        with open(newest, "ab") as f:
            f.write(garbage)
        return f"{len(garbage)} bytes on {newest.relative_to(self.home)}"

    def mount(self, path: Path, size_mb: int) -> None:
        """A tmpfs of ``size_mb`` at ``path`` (root only; the harness says so and goes on without)."""
        path.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(path)],
                             capture_output=True, text=True)
        if out.returncode:
            self.log(f"no small file system for {path.name} ({out.stderr.strip()}): disk-full is not drawn")
            return
        self.mounted.append(path)

    def unmount(self) -> None:
        """The small file systems unmounted; after a finding, what they held is copied under ``<home>/kept/`` first:
        a store or WAL that lost data must be there to read (seed 8901's 12 % lost once, its store gone with them)."""
        for path in self.mounted:
            if self.findings:
                kept = self.home / "kept" / path.name
                try:
                    shutil.copytree(path, kept, symlinks=True)
                    self.log(f"kept the contents of {path.name}'s file system in {kept}")
                except (OSError, shutil.Error) as exc:
                    self.log(f"could not keep {path.name}'s file system: {exc}")
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        self.mounted = []

    def fill(self, which: str) -> tuple[Path, int]:
        """Fill the component's file system but for 0-2 MiB: a file as large as the room left."""
        path = self.home / which
        st = os.statvfs(path)
        leave = self.rng.randint(0, 2 << 20)
        size = max(0, st.f_bavail * st.f_frsize - leave)
        filler = path / "filler"
        with open(filler, "wb") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, size)
            except OSError:  # the room shrank meanwhile: what fits
                pass
        return filler, leave

    def checkpoint_moment(self, timeout: float = 5.0) -> bool:
        """Wait until the spine writes its detection checkpoint (its temporary file appears, or the file
        changes); True at that moment, False if none was seen in ``timeout``."""
        ckpt = self.home / "spine" / "detect.ckpt"

        def mtime() -> int:
            try:
                return ckpt.stat().st_mtime_ns
            except OSError:
                return 0
        before = mtime()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.checkpoint_temporaries() or mtime() != before:
                return True
            time.sleep(0.0005)
        return False

    def wal_files(self, which: str) -> set[str]:
        """The files of the component's WALs (RocksDB's logs, tables, MANIFESTs), by name."""
        out = set()
        for d in (self.home / which).glob("wal-*"):
            try:
                out.update(f"{d.name}/{n}" for n in os.listdir(d))
            except OSError:
                pass
        return out

    def file_moment(self, files, timeout: float = 5.0) -> str:
        """Wait until ``files()`` changes (a file made or removed); what changed, or "" if nothing did."""
        before = files()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = files()
            if now != before:
                made, gone = sorted(now - before), sorted(before - now)
                return (f"made {made[:2]}" if made else "") + (" " if made and gone else "") + (
                    f"removed {gone[:2]}" if gone else "")
            time.sleep(0.0005)
        return ""

    def store_parts(self) -> set[str]:
        """chDB's part directories being written (an insert's or a merge's ``tmp_*``) under the spine's store."""
        out = set()
        for table in (self.home / "spine" / "chdb" / "store").glob("*/*"):
            try:
                out.update(f"{table.name}/{n}" for n in os.listdir(table) if n.startswith("tmp_"))
            except OSError:
                pass
        return out

    def leaked(self) -> list[str]:
        """Files a kill left that nothing will remove: temporary files of a killed atomic write (``.NAME.*.tmp``)
        in the data directories, chDB's part directories of a killed insert or merge (``tmp_*``)."""
        found = [str((Path(d) / n).relative_to(self.home)) for which in ("spine", "sidecar")
                 for d, _, names in os.walk(self.home / which)   # (a live store removes directories as it is
                 for n in names if n.startswith(".") and n.endswith(".tmp")]   # walked: rglob raised on those)
        return found + [f"chdb {name}" for name in sorted(self.store_parts())]

    def otlp_port_open(self) -> bool:
        host, _, port = self.otlp_endpoint.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return True
        except OSError:
            return False

    def gate_kill(self, moment: str) -> str:
        """SIGKILL the sidecar at a moment of its OTLP/gRPC gate (ADR 0045 round 7); what was hit."""
        if moment == "in-flight":  # just after an answer: the loader's next request is on its way through the gate
            loaders = self.live_loaders("otlp")
            before = sum(len(ld.ok) for ld in loaders)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and sum(len(ld.ok) for ld in loaders) == before:
                time.sleep(0.001)
            time.sleep(self.rng.uniform(0.0, 0.02))
            self.kill("sidecar")
            return "passing a request (killed 0-20 ms after an answer)"
        if moment == "start":  # its TCP port accepts (the gate is up) as soon as it can: gRPC behind may not be
            self.kill("sidecar")
            proc = self.spawn("sidecar")
            deadline = time.monotonic() + READY_TIMEOUT_S
            while time.monotonic() < deadline and proc.poll() is None and not self.otlp_port_open():
                time.sleep(0.002)
            self.kill("sidecar")
            return "just listening in the sidecar's start"
        proc = self.procs["sidecar"]  # shutdown: the gate stopped listening, gRPC answering what it holds
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and self.otlp_port_open():
            time.sleep(0.002)
        self.kill("sidecar")
        return "closed in the sidecar's SIGTERM drain"

    def otlp_answered_again(self) -> None:
        """After a sidecar restart: each live OTLP loader gets a request answered within ``OTLP_RECONNECT_S``
        (the exporter reconnected through the gate); the time it took is kept."""
        t0 = time.monotonic()
        for ld in self.live_loaders("otlp"):
            before = len(ld.ok)
            while len(ld.ok) == before and ld.proc.poll() is None and time.monotonic() - t0 < OTLP_RECONNECT_S:
                time.sleep(0.05)
            if len(ld.ok) == before and ld.proc.poll() is None:
                self.finding(f"OTLP exporter {ld.name} got no answer {OTLP_RECONNECT_S:.0f} s after the sidecar "
                             f"was back: {self.tail('sidecar')}")
                return
        self.otlp_reconnects.append(time.monotonic() - t0)

    def checkpoint_temporaries(self) -> list[Path]:
        """The temporary files of checkpoint writes in progress (or cut short): ``.detect.ckpt.<random>.tmp``."""
        return list((self.home / "spine").glob(".detect.ckpt.*.tmp"))

    def count_resends(self) -> None:
        """Add what each component counted in ``duplicates_total`` (resends of what it had made
        durable: the clients' retries after a lost answer) since the last look; figures restart at 0."""
        out = json.loads(ben("status", "--spine", self.spine_addr, "--sidecar", self.sidecar_addr, "--json").stdout
                         or "{}")
        for which, comp in out.items():
            proc = self.procs.get(which)
            value = sum(f["value"] for f in comp.get("figures", []) if f["name"] == "duplicates_total")
            if proc is None or "figures" not in comp:
                continue
            pid, before = self._seen.get(which, (-1, 0.0))
            self.resends[which] += int(value - before if pid == proc.pid else value)
            self._seen[which] = (proc.pid, value)

    def round(self, n: int, total: int) -> None:
        self.rng_wait(0.3, 2.5)  # a random moment under load: that is the point
        self.count_resends()
        scenario = self.rng.choice(self.scenarios)
        self.faults[scenario] = self.faults.get(scenario, 0) + 1
        detail = ""
        down: list[str] = []
        if scenario in ("sidecar", "spine"):
            self.kill(scenario)
            down = [scenario]
        elif scenario == "store":
            detail = "store process killed" if self.kill_store() else "no store process found"
        elif scenario == "spine+sidecar":
            self.kill("spine")
            self.kill("sidecar")
            down = ["spine", "sidecar"]
        elif scenario == "all":
            self.kill_store()
            self.kill("spine")
            self.kill("sidecar")
            for ld in self.live_loaders("sdk"):
                ld.proc.kill()
            down = ["spine", "sidecar"]
            self.start_loader("sdk")
        elif scenario == "loader":
            for ld in self.live_loaders("sdk"):
                ld.proc.kill()
            self.start_loader("sdk")
        elif scenario == "startup":  # killed while it starts, then started again
            which = self.rng.choice(["spine", "sidecar"])
            self.kill(which)
            self.spawn(which)
            after = self.rng.uniform(0.0, 4.0)
            time.sleep(after)
            self.kill(which)
            detail = f"{which} killed {after:.2f} s into its start"
            down = [which]
        elif scenario == "shutdown":  # killed while it drains after SIGTERM
            which = self.rng.choice(["spine", "sidecar"])
            proc = self.procs[which]
            proc.send_signal(signal.SIGTERM)
            after = self.rng.uniform(0.0, 1.5)
            try:
                proc.wait(after)
                detail = f"{which} stopped by SIGTERM before the kill ({after:.2f} s)"
            except subprocess.TimeoutExpired:
                self.kill(which)
                detail = f"{which} killed {after:.2f} s into its shutdown"
            down = [which]
        elif scenario == "backlog":  # a spine down long enough for a backlog, killed again while it catches up
            self.kill("spine")                  # (its store writer inserting, syncing and truncating hard)
            self.rng_wait(3.0, 8.0)
            self.start("spine")
            after = self.rng.uniform(0.0, 3.0)
            time.sleep(after)
            if self.rng.random() < 0.5:
                self.kill_store()
            self.kill("spine")
            detail = f"spine killed {after:.2f} s into its catch-up"
            down = ["spine"]
        elif scenario == "replay":  # a sidecar with a backlog killed, then killed again while it replays it
            self.kill("spine")
            self.rng_wait(2.0, 5.0)             # the sidecar's WAL holds what the spine did not take
            self.kill("sidecar")
            self.start("spine")
            self.start("sidecar")
            after = self.rng.uniform(0.0, 2.0)
            time.sleep(after)
            self.kill("sidecar")
            detail = f"sidecar killed {after:.2f} s into shipping its backlog after a kill"
            down = ["sidecar"]
        elif scenario == "checkpoint":  # the spine killed as it writes its detection checkpoint
            seen = self.checkpoint_moment()
            time.sleep(self.rng.uniform(0.0, 0.003))
            self.kill("spine")
            cut = bool(self.checkpoint_temporaries())
            self.checkpoint_writes_cut += cut
            detail = ("spine killed writing its detection checkpoint" + (" (its temporary file left)" if cut else "")
                      if seen else "no checkpoint write seen in 5 s")
            down = ["spine"]
        elif scenario == "disk-full":  # a component's disk full under load, killed there half the time
            which = self.rng.choice([m.name for m in self.mounted])
            filler, leave = self.fill(which)
            self.rng_wait(1.0, 4.0)
            killed = self.rng.random() < 0.5
            if killed:
                self.kill(which)
                down = [which]
            filler.unlink()
            detail = f"{which}'s disk full (<= {leave >> 10} KiB left){', killed there' if killed else ', then room again'}"
        elif scenario == "clickhouse":  # the ClickHouse server killed under the store writer, back after a while
            self.clickhouse.kill()
            self.rng_wait(0.0, 3.0)
            self.clickhouse.start()
            detail = "clickhouse-server killed and started again"
        elif scenario == "otlp-gate":  # the sidecar killed at one of its OTLP/gRPC gate's moments
            moment = ("in-flight", "start", "shutdown")[(self.faults[scenario] - 1) % 3]  # each in turn
            detail = f"sidecar killed with the OTLP gate {self.gate_kill(moment)}"
            down = ["sidecar"]
        elif scenario in ("wal-file", "wal-open"):  # killed as its WAL makes or removes a file: running (a flush,
            which = self.rng.choice(["spine", "sidecar"])  # a log switch, a compaction's deletions), or in the
            recovering = scenario == "wal-open"            # recovery after a first kill (two kills in quick succession)
            if recovering:
                self.kill(which)
                self.spawn(which)
            wait = 30.0  # (a start opens its WALs after its imports: seconds under load; a running lane flushes
                         # its 8 MiB memtable rarely at this load)
            moment = self.file_moment(lambda: self.wal_files(which), timeout=wait)
            time.sleep(self.rng.uniform(0.0, 0.003))
            self.kill(which)
            detail = (f"{which} killed {'in its recovery ' if recovering else ''}as its WAL "
                      f"{moment or f'changed no file in {wait:.0f} s'}")
            down = [which]
        elif scenario == "store-part":  # the store process killed as chDB writes a part (an insert, a merge)
            moment = self.file_moment(self.store_parts, timeout=8.0)
            time.sleep(self.rng.uniform(0.0, 0.003))
            killed = self.kill_store()
            detail = f"store process {'killed' if killed else 'not found'} as chDB {moment or 'wrote no part in 8 s'}"
        elif scenario == "store-repair":  # the store process killed, then its successor killed again 0-1.5 s
            killed = self.kill_store()      # after it appears: in the new generation's repair (ADR 0031)
            first = set(self.store_pids())
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline and not (set(self.store_pids()) - first):
                time.sleep(0.005)
            after = self.rng.uniform(0.0, 1.5)
            time.sleep(after)
            again = self.kill_store()
            detail = (f"store process {'killed' if killed else 'not found'}, its successor "
                      f"{'killed ' + format(after, '.2f') + ' s after it appeared' if again else 'not found'}")
        elif scenario == "reload":  # SIGHUP: a bad manifest refused, then a good one, killed in its reload
            which = self.rng.choice(["spine", "sidecar"])
            detail = f"{which}: {self.reload_fault(which)}"
            down = [which]
        elif scenario == "torn-tail":
            which = self.rng.choice(["spine", "sidecar"])
            self.kill(which)
            detail = f"{which}: " + self.tear_tail(which)
            down = [which]
        if self.rng.random() < 0.25:
            self.rng_wait(0.0, 2.0)  # sometimes stay down a while
        order = ["spine", "sidecar"] if self.rng.random() < 0.5 else ["sidecar", "spine"]  # a sidecar may
        for which in order:                                                          # start with no spine
            if which in down:
                self.start(which)
                self.check_manifest(which)
        if "sidecar" in down:
            self.otlp_answered_again()
        sdk_acked = sum(ld.acked for ld in self.loaders if ld.kind == "sdk")
        otlp_ok = sum(len(ld.ok) for ld in self.loaders if ld.kind == "otlp")
        self.log(f"round {n}/{total} seed={self.seed} {scenario}{': ' + detail if detail else ''} | "
                 f"acked so far: sdk {sdk_acked}, otlp requests {otlp_ok}")

    def rng_wait(self, lo: float, hi: float) -> None:
        time.sleep(self.rng.uniform(lo, hi))

    # -- the end ----------------------------------------------------------------------------------------------
    def finish(self, drain_timeout: float) -> None:
        for ld in self.loaders:
            if ld.proc.poll() is None:
                ld.proc.send_signal(signal.SIGTERM)
        for ld in self.loaders:
            try:
                ld.proc.wait(drain_timeout)
            except subprocess.TimeoutExpired:
                self.finding(f"load process {ld.name} did not get its events acknowledged in {drain_timeout:.0f} s")
                ld.proc.kill()
                ld.proc.wait()
            ld.reader.join(10)
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline:
            out = json.loads(ben("status", "--spine", self.spine_addr, "--sidecar", self.sidecar_addr,
                                 "--json").stdout or "{}")
            depth = sum(f["value"] for comp in out.values() for f in comp.get("figures", [])
                        if f["name"] == "wal_records")
            if out and all("figures" in comp for comp in out.values()) and depth == 0:
                return
            time.sleep(0.5)
        self.finding(f"the WALs did not drain in {drain_timeout:.0f} s")

    def query(self, sql: str) -> list[dict]:
        out = ben("query", "--spine", self.spine_addr, "--json", sql)
        if out.returncode != 0:
            raise SystemExit(f"seed={self.seed}: ben query failed: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def check(self) -> dict:
        summary = {"seed": self.seed, "sdk_acked": 0, "sdk_lost": 0, "sdk_duplicated": 0, "otlp_requests_acked": 0,
                   "otlp_requests_retried": 0, "otlp_records_acked": 0, "otlp_lost": 0, "otlp_duplicated_unexplained": 0,
                   "otlp_duplicated_after_retry": 0}
        sdk = [ld for ld in self.loaders if ld.kind == "sdk"]
        names = ", ".join(f"'{ld.name}'" for ld in sdk)
        rows = self.query(  # one query for every SDK load process: events it saw acknowledged, and all
            "SELECT subsystem, uniqExactIf(producer_seq, producer_seq <= acked) AS acked_present, "
            "count() AS n, uniqExact(producer_seq) AS distinct_seqs FROM (SELECT subsystem, producer_seq, "
            f"transform(subsystem, [{names}], [{', '.join(str(ld.acked) for ld in sdk)}], 0) AS acked "
            f"FROM ben.events WHERE subsystem IN ({names})) GROUP BY subsystem")
        by_name = {r["subsystem"]: r for r in rows}
        for ld in sdk:
            row = by_name.get(ld.name, {"acked_present": 0, "n": 0, "distinct_seqs": 0})
            lost, dup = ld.acked - int(row["acked_present"]), int(row["n"]) - int(row["distinct_seqs"])
            summary["sdk_acked"] += ld.acked
            summary["sdk_lost"] += lost
            summary["sdk_duplicated"] += dup
            if lost or dup:
                seqs = self.query(f"SELECT producer_seq AS s, count() AS c FROM ben.events WHERE subsystem = "
                                  f"'{ld.name}' GROUP BY s HAVING c > 1 ORDER BY s LIMIT 5")
                self.finding(f"sdk {ld.name}: acknowledged 1..{ld.acked}, {lost} of them not stored; "
                             f"{dup} rows stored twice (first: {seqs})" + (f"; missing: {self.gaps(ld)}" if lost else ""))
        for ld in (ld for ld in self.loaders if ld.kind == "otlp"):
            rows = self.query("SELECT body, count() AS c FROM ben.events "
                              f"WHERE subsystem = '{ld.name}' AND kind = 'log' GROUP BY body")
            stored = {r["body"]: int(r["c"]) for r in rows}
            summary["otlp_requests_acked"] += len(ld.ok)
            summary["otlp_requests_retried"] += len(ld.retried)
            for r, attempts in ld.ok.items():
                for k in range(OTLP_RECORDS):
                    c = stored.get(f"otlp {r} {k}", 0)
                    summary["otlp_records_acked"] += 1
                    if c == 0:
                        summary["otlp_lost"] += 1
                    elif c > 1 and (attempts > 1 or r in ld.retried):
                        summary["otlp_duplicated_after_retry"] += c - 1
                    elif c > 1:
                        summary["otlp_duplicated_unexplained"] += c - 1
            if summary["otlp_lost"] or summary["otlp_duplicated_unexplained"] or summary["otlp_duplicated_after_retry"]:
                self.finding(f"otlp {ld.name}: lost {summary['otlp_lost']}, duplicated without a retry "
                             f"{summary['otlp_duplicated_unexplained']}, after a retry "
                             f"{summary['otlp_duplicated_after_retry']}")
        twice = self.query("SELECT id, count() AS c FROM ben.incidents FINAL GROUP BY id HAVING c > 1")
        if twice:
            self.finding(f"incidents stored twice: {twice[:5]}")
        summary["audit_entries"] = {}
        for flag, addr in (("--spine", self.spine_addr), ("--sidecar", self.sidecar_addr)):
            out = ben("audit", "verify", flag, addr, "--json")
            if out.returncode != 0:
                self.finding(f"ben audit verify {flag}: {out.stdout.strip() or out.stderr.strip()}")
            else:  # each copy's entries (the refused control attaches of every restart are audited too)
                copies = json.loads(out.stdout)["copies"]
                summary["audit_entries"][flag[2:]] = {c["copy"]: c["entries"] for c in copies}
        summary["incidents_stored_twice"] = len(twice)
        summary["leaked"] = self.leaked()  # (checked again after the final stop)
        self.count_resends()
        summary["resends_deduplicated"] = dict(self.resends)
        return summary

    def gaps(self, ld: Loader) -> str:
        """The first runs of acknowledged SDK events not stored, each with the events stored on either side of it
        (their event times, lanes and spine WAL records): which round lost them, and where (seed 8901, ADR 0046)."""
        sql = ("SELECT prev + 1 AS first, s - 1 AS last, prev_at, at, prev_spine, spine FROM (SELECT s, "
               "lagInFrame(s, 1, 0) OVER w AS prev, at, lagInFrame(at, 1, '') OVER w AS prev_at, spine, "
               "lagInFrame(spine, 1, '') OVER w AS prev_spine FROM (SELECT producer_seq AS s, "
               "formatDateTime(fromUnixTimestamp64Nano(any(ts)), '%T') AS at, "
               "concat(toString(any(lane)), '/', toString(any(spine_seq))) AS spine FROM ben.events "
               f"WHERE subsystem = '{ld.name}' AND producer_seq <= {ld.acked} GROUP BY producer_seq) "
               "WINDOW w AS (ORDER BY s ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) WHERE s > prev + 1 ORDER BY first LIMIT 8")
        out = ben("query", "--spine", self.spine_addr, "--json", sql)
        if out.returncode != 0:
            return f"(not read: {out.stderr.strip()[:300]})"
        runs = [f"{r['first']}..{r['last']} (after {r['prev_at'] or '-'} lane/spine_seq {r['prev_spine'] or '-'}, "
                f"before {r['at']} {r['spine']})" for r in json.loads(out.stdout)]
        top = self.query(f"SELECT max(producer_seq) AS m FROM ben.events WHERE subsystem = '{ld.name}'")
        last = int(top[0]["m"] or 0) if top else 0
        if last < ld.acked:
            runs.append(f"{last + 1}..{ld.acked} (after the last stored)")
        return "; ".join(runs) or "none found"

    def stop(self, timeout: float = 60.0) -> None:
        for which in ("sidecar", "spine"):
            proc = self.procs[which]
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.finding(f"{which} did not stop within {timeout:.0f} s of SIGTERM")
                self.kill(which)

    def kill_all(self) -> None:
        for ld in self.loaders:
            if ld.proc.poll() is None:
                ld.proc.kill()
        self.kill("sidecar")
        self.kill("spine")
        self.release()

    def release(self) -> None:
        """The ClickHouse server stopped, the small file systems unmounted."""
        if self.clickhouse is not None:
            self.clickhouse.stop()
            self.clickhouse = None
        self.unmount()


def run(*, rounds: int, seed: int, rate: float = 2_000, otlp_rate: float = 400, home: Path | None = None,
        drain_timeout: float = 300, log=print, scenarios: tuple[str, ...] = ALL_SCENARIOS, store: str = "chdb",
        small_disk_mb: int = 0) -> dict:
    """Run the harness; the summary (rounds, acked, lost, duplicated, findings). ``store``: chdb or
    clickhouse (a server the harness starts); ``small_disk_mb``: data directories on tmpfs of that size
    (root), for the disk-full fault."""
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown or not scenarios:
        raise SystemExit(f"--scenarios: unknown {sorted(unknown)} (known: {', '.join(ALL_SCENARIOS)})")
    own = home is None
    home = Path(home or tempfile.mkdtemp(prefix="ben-crash-", dir="/tmp"))
    home.mkdir(parents=True, exist_ok=True)
    h = Harness(home, seed, rate=rate, otlp_rate=otlp_rate, log=log, scenarios=scenarios, store=store,
                small_disk_mb=small_disk_mb)
    t0 = time.monotonic()
    log(f"crash harness: seed={seed} rounds={rounds} store={store} home={home} faults={','.join(h.scenarios)}")
    try:
        for which in ("spine", "sidecar"):
            if h.rng.random() < 0.5:  # killed during its very first start (an empty data directory)
                h.spawn(which)
                after = h.rng.uniform(0.0, 3.0)
                time.sleep(after)
                h.kill(which)
                log(f"first start of the {which} killed after {after:.2f} s")
            h.start(which)
        h.start_loader("sdk")
        h.start_loader("otlp")
        for n in range(1, rounds + 1):
            h.round(n, rounds)
        h.finish(drain_timeout)
        summary = h.check()
        h.stop()
        left = h.leaked()
        if left:  # after a clean stop: what the kills left that no restart removed
            h.finding(f"files left by killed writes after the final stop: {left[:6]} ({len(left)} in all)")
        for line in h.parts_set_aside():  # kept (below) with the store that says it
            h.finding(f"the spine's store set parts aside at a start: {line}")
        h.release()
    except BaseException:
        log(f"crash harness: seed={seed} interrupted; logs in {home}")
        h.kill_all()
        raise
    summary.update(rounds=rounds, store=store, faults=h.faults, seconds=round(time.monotonic() - t0, 1), findings=h.findings,
                   restart_median_s=round(sorted(h.restarts)[len(h.restarts) // 2], 2) if h.restarts else None,
                   detection_resumed=h.resumed, checkpoint_writes_cut=h.checkpoint_writes_cut, otlp_reconnect_s=(round(sorted(h.otlp_reconnects)[len(h.otlp_reconnects) // 2], 2),
                                     round(max(h.otlp_reconnects), 2)) if h.otlp_reconnects else None)
    if own and not h.findings:
        shutil.rmtree(home, ignore_errors=True)
    else:
        summary["home"] = str(home)
    return summary


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("--sdk-load", "--otlp-load"):
        target, name, rate = sys.argv[2], sys.argv[3], float(sys.argv[4])
        (sdk_load if sys.argv[1] == "--sdk-load" else otlp_load)(target, name, rate)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="kill rounds (default 30)")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random, printed)")
    parser.add_argument("--rate", type=float, default=2_000, help="SDK events/s (default 2000)")
    parser.add_argument("--otlp-rate", type=float, default=400, help="OTLP log records/s (default 400)")
    parser.add_argument("--home", type=Path, default=None, help="working directory (default: a new one in /tmp)")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                        help=f"faults to draw from, comma-separated (default: all: {','.join(ALL_SCENARIOS)}; "
                             "disk-full needs --small-disk-mb, clickhouse --store clickhouse)")
    parser.add_argument("--store", choices=("chdb", "clickhouse"), default="chdb",
                        help="the spine's store: chDB, or a clickhouse-server the harness starts (default chdb)")
    parser.add_argument("--small-disk-mb", type=int, default=0,
                        help="put each data directory on a tmpfs of this size (root) for the disk-full fault")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    asked = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    if not drawable(asked, server=args.store == "clickhouse", disk=args.small_disk_mb > 0):
        parser.error(f"--scenarios: none of {','.join(asked)} can be made in this run (disk-full needs "
                     "--small-disk-mb, clickhouse --store clickhouse, store/store-part/store-repair a chDB store)")
    summary = run(rounds=args.rounds, seed=seed, rate=args.rate, otlp_rate=args.otlp_rate, home=args.home,
                  scenarios=tuple(s.strip() for s in args.scenarios.split(",") if s.strip()), store=args.store,
                  small_disk_mb=args.small_disk_mb)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"summary: seed={seed} rounds={summary['rounds']} in {summary['seconds']} s; "
              f"sdk events acked {summary['sdk_acked']}, lost {summary['sdk_lost']}, duplicated "
              f"{summary['sdk_duplicated']}; otlp records acked {summary['otlp_records_acked']}, lost "
              f"{summary['otlp_lost']}, duplicated {summary['otlp_duplicated_unexplained']} "
              f"(+{summary['otlp_duplicated_after_retry']} after a retry of {summary['otlp_requests_retried']} "
              f"requests sent again, at-least-once by design); "
              f"incidents stored twice {summary['incidents_stored_twice']}; requests resent and acknowledged "
              f"again without storing: {summary['resends_deduplicated']}; audit entries verified intact: "
              f"{summary['audit_entries']}; median restart "
              f"{summary['restart_median_s']} s; spine starts resumed from a detection checkpoint "
              f"{summary['detection_resumed']} ({summary['checkpoint_writes_cut']} after a kill inside a checkpoint "
              f"write); OTLP answered again after a sidecar restart (median, max) "
              f"{summary['otlp_reconnect_s']} s; findings {len(summary['findings'])}")
        for f in summary["findings"]:
            print(f"  - {f}")
    return 1 if summary["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
