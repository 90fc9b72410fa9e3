"""ben: observability with teeth, without lock-in.

Data flows left to right, commands back (one package per component)::

    ben.sdk ──▶ ben.sidecar ──────────────▶ ben.spine ─────────────────────▶ ben.store
    (Client)    ben.otlp (OTLP in)           WAL, store writer, detection      chDB or a
                ben.redact (before its WAL)  (ben.detect), incidents,          ClickHouse server
                                             ben.federation (signed summaries to other clusters)
       ▲              ▲                          │
       └── commands ──┴─── ben.control ◀─────────┘   signed, policy-checked, audited

    ben.web: pages over the spine's admin socket; ben.cortex: responses learned from incidents
    (operator side); ben.cli: the ``ben`` command (processes, queries, demo, bench, keys, commands)
    ben.core: what all share (errors, config, WAL, lanes, receiver, transport, figures)

Imports go one way, down these layers (``tests/test_imports.py`` checks it)::

    v1 <- core <- {store, detect, redact} <- control <- {sdk, federation, cortex} <- otlp
       <- {sidecar, spine, web} <- cli

The wire contract is ``ben.v1`` (generated from ``proto/ben/v1``).
"""

__version__ = "0.1.0"
