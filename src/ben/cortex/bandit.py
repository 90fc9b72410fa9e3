"""Discounted LinUCB: one ridge regression per response, an upper confidence bound to choose.

Per arm ``a``: ``A_a = lambda*I + sum gamma^age * x x^T`` and ``b_a = sum gamma^age * r x``; the
expected reward of context ``x`` is ``x . theta_a`` (``theta_a = A_a^-1 b_a``), its uncertainty
``sqrt(x . A_a^-1 x)``, and the score ``mean + alpha * uncertainty``. Every update discounts every
arm by ``gamma`` (towards the prior), so what was learned long ago fades: a response that stopped
working loses its lead within about ``1 / (1 - gamma)`` incidents, and responses not tried lately
grow uncertain again and get re-tried (D-LinUCB, Russac et al. 2019). A change is detected rather
than waited for (``_watch``: a CUSUM per response and kind of context, M-UCB style): the outcomes
remembered of that kind of context are removed exactly (``forget``) and it is explored for a few
outcomes (ADR 0039). Deterministic: no randomness, ties go to the earlier arm. State is plain
arrays and numbers (``to_json`` / ``from_json``), never pickled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ben.core.errors import ConfigError


@dataclass(frozen=True)
class Estimate:
    """One arm's view of one context."""

    arm: str
    mean: float
    uncertainty: float
    score: float
    weight: float          # discounted number of updates of this arm


