"""``ben bench ...``: runs the benchmarks in the checkout's bench/ directory."""

from __future__ import annotations

import importlib.util
import json
import math
import signal
from pathlib import Path
from typing import Annotated

import typer

from ben.core.errors import ConfigError

app = typer.Typer(help="Benchmarks (medians, with a baseline measured in the same run).", no_args_is_help=True)


def _stop_on_sigterm(signum, frame) -> None:
    """SIGTERM (``timeout``, a supervisor) raises SystemExit once, so the bench's ``finally`` blocks stop the
    cluster it started (a spine, a sidecar, a store process); without this they outlived the bench. Later
    SIGTERMs are ignored while that cleanup runs (a SIGKILL still ends the bench, and the cluster gets the
    parent-death signal)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


@app.callback()
def _bench() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


def bench_dir() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "bench").is_dir() and (parent / "pyproject.toml").is_file():
            return parent / "bench"
    raise ConfigError("benchmarks live in the source checkout's bench/ directory; run ben from a checkout")


def load(name: str):
    path = bench_dir() / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ben_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@app.command()
def ingest(
    events: Annotated[int, typer.Option(help="events per end-to-end run", min=1000)] = 400_000,
    runs: Annotated[int, typer.Option(help="runs of each measurement; medians are reported", min=1)] = 3,
    store: Annotated[str, typer.Option(help="store backend: chdb, or clickhouse (a server the bench starts, "
                                              "or --clickhouse)")] = "chdb",
    clickhouse: Annotated[str | None, typer.Option(metavar="HOST:PORT", help="use this ClickHouse server "
                                                   "(a scratch one: the bench writes ben.events)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Durable end-to-end events/s (SDK -> sidecar -> spine -> store), raw store and raw WAL rates."""
    if store not in ("chdb", "clickhouse"):
        raise ConfigError(f"--store {store!r}: expected chdb or clickhouse", source="command line", field="--store")
    if clickhouse is not None:
        host, sep, port = clickhouse.rpartition(":")
        if store != "clickhouse" or not sep or not host or not port.isdigit():
            raise ConfigError(f"--clickhouse {clickhouse!r}: expected HOST:PORT, with --store clickhouse",
                              source="command line", field="--clickhouse")
    _print(load("ingest").run(events=events, runs=runs, progress=not as_json, store=store, clickhouse=clickhouse),
           as_json)


def _finite(value):
    """``value`` with every NaN or infinite float made None: JSON has no Infinity (a tiny corpus's
    ratio printed as ``Infinity`` was not JSON any parser in strict mode reads)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json(result: dict) -> str:
    return json.dumps(_finite(result), allow_nan=False)


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(_json(result))
        return
    for key, value in result.items():
        if isinstance(value, float):
            typer.echo(f"{key:>28}: {value:,.3f}")
        elif not isinstance(value, (dict, list)):
            typer.echo(f"{key:>28}: {value}")


@app.command("federation")
def federation(
    summaries: Annotated[int, typer.Option(help="summaries published end to end", min=10)] = 100_000,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Federation: summaries/s and p99 through a local nats-server into a peer's store, vs nats-py's raw rate."""
    _print(load("federation").run(summaries=summaries, progress=not as_json), as_json)


