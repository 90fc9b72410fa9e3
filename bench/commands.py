"""Commands benchmark: a burst of signed commands through a real spine and sidecar.

    ben bench commands [--commands N] [--in-flight W] [--senders S] [--realtime-priority P] [--json]

A spine and a sidecar run as processes (trust store with an operator key and the sidecar's pinned
key, a policy allowing the burst); an SDK client in this process handles the action ``bench_ping``
and counts every run by command id. N envelopes are signed beforehand (per-issuer sequence 1..N)
and S sender threads send them over persistent gRPC channels, holding at most W commands without
a run (closed loop: a sender waits while W commands are outstanding). Reported:

* ``commands_per_s``: N / (time from the first Send to the last receipt at the spine);
* ``p50_ms``, ``p99_ms``, ``max_ms``: per command, the spine's receipt time - the spine's record time
  (``receipt_at - created_at`` in its record: from Send to the signed receipt back at the spine);
* ``deliveries_per_command``: pushes to the sidecar over N (1.0: each pushed once);
* ``ran_once``: every command ran exactly once (the handler's counts), ``accepted``: receipts;
* ``sidecar_rss_mib``: the sidecar's resident memory before and after the burst, and the growth;
* the sidecar and the spine run at ``realtime_priority = P`` (default 1, SCHED_RR, as ``ben bench lanes``:
  the setting for a host whose cores ben shares, ADR 0027; 0 = normal scheduling);
* the baseline, measured in the same run: bare gRPC round trips to the same spine (``List`` of one
  unknown id, no disk) over one channel, p50 and p99 (``baseline_rtt_p50_ms``, ``baseline_rtt_p99_ms``).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ACTION, TARGET, SIDECAR_ID = "bench_ping", "bench", "bench-1"


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _setup(home: Path, commands: int):
    from ben.control import keys

    operator = keys.generate(home / "keys", "operator")
    sidecar = keys.generate(home / "sidecar" / "control", "sidecar")
    trust = home / "trust.toml"
    trust.write_text(f'''
[roles.operator]
kind = "human"
actions = ["*"]
targets = ["*"]
approve = true

[[keys]]
name = "operator"
role = "operator"
public_key = "{operator.public_text}"

[[sidecars]]
id = "{SIDECAR_ID}"
public_key = "{sidecar.public_text}"
''')
    policy = home / "policy.toml"
    policy.write_text(f'''
[actions.{ACTION}]
targets = ["{TARGET}"]
blast_radius = 1
rate = {commands * 2}
window_s = 3600
''')
    control = {"trust": str(trust), "policy": str(policy)}
    return operator, {"control": control}, {"id": SIDECAR_ID, "control": control}


def run(commands: int = 10_000, in_flight: int = 16, senders: int = 4, progress: bool = True,
        realtime_priority: int = 1) -> dict:
    import grpc

    from ben.cli.procs import Cluster, wait_for
    from ben.control.documents import make_envelope
    from ben.core.errors import TransportError
    from ben.core.peers import operator_metadata
    from ben.core.transport import CHANNEL_OPTIONS
    from ben.sdk import Client
    from ben.v1 import control_pb2 as pb
    from ben.v1 import control_pb2_grpc as pb_grpc

    if commands < 1 or in_flight < 1 or senders < 1:
        raise ValueError("commands, in_flight and senders must be at least 1")
    _say(progress, f"ben bench commands: {commands:,} commands, at most {in_flight} outstanding, {senders} senders")
    with tempfile.TemporaryDirectory(prefix="ben-cmds-", dir="/tmp") as tmp:
        home = Path(tmp)
        operator, spine_opts, sidecar_opts = _setup(home, commands)
        cluster = Cluster(home, spine={**spine_opts, "realtime_priority": realtime_priority},
                          sidecar={**sidecar_opts, "realtime_priority": realtime_priority}, stop_with_parent=True)
        runs: dict[str, int] = {}
        lock = threading.Lock()
        ran = threading.Semaphore(0)

        def handler(cmd):
            with lock:
                runs[cmd.id] = runs.get(cmd.id, 0) + 1
            ran.release()
            return {"ok": 1}

        client = None
        stopping = threading.Event()
        try:
            cluster.start()
            client = Client(TARGET, sidecar=cluster.sidecar_addr)
            client.on_command(ACTION, handler)
            wait_for(lambda: client.commands_connected, 30, "the SDK's command stream")
            wait_for(lambda: cluster.status("sidecar").get("subsystems_attached", 0) >= 1, 30, "the subsystem")
            wait_for(lambda: cluster.status("sidecar").get("control_connected", 0) == 1, 30, "the control link")
            channel = grpc.insecure_channel(cluster.spine_addr, options=CHANNEL_OPTIONS)
            stub = pb_grpc.ControlStub(channel)

            def who() -> list[tuple[str, str]]:  # an operator token per call (ADR 0034), in the baseline too
                return operator_metadata(cluster.spine_addr)

            rtts = []
            for _ in range(500):  # the baseline: bare round trips to the same spine
                t = time.perf_counter()
                stub.List(pb.ListRequest(limit=1, command_id="none"), timeout=30, metadata=who())
                rtts.append((time.perf_counter() - t) * 1000)
            _say(progress, f"  baseline gRPC round trip: p50 {_pct(rtts, 0.5):.2f} ms, p99 {_pct(rtts, 0.99):.2f} ms")
            envelopes = [make_envelope(operator, ACTION, TARGET, {}, f"bench burst {i}", ttl_s=3600, seq=i + 1)
                         for i in range(commands)]
            rss_before = _rss_mib(cluster.sidecar.pid)
            slots = threading.Semaphore(in_flight)
            errors: list[str] = []
            started = time.monotonic()

            def settle() -> None:  # a run frees a slot (closed loop)
                while True:
                    ran.acquire()
                    slots.release()

            threading.Thread(target=settle, daemon=True).start()

            def send(part: list) -> None:
                own = pb_grpc.ControlStub(grpc.insecure_channel(cluster.spine_addr, options=CHANNEL_OPTIONS))
                for _, signed in part:
                    slots.acquire()
                    try:
                        reply = own.Send(pb.SendRequest(envelope=signed.to_proto(pb.Signed)), timeout=60,
                                         metadata=who())
                    except (grpc.RpcError, TransportError):  # (its operator token is asked of the spine first)
                        if stopping.is_set():  # interrupted: the cluster is going, not a failure to print
                            return
                        raise
                    if reply.state not in ("pending", "delivered", "accepted"):
                        errors.append(f"{reply.command_id}: {reply.state}: {reply.reason}")
                        slots.release()

            # Daemons: interrupted (Ctrl-C), the senders waiting for a slot no receipt would free held the exit for
            # ever after "ben: interrupted" (ADR 0033, round 13).
            threads = [threading.Thread(target=send, args=(envelopes[i::senders],), daemon=True)
                       for i in range(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            _say(progress, f"  sent {commands:,} in {time.monotonic() - started:.1f} s; waiting for receipts")
            ids = [env.id for env, _ in envelopes]
            records: dict[str, dict] = {}

            def fetch_missing() -> bool:
                import json

                for command_id in ids:
                    if command_id in records:
                        continue
                    got = json.loads(stub.List(pb.ListRequest(limit=1, command_id=command_id), timeout=30,
                                               metadata=who()).records_json)
                    if not got or not got[0].get("receipt"):
                        return False
                    records[command_id] = got[0]
                return True

            wait_for(lambda: len(runs) >= commands, 600, "every command to run")
            wait_for(fetch_missing, 600, "every receipt at the spine", interval=0.5)
            rss_after = _rss_mib(cluster.sidecar.pid)
            channel.close()
        finally:
            stopping.set()
            if client is not None:
                client.shutdown(timeout=2)
            cluster.stop()
    latencies = [(r["receipt_at"] - r["created_at"]) / 1e6 for r in records.values()]
    first = min(r["created_at"] for r in records.values())
    last = max(r["receipt_at"] for r in records.values())
    out = {
        "commands": commands, "in_flight": in_flight, "senders": senders, "realtime_priority": realtime_priority,
        "commands_per_s": round(commands / ((last - first) / 1e9), 1),
        "p50_ms": round(_pct(latencies, 0.5), 1), "p99_ms": round(_pct(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "deliveries_per_command": round(sum(r["deliveries"] for r in records.values()) / commands, 3),
        "ran_once": all(runs.get(i) == 1 for i in ids) and len(runs) == commands,
        "accepted": sum(1 for r in records.values() if r["state"] == "accepted"),
        "send_errors": errors[:5], "send_errors_total": len(errors),
        "sidecar_rss_mib": {"before": round(rss_before, 1), "after": round(rss_after, 1),
                            "growth": round(rss_after - rss_before, 1)},
        "baseline_rtt_p50_ms": round(_pct(rtts, 0.5), 2), "baseline_rtt_p99_ms": round(_pct(rtts, 0.99), 2),
        "baseline_rtt_mean_ms": round(statistics.fmean(rtts), 2),
        "cpus": os.cpu_count(),
    }
    _say(progress, f"  {out['commands_per_s']:,} commands/s, p99 {out['p99_ms']} ms, "
                   f"{out['deliveries_per_command']} deliveries/command, ran once: {out['ran_once']}, sidecar RSS "
                   f"+{out['sidecar_rss_mib']['growth']} MiB")
    return out
