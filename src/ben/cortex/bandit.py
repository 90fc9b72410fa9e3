"""Discounted LinUCB: one ridge regression per response, an upper confidence bound to choose.

Per arm ``a``: ``A_a = lambda*I + sum gamma^age * x x^T`` and ``b_a = sum gamma^age * r x``; the
expected reward of context ``x`` is ``x . theta_a`` (``theta_a = A_a^-1 b_a``), its uncertainty
``sqrt(x . A_a^-1 x)``, and the score ``mean + alpha * uncertainty``. Every update discounts every
arm by ``gamma`` (towards the prior), so what was learned long ago fades: a response that stopped
working loses its lead within about ``1 / (1 - gamma)`` incidents, and responses not tried lately
grow uncertain again and get re-tried (D-LinUCB, Russac et al. 2019). Deterministic: no randomness,
ties go to the earlier arm. State is plain arrays (``to_json`` / ``from_json``), never pickled.
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
                 ridge: float = 1.0, prior: float = 0.5):
        if not arms:
            raise ConfigError("the bandit needs at least one response", field="cortex.responses")
        if not 0.0 < discount <= 1.0:
            raise ConfigError(f"discount {discount} must be in (0, 1]", field="cortex.discount")
        self.dim, self.alpha, self.discount, self.ridge, self.prior = dim, alpha, discount, ridge, prior
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

    def estimate(self, arm: str, x: np.ndarray) -> Estimate:
        A = self.A[arm]
        theta = np.linalg.solve(A, self.b[arm])
        mean = self.prior + float(x @ theta)
        unc = float(np.sqrt(max(0.0, x @ np.linalg.solve(A, x))))
        return Estimate(arm=arm, mean=mean, uncertainty=unc, score=mean + self.alpha * unc, weight=self.weight[arm])

    def theta(self, arm: str) -> np.ndarray:
        return np.linalg.solve(self.A[arm], self.b[arm])

    def rank(self, x: np.ndarray, allowed: list[str] | None = None) -> list[Estimate]:
        """Allowed arms (default: all), best score first; ties keep arm order."""
        arms = self.arms if allowed is None else [a for a in self.arms if a in set(allowed)]
        for a in allowed or ():
            if a not in self.A:
                self.add_arm(a)
                arms.append(a)
        ests = [self.estimate(a, x) for a in arms]
        return sorted(ests, key=lambda e: -e.score)

    def choose(self, x: np.ndarray, allowed: list[str] | None = None) -> str:
        return self.rank(x, allowed)[0].arm

    def update(self, arm: str, x: np.ndarray, reward: float) -> None:
        """Learn that ``arm`` got ``reward`` (0..1) in context ``x``; everything else fades by ``discount``."""
        self.add_arm(arm)
        g = self.discount
        if g < 1.0:
            prior = (1.0 - g) * self.ridge * np.eye(self.dim)
            for a in self.arms:
                self.A[a] = g * self.A[a] + prior
                self.b[a] = g * self.b[a]
                self.weight[a] *= g
        self.A[arm] = self.A[arm] + np.outer(x, x)
        self.b[arm] = self.b[arm] + (reward - self.prior) * x
        self.weight[arm] += 1.0
        self.updates += 1

    def to_json(self) -> dict:
        return {"dim": self.dim, "alpha": self.alpha, "discount": self.discount, "ridge": self.ridge,
                "prior": self.prior,
                "updates": self.updates,
                "arms": [{"arm": a, "A": self.A[a].tolist(), "b": self.b[a].tolist(), "weight": self.weight[a]}
                         for a in self.arms]}

    @classmethod
    def from_json(cls, doc: dict) -> LinUCB:
        out = cls(arms=[e["arm"] for e in doc["arms"]] or ["watch"], dim=int(doc["dim"]), alpha=float(doc["alpha"]),
                  discount=float(doc["discount"]), ridge=float(doc["ridge"]), prior=float(doc["prior"]))
        for e in doc["arms"]:
            A, b = np.asarray(e["A"], dtype=float), np.asarray(e["b"], dtype=float)
            if A.shape != (out.dim, out.dim) or b.shape != (out.dim,):
                raise ValueError(f"arm {e['arm']!r}: arrays of the wrong shape")
            out.A[e["arm"]], out.b[e["arm"]], out.weight[e["arm"]] = A, b, float(e["weight"])
        out.updates = int(doc["updates"])
        return out