@app.command("detect")
def detect(
    series: Annotated[int, typer.Option(help="number of series", min=1, max=1_000_000)] = 10_000,
    ingest_events: Annotated[int, typer.Option(help="events of the end-to-end ingest run the spine's detection "
                                                    "is set against (0: the recorded rate)", min=0)] = 200_000,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Detector speed: points/s with every built-in detector on, against a plain numpy EWMA pass; the spine's
    detection capacity beside the end-to-end ingest rate of the same run; its RSS with 100,000 series."""
    _print(load("detect").run(series=series, progress=not as_json, ingest_events=ingest_events), as_json)


@app.command("detect-quality")
def detect_quality(
    seed: Annotated[int, typer.Option(help="generator seed", min=0)] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Detector quality on labelled synthetic series: precision, recall, F1, delay, false alarms."""
    _print(load("detect_quality").run(seed=seed, progress=not as_json), as_json)


@app.command("detect-real")
def detect_real(
    corpus: Annotated[Path, typer.Argument(help="corpus directory: data/<group>/<file>.csv (timestamp,value) and "
                                                "labels/combined_windows.json (NAB's layout)")],
    generate: Annotated[bool, typer.Option("--generate", help="first write the realistic synthetic corpus there "
                                                          "(a corpus there is replaced; another directory refused)")]
    = False,
    seed: Annotated[int, typer.Option(help="generator seed (with --generate)", min=0)] = 17,
    files: Annotated[int, typer.Option(help="files to generate (with --generate)", min=1, max=10_000)] = 40,
    hard: Annotated[bool, typer.Option("--hard", help="with --generate: the harder operational categories instead "
                                                      "(ben.detect.corpus.generate_hard_corpus)")] = False,
    baseline: Annotated[bool, typer.Option("--baseline", help="also run the detector bank's monitor (before/after)")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Detection on labelled data: NAB scores (standard, low-FP, low-FN), episode precision/recall, delay."""
    from ben.cli import only_with

    only_with("--generate", generate, "seed", "files", "hard")  # the corpus there was scored as it was
    if not generate and not corpus.is_dir():
        raise ConfigError(f"{corpus}: not a directory (use --generate to write a corpus there)",
                          source="command line", field="CORPUS")
    result = load("detect_real").run(str(corpus), generate=generate, seed=seed, n_files=files, progress=not as_json,
                                     baseline=baseline, hard=hard)
    if not as_json:
        result = {k: v for k, v in result.items() if k != "files"}
    _print(result, as_json)


@app.command("lanes")
def lanes(
    routine_rate: Annotated[float, typer.Option(help="routine events/s offered")] = 30_000,
    spine_rows_per_s: Annotated[int, typer.Option(help="what the spine may store per second (cap)", min=1)] = 15_000,
    seconds: Annotated[float, typer.Option(help="seconds of overload")] = 15.0,
    runs: Annotated[int, typer.Option(help="overload runs, each on a fresh cluster; medians are reported", min=1)] = 3,
    realtime_priority: Annotated[int, typer.Option(
        help="the sidecar's and spine's realtime_priority (SCHED_RR; 0 = normal scheduling)", min=0, max=99)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Alert latency (SDK to stored) while routine traffic is twice what the spine can store."""
    for flag, value in (("--routine-rate", routine_rate), ("--seconds", seconds)):
        if not (math.isfinite(value) and value > 0):  # -1 s was an IndexError after the run, nan ran for ever
            raise ConfigError(f"{flag} {value}: expected a finite number > 0", source="command line", field=flag)
    _print(load("lanes").run(routine_rate=routine_rate, spine_rows_per_s=spine_rows_per_s, seconds=seconds,
                             progress=not as_json, runs=runs, realtime_priority=realtime_priority), as_json)


@app.command("wal")
def wal(
    cycles: Annotated[int, typer.Option(help="append-and-truncate cycles (at least 1000)", min=1000)] = 3000,
    directory: Annotated[str | None, typer.Option("--dir", help="where the WALs go (default /dev/shm: no disk "
                                                   "in the figures)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """A WAL truncated after every record (the alert lane): cost per cycle, first against last cycles."""
    if directory is not None and not Path(directory).is_dir():
        raise ConfigError(f"--dir {directory!r} is not a directory", source="command line", field="--dir")
    _print(load("wal").run(cycles=cycles, directory=directory, progress=not as_json), as_json)


@app.command("otlp")
def otlp(
    records: Annotated[int, typer.Option(help="OTLP log records and metric points per run", min=1000)] = 200_000,
    runs: Annotated[int, typer.Option(help="runs of each measurement; medians are reported", min=1)] = 3,
    streams: Annotated[int, typer.Option(help="concurrent OTLP/gRPC streams of the load generator", min=1,
                                         max=64)] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """OTLP items/s through the sidecar's OTLP receiver to the store, against the native SDK path."""
    _print(load("otlp").run(records=records, runs=runs, streams=streams, progress=not as_json), as_json)


@app.command("redact")
def redact(
    batches: Annotated[int, typer.Option(help="1000-event batches per workload and run", min=1)] = 100,
    runs: Annotated[int, typer.Option(help="runs of each measurement; medians are reported", min=1)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Redaction events/s on one core (attribute rules, body scanning) against no redaction, and the default
    manifest's coverage: recall per placement and benign look-alikes changed (ben.redact.corpus)."""
    _print(load("redact").run(batches=batches, runs=runs, progress=not as_json), as_json)


@app.command("commands")
def commands(
    count: Annotated[int, typer.Option("--commands", help="signed commands to send", min=1)] = 10_000,
    in_flight: Annotated[int, typer.Option(help="commands sent and not yet run, at most (closed loop)", min=1)] = 16,
    senders: Annotated[int, typer.Option(help="sender threads", min=1)] = 4,
    realtime_priority: Annotated[int, typer.Option(
        help="the sidecar's and spine's realtime_priority (SCHED_RR; 0 = normal scheduling)", min=0, max=99)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """A burst of signed commands through a real spine and sidecar: rate, p99 send-to-receipt, deliveries."""
    _print(load("commands").run(commands=count, in_flight=in_flight, senders=senders, progress=not as_json,
                                realtime_priority=realtime_priority), as_json)


@app.command("web")
def web(
    incidents: Annotated[int, typer.Option(help="incidents stored (each with one anomaly)", min=1)] = 100_000,
    events: Annotated[int, typer.Option(help="events stored", min=1000)] = 10_000_000,
    requests: Annotated[int, typer.Option(help="requests per page; p50/p99 over them", min=5)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object (p99_ms: the worst page's p99)")] = False,
) -> None:
    """Web interface: p50/p99 server time per page with many incidents and events stored, against the
    same queries through the admin API (ben query)."""
    result = load("web").run(incidents=incidents, events=events, requests=requests, progress=not as_json)
    if as_json:
        typer.echo(_json(result))
        return
    _print(result, False)
