"""Write a PNG of each page of the web interface to docs/images/ (``make screenshots``).

Starts a spine and a sidecar (real processes) in a temp dir, sends five minutes of two subsystems'
metrics with a latency fault in one, serves the web interface beside them, and photographs each page
in Debian's headless Chromium (scripts/debian-deps.sh installs it).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.core.admin import acknowledge
from ben.core.config import BenConfig, CortexConfig, WebConfig
from ben.sdk import Client
from ben.web import WebServer
from ben.web.triage import recommender

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
S = 10**9
RESPONSES = """
[[subsystems]]
match = "*"
responses = ["watch", "page:oncall", "cmd:throttle"]

[commands.throttle]
action = "throttle_job"
params = { job = "checkout", rate_per_s = 5 }
"""


def emit(cluster: Cluster, t0: int, seconds: int, fault_from: int) -> None:
    rng = random.Random(7)
    for subsystem, name, base in (("checkout-api", "latency_ms", 120.0), ("inventory", "queue_depth", 40.0)):
        client = Client(subsystem, sidecar=cluster.sidecar_addr, max_batch_events=50)
        for sec in range(seconds):
            level = base * (4 if subsystem == "checkout-api" and sec >= fault_from else 1)
            for j in range(10):
                client.gauge(name, rng.gauss(level, level / 10), {"route": "/pay"} if name == "latency_ms" else {},
                             ts=t0 + sec * S + j * S // 10)
        assert client.flush(timeout=60)
        client.shutdown()


def main() -> int:
    import time

    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bs-", dir="/tmp"))
    cluster = Cluster(home, spine={"detect": {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 3600.0}})
    web = None
    try:
        cluster.start()
        t0 = (int(time.time()) - 330) * S
        emit(cluster, t0, 330, 300)
        [inc] = wait_for(lambda: query_rows(cluster.spine_addr, "SELECT id FROM ben.incidents FINAL LIMIT 1"), 60,
                         "an incident")
        # An acknowledgement (audited: its entry shows in the incident's audit trail) and the cortex's
        # recommendations for the incident page.
        acknowledge(cluster.spine_addr, inc["id"], "alice (web)")
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT seq FROM ben.audit WHERE kind = 'acknowledgement'"),
                 30, "the acknowledgement in ben.audit")
        (home / "responses.toml").write_text(RESPONSES)
        cortex = BenConfig(cortex=CortexConfig(data_dir=home / "cortex", responses=home / "responses.toml"))
        web = WebServer(WebConfig(listen_port=0), cluster.spine_addr, (cluster.sidecar_addr,),
                        recommend=recommender(cortex)).start()
        base = web.url.rstrip("/")
        OUT.mkdir(parents=True, exist_ok=True)
        pages = {"map": "/", "incidents": "/incidents", "incident": f"/incident/{inc['id']}",
                 "series": "/series?subsystem=checkout-api&name=latency_ms", "status": "/status",
                 "commands": "/commands",
                 "sql": "/sql?q=SELECT+subsystem,+name,+count()+AS+n,+avg(value)+AS+mean+FROM+ben.events"
                        "+GROUP+BY+subsystem,+name+ORDER+BY+n+DESC"}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            for name, path in pages.items():
                page.goto(base + path)
                if name in ("incident", "series"):
                    page.wait_for_selector(".plot canvas", timeout=10_000)
                if name in ("map", "incidents"):
                    page.wait_for_selector("#live-dot.on", timeout=10_000)
                page.wait_for_timeout(500)  # let the layout and the first live update settle for the picture
                page.screenshot(path=str(OUT / f"web-{name}.png"), full_page=name != "status")
                print(f"wrote {OUT / f'web-{name}.png'}")
            browser.close()
    finally:
        if web is not None:
            web.shutdown(2.0)
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
