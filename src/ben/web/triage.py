"""The cortex's recommended responses for the incident page (read-only; ADR 0039, 0037).

The same call as ``ben explain``: the cortex of the config's ``[cortex]`` (off when it names no
``responses``), opened per request because ``ben cortex accept|feedback`` in another process may
have taught it since. Showing a ranking appends the cortex's own audit line when the ranking
changed, as ``ben explain`` does; nothing is accepted or sent from the page.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable

from ben.core.config import BenConfig

Recommend = Callable[[dict, list[dict]], dict]


def recommender(cfg: BenConfig) -> Recommend | None:
    """A function (incident row, anomaly rows) -> the cortex's recommendation; None when it is off."""
    from ben.cortex.responses import Responses

    c = cfg.cortex
    if c.responses is None:
        return None
    policy_path = cfg.spine.control.policy
    Responses.load(c.responses)  # at start: a file that is not there was said on every incident page only

    def recommend(incident: dict, anomalies: list[dict]) -> dict:
        from ben.control.policy import Policy
        from ben.core.config import ben_home
        from ben.cortex.cortex import Cortex, Settings
        from ben.cortex.responses import Responses

        cortex = Cortex(data_dir=c.data_dir or ben_home() / "cortex", responses=Responses.load(c.responses),
                        policy=Policy.load(policy_path) if policy_path else None,
                        settings=Settings(alpha=c.alpha, discount=c.discount, feature_dim=c.feature_dim,
                                          resolve_within_s=c.resolve_within_s)).start()
        rows = [{**a, "evidence": json.dumps(a["evidence"]) if isinstance(a.get("evidence"), dict)
                 else a.get("evidence")} for a in anomalies]
        rec = cortex.recommend(incident, rows)
        for e in rec["ranked"]:  # the line the operator runs to choose it (prints the command to sign)
            e["accept_line"] = " ".join(shlex.quote(p) for p in ("ben", "cortex", "accept", rec["incident"],
                                                                 e["response"]))
        return rec

    return recommend
