"""ben.otlp: the sidecar's OTLP receiver (OTLP/gRPC and OTLP/HTTP), ADR 0036.

Any OpenTelemetry SDK or Collector sends to ben unchanged: export requests are converted into
ben's columnar batches (``convert``) and handed to the sidecar's ingest receiver (``sender``), so
they get the same redaction, lanes, WAL and acknowledgement-after-fsync as the native SDK.
"""

from ben.otlp.convert import Converted, Converter
from ben.otlp.receiver import OtlpReceiver

__all__ = ["Converted", "Converter", "OtlpReceiver"]
