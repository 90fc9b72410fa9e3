"""ben: observability with teeth, without lock-in.

Components (one package each, data flowing left to right)::

    ben.sdk -> ben.sidecar -> ben.spine -> ben.store
                         (ben.core: errors, config, WAL, codec, transport)

The wire contract is ``ben.v1`` (generated from ``proto/ben/v1``).
"""

__version__ = "0.1.0"
