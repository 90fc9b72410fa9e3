"""ben's SDK: what a subsystem imports to send telemetry to its local sidecar."""

from ben.sdk.buffer import BufferStats, FullPolicy
from ben.sdk.client import Client

__all__ = ["BufferStats", "Client", "FullPolicy"]
