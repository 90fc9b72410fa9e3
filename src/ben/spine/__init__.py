"""The spine: receives batches from sidecars, keeps them in its WAL, and feeds its consumers.

The store writer (WAL -> ClickHouse or chDB), then detection (stored rows -> series ->
:class:`ben.detect.MonitorBank` -> anomalies), the correlator (anomalies -> incidents, with their
``explain`` narrative) and the command plane (signed commands to sidecars).
"""

from ben.spine.app import Spine

__all__ = ["Spine"]