class LinUCB:
    """Discounted LinUCB over fixed-size vectors; arms are response names."""

    def __init__(self, *, arms: list[str], dim: int, alpha: float = 0.02, discount: float = 0.99,
                 ridge: float = 1.0, prior: float = 0.5, change_drop: float = 0.0, change_threshold: float = 4.0):
        if not arms:
            raise ConfigError("the bandit needs at least one response", field="cortex.responses")
        if not 0.0 < discount <= 1.0:
            raise ConfigError(f"discount {discount} must be in (0, 1]", field="cortex.discount")
        if not 0.0 <= change_drop < 1.0:
            raise ConfigError(f"change_drop {change_drop} must be in [0, 1)", field="cortex.change_drop")
        self.dim, self.alpha, self.discount, self.ridge, self.prior = dim, alpha, discount, ridge, prior
        self.change_drop, self.change_threshold = change_drop, change_threshold
        self.confident = 0.5     # uncertainty (per unit of |x|) under which an expectation is believed
        #: Outcomes remembered one by one so that a change can remove them (older ones weigh < 0.3%).
        self.memory = 600 if discount >= 1.0 else min(600, int(np.ceil(np.log(0.003) / np.log(discount))))
        self.recent: list[dict] = []
        #: After a change in a kind of context, its next ``explore_after_change`` outcomes per arm are
        #: chosen with the uncertainty weighing ``explore_alpha``: the responses that look good there
        #: only because of what they do elsewhere (shared features) must not keep the new best untried.
        self.explore_after_change, self.explore_alpha = 2, 0.2
        self.exploring: dict[str, int] = {}
        self.cusum: dict[str, float] = {}
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.resets: list[dict] = []     # change alarms: {"arm", "update"} (the last few, for explanations)
        self.arms: list[str] = []
        self.A: dict[str, np.ndarray] = {}
        self.b: dict[str, np.ndarray] = {}
        self.weight: dict[str, float] = {}
        self.updates = 0
        for arm in arms:
            self.add_arm(arm)

    def add_arm(self, arm: str) -> None:
        if arm in self.A:
            return
        self.arms.append(arm)
        self.A[arm] = self.ridge * np.eye(self.dim)
        self.b[arm] = np.zeros(self.dim)
        self.weight[arm] = 0.0

    def _solved(self, arm: str) -> tuple[np.ndarray, np.ndarray]:
        """``A^-1`` and ``theta`` of an arm, kept until the arm changes."""
        got = self._cache.get(arm)
        if got is None:
            inv = np.linalg.inv(self.A[arm])
            got = self._cache[arm] = (inv, inv @ self.b[arm])
        return got

    def estimate(self, arm: str, x: np.ndarray, key: str = "") -> Estimate:
        inv, theta = self._solved(arm)
        mean = self.prior + float(x @ theta)
        unc = float(np.sqrt(max(0.0, x @ inv @ x)))
        alpha = self.explore_alpha if self.exploring.get(key, 0) > 0 else self.alpha
        return Estimate(arm=arm, mean=mean, uncertainty=unc, score=mean + alpha * unc, weight=self.weight[arm])

    def theta(self, arm: str) -> np.ndarray:
        return self._solved(arm)[1]

    def rank(self, x: np.ndarray, allowed: list[str] | None = None, key: str = "") -> list[Estimate]:
        """Allowed arms (default: all), best score first; ties keep arm order. ``key``: the kind of
        context (after a change there, its uncertainty weighs ``explore_alpha``)."""
        arms = self.arms if allowed is None else [a for a in self.arms if a in set(allowed)]
        for a in allowed or ():
            if a not in self.A:
                self.add_arm(a)
                arms.append(a)
        ests = [self.estimate(a, x, key) for a in arms]
        return sorted(ests, key=lambda e: -e.score)

    def choose(self, x: np.ndarray, allowed: list[str] | None = None, key: str = "") -> str:
        return self.rank(x, allowed, key)[0].arm

    def update(self, arm: str, x: np.ndarray, reward: float, key: str = "") -> None:
        """Learn that ``arm`` got ``reward`` (0..1) in context ``x`` (of kind ``key``, e.g. the
        subsystem and direction); everything else fades by ``discount``."""
        self.add_arm(arm)
        self._watch(arm, x, reward, key)
        g = self.discount
        if g < 1.0:
            prior = (1.0 - g) * self.ridge * np.eye(self.dim)
            for a in self.arms:
                self.A[a] = g * self.A[a] + prior
                self.b[a] = g * self.b[a]
                self.weight[a] *= g
        self._cache.clear()
        self.A[arm] = self.A[arm] + np.outer(x, x)
        self.b[arm] = self.b[arm] + (reward - self.prior) * x
        self.weight[arm] += 1.0
        self.updates += 1
        if self.exploring.get(key, 0) > 0:
            self.exploring[key] -= 1
        if self.change_drop > 0.0:
            self.recent.append({"arm": arm, "x": x.copy(), "reward": float(reward), "key": key, "at": self.updates})
            del self.recent[:-self.memory]

    def _watch(self, arm: str, x: np.ndarray, reward: float, key: str) -> None:
        """Change detection on each (response, kind of context) reward stream: a one-sided CUSUM of how
        much worse the reward is than the model confidently expected, ``g = max(0, g + expected -
        reward - drop/2)`` (only where the arm's uncertainty at ``x`` is below ``confident`` per unit
        of ``|x|``: an optimistic guess about a response barely tried is exploration, not a change).
        A fall of ``change_drop`` or more crosses ``change_threshold`` after a few outcomes; then every
        arm forgets its remembered outcomes of that kind of context (``forget``): the best response
        there changed, so what the others were worth there is stale too, and the new best is found by
        trying them again. The other contexts keep what they learned. Off when ``change_drop`` is 0."""
        if self.change_drop <= 0.0:
            return
        est = self.estimate(arm, x)
        if est.uncertainty > self.confident * float(np.linalg.norm(x)):
            return
        watched = f"{arm}|{key}"
        g = max(0.0, self.cusum.get(watched, 0.0) + min(1.0, max(0.0, est.mean)) - reward - self.change_drop / 2.0)
        self.cusum[watched] = g
        if g > self.change_threshold:
            self.forget(key)
            self.exploring[key] = self.explore_after_change * len(self.arms)
            self.resets = [*self.resets[-9:], {"arm": arm, "key": key, "update": self.updates + 1}]

    def forget(self, key: str) -> int:
        """Remove, exactly, what every arm still holds of its last ``memory`` outcomes in contexts of
        kind ``key`` (an outcome ``k`` updates ago weighs ``discount^k``: that is subtracted from ``A``
        and ``b``); their CUSUMs restart. How many outcomes were forgotten."""
        g, kept, gone = self.discount, [], 0
        for e in self.recent:
            if e["key"] != key:
                kept.append(e)
                continue
            w = g ** (self.updates - e["at"])
            x, arm = np.asarray(e["x"], dtype=float), e["arm"]
            self.A[arm] = self.A[arm] - w * np.outer(x, x)
            self.b[arm] = self.b[arm] - w * (e["reward"] - self.prior) * x
            self.weight[arm] = max(0.0, self.weight[arm] - w)
            gone += 1
        self.recent = kept
        self._cache.clear()
        for k in [k for k in self.cusum if k.endswith(f"|{key}")]:
            self.cusum[k] = 0.0
        return gone

    def to_json(self) -> dict:
        return {"dim": self.dim, "alpha": self.alpha, "discount": self.discount, "ridge": self.ridge,
                "prior": self.prior, "change_drop": self.change_drop, "change_threshold": self.change_threshold,
                "updates": self.updates, "resets": list(self.resets),
                "cusum": dict(sorted(self.cusum.items())), "exploring": dict(sorted(self.exploring.items())),
                "recent": [{**e, "x": [float(v) for v in e["x"]]} for e in self.recent],
                "arms": [{"arm": a, "A": self.A[a].tolist(), "b": self.b[a].tolist(), "weight": self.weight[a]}
                         for a in self.arms]}

    @classmethod
    def from_json(cls, doc: dict) -> LinUCB:
        out = cls(arms=[e["arm"] for e in doc["arms"]] or ["watch"], dim=int(doc["dim"]), alpha=float(doc["alpha"]),
                  discount=float(doc["discount"]), ridge=float(doc["ridge"]), prior=float(doc["prior"]),
                  change_drop=float(doc.get("change_drop", 0.0)),
                  change_threshold=float(doc.get("change_threshold", 4.0)))
        for e in doc["arms"]:
            A, b = np.asarray(e["A"], dtype=float), np.asarray(e["b"], dtype=float)
            if A.shape != (out.dim, out.dim) or b.shape != (out.dim,):
                raise ValueError(f"arm {e['arm']!r}: arrays of the wrong shape")
            out.A[e["arm"]], out.b[e["arm"]], out.weight[e["arm"]] = A, b, float(e["weight"])
        out._cache.clear()
        out.updates, out.resets = int(doc["updates"]), list(doc.get("resets", []))
        out.cusum = {str(k): float(v) for k, v in doc.get("cusum", {}).items()}
        out.exploring = {str(k): int(v) for k, v in doc.get("exploring", {}).items()}
        out.recent = [{**e, "x": np.asarray(e["x"], dtype=float)} for e in doc.get("recent", [])]
        return out
