"""The spine: receives batches from sidecars, keeps them in its WAL, and feeds its consumers.

Today's consumer is the store writer (WAL -> ClickHouse); detector lanes come next.
"""

from ben.spine.app import Spine

__all__ = ["Spine"]
