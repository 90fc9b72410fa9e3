"""The web interface: server-rendered pages over the spine's read-only query path (ADR 0037).

Reads go through ``ben.core.admin`` (``run_query``, ``fetch_status``), the same public admin API the
CLI uses, so the server runs beside a spine (``ben web --spine ADDR``) or inside it (``ben spine
--web``) alike. The one write is acknowledging an incident, through the same path as ``ben
acknowledge``. Data flows one way: spine -> reads -> app -> browser.
"""

from ben.web.app import create_app
from ben.web.auth import resolve_token
from ben.web.server import WebServer

__all__ = ["WebServer", "create_app", "resolve_token"]
