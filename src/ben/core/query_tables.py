"""The ``system`` tables operator queries may read by default, apart from the configuration's pydantic models:
``ben.store.query`` needs them in every process that checks a query (the store process, ``ben query``), and
importing ``ben.core.config`` for one tuple cost those processes the configuration's models (ADR 0048)."""

from __future__ import annotations

#: The ``system`` tables operator queries may read by default (ADR 0045, round 4): what describes the store's
#: own data and the engine's vocabulary; not stack_trace (thread names), disks (paths, sizes),
#: server_settings, processes or query_log (others' statements), users or grants.
QUERY_SYSTEM_TABLES = ("one", "numbers", "numbers_mt", "zeros", "zeros_mt", "databases", "tables", "columns",
                       "parts", "functions", "table_functions", "aggregate_function_combinators",
                       "data_type_families", "formats", "settings", "time_zones")
