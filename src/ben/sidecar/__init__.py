"""The sidecar: the SDK's local, durable first hop; ships its WAL to the spine."""

from ben.sidecar.app import Sidecar

__all__ = ["Sidecar"]
