"""Federation: anonymised, signed incident summaries shared between clusters over NATS JetStream (ADR 0038)."""

from ben.federation.link import Federation

__all__ = ["Federation"]
