"""The event-time range of the wire contract, without heavy imports (the SDK uses it).

Event times outside [MIN_TS_NS, MAX_TS_NS) (2000-01-01 to 2100-01-01 UTC) are refused by the SDK
at emit and counted by the receivers (``ben.core.batch.count_bad_ts``), ADR 0033.
"""

MIN_TS_NS = 946_684_800 * 10**9       # 2000-01-01T00:00:00Z
MAX_TS_NS = 4_102_444_800 * 10**9     # 2100-01-01T00:00:00Z
