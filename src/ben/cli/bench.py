"""``ben bench ...``: runs the benchmarks in the checkout's bench/ directory."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated

import typer

from ben.core.errors import ConfigError

app = typer.Typer(help="Benchmarks (medians, with a baseline measured in the same run).", no_args_is_help=True)


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
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Durable end-to-end events/s (SDK -> sidecar -> spine -> chDB), raw store and raw WAL rates."""
    result = load("ingest").run(events=events, runs=runs, progress=not as_json)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>28}: {value:,.3f}" if isinstance(value, float) else f"{key:>28}: {value}")
