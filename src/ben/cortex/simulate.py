"""A triage simulator with known best responses per context, for ``ben bench triage``.

Incidents come from a few subsystems going up or down (with random detectors, magnitudes, hours
and co-moving series as noise); each (subsystem, direction) has one best response (reward
probability ``p_best``) and worse ones. At ``changes`` the best response of half the contexts moves
to another response. The policy sees only the incident rows, through the real feature path
(``features.from_incident``), and learns from Bernoulli rewards; it is scored on expected rewards
against the oracle (always the best), a uniformly random policy and the best fixed response.
``off_policy`` checks an inverse-propensity estimate of a policy's value from logged random
decisions against its true value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from ben.cortex.bandit import LinUCB
from ben.cortex.cortex import Settings
from ben.cortex.features import FeatureIndex, from_incident

DEFAULTS = Settings()
ARMS = ["watch", "page:oncall", "cmd:throttle", "cmd:set_mode", "cmd:restart"]
SUBSYSTEMS = ["api", "batch", "db"]
DETECTOR_NAMES = ["ewma", "cusum", "robust", "seasonal"]  # names drawn for simulated anomalies


@dataclass
class World:
    """The truth: reward probabilities per (context, arm), changing at given incidents."""

    seed: int
    p_best: float = 0.9
    probs: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        for i, key in enumerate((s, d) for s in SUBSYSTEMS for d in ("up", "down")):
            best = ARMS[i % len(ARMS)]
            self.probs[key] = {a: (self.p_best if a == best else round(rng.uniform(0.1, 0.5), 3)) for a in ARMS}

    def shift(self, rng: random.Random) -> None:
        """Half the contexts get a new best response (the old best becomes poor)."""
        keys = sorted(self.probs)
        for key in rng.sample(keys, len(keys) // 2):
            p = self.probs[key]
            old = max(p, key=p.get)
            new = rng.choice([a for a in ARMS if a != old])
            p[old], p[new] = round(rng.uniform(0.1, 0.4), 3), self.p_best

    def best(self, key: tuple[str, str]) -> str:
        p = self.probs[key]
        return max(p, key=p.get)


def incident(rng: random.Random, n: int) -> tuple[tuple[str, str], dict, list[dict]]:
    """One synthetic incident: its truth key, its row and its anomaly rows (as ``ben.incidents`` has them)."""
    sub, direction = rng.choice(SUBSYSTEMS), rng.choice(("up", "down"))
    base = rng.uniform(10, 100)
    change = rng.uniform(0.3, 5.0) * base
    obs = base + change if direction == "up" else max(0.0, base - change / 6)
    anomalies = []
    for j in range(rng.randint(1, 3)):
        det = rng.choice(DETECTOR_NAMES)
        anomalies.append({"series": f"{sub}/m{j}", "name": f"m{j}", "baseline": base, "observed": obs,
                          "score": rng.uniform(3, 30), "detectors": [det],
                          "evidence": {det: {"z": rng.uniform(3, 20)}}})
    row = {"id": f"inc-sim{n}", "subsystem": sub, "severity": rng.choice(("warning", "critical")),
           "opened_ts": rng.randrange(0, 86_400) * 10**9}
    return (sub, direction), row, anomalies


@dataclass(frozen=True)
class TriageResult:
    """Rewards of the learned policy against an oracle, a random and the best fixed response over a simulated run."""

    incidents: int
    policy_reward: float
    oracle_reward: float
    random_reward: float
    best_fixed_reward: float
    best_fixed: str
    oracle_ratio: float          # policy / oracle, expected rewards, last half
    recovery_incidents: int      # worst over the changes
    changes: list[int]
    off_policy: dict

    def to_json(self) -> dict:
        return dict(self.__dict__)


def run(*, incidents: int = 2000, seed: int = 7, changes: tuple[int, ...] | None = None,
        alpha: float = DEFAULTS.alpha, discount: float = DEFAULTS.discount, dim: int = DEFAULTS.feature_dim,
        window: int = 100, change_drop: float = DEFAULTS.change_drop,
        change_threshold: float = DEFAULTS.change_threshold) -> TriageResult:
    """The simulation with the cortex's default settings (``Settings``) unless given."""
    changes = (int(incidents * 0.35), int(incidents * 0.7)) if changes is None else tuple(changes)
    rng, world = random.Random(seed), World(seed=seed)
    bandit = LinUCB(arms=list(ARMS), dim=dim, alpha=alpha, discount=discount, change_drop=change_drop,
                    change_threshold=change_threshold)
    index = FeatureIndex(dim)
    got, best, rnd = np.zeros(incidents), np.zeros(incidents), np.zeros(incidents)
    fixed = {a: np.zeros(incidents) for a in ARMS}
    for n in range(incidents):
        if n in changes:
            world.shift(rng)
        key, row, anomalies = incident(rng, n)
        ctx = from_incident(row, anomalies)
        arm = bandit.choose(index.vector(ctx), key=ctx.key)
        p = world.probs[key]
        got[n], best[n], rnd[n] = p[arm], max(p.values()), float(np.mean(list(p.values())))
        for a in ARMS:
            fixed[a][n] = p[a]
        bandit.update(arm, index.vector(ctx, learn=True), 1.0 if rng.random() < p[arm] else 0.0, key=ctx.key)
    half = incidents // 2
    best_fixed = max(ARMS, key=lambda a: fixed[a][half:].sum())
    return TriageResult(
        incidents=incidents, policy_reward=round(float(got[half:].sum()), 2),
        oracle_reward=round(float(best[half:].sum()), 2), random_reward=round(float(rnd[half:].sum()), 2),
        best_fixed_reward=round(float(fixed[best_fixed][half:].sum()), 2), best_fixed=best_fixed,
        oracle_ratio=round(float(got[half:].sum() / best[half:].sum()), 4),
        recovery_incidents=max((_recovery(got, best, c, window) for c in changes if c < incidents), default=0),
        changes=list(changes), off_policy=off_policy(bandit, index=index, seed=seed + 1, dim=dim,
                                                                   world=world))


def _recovery(got: np.ndarray, best: np.ndarray, change: int, window: int) -> int:
    """Incidents after ``change`` until a ``window`` in which the policy earns >= 90% of the oracle."""
    for k in range(0, len(got) - change - window + 1):
        s = slice(change + k, change + k + window)
        if got[s].sum() >= 0.9 * best[s].sum():
            return k
    return len(got) - change


def off_policy(target: LinUCB, *, index: FeatureIndex, seed: int, dim: int, world: World, n: int = 4000) -> dict:
    """Estimates of ``target``'s greedy value from ``n`` decisions logged by a uniformly random policy
    (propensity 1/k), against its true expected value on the same incidents: inverse propensity
    (IPS) and doubly robust (DR: a reward model's prediction for the target's pick, corrected by the
    IPS-weighted residual of the logged one; the model is a ridge regression per response fitted on
    the other half of the log, so no decision scores itself). DR is the one checked."""
    rng = random.Random(seed)
    k = len(ARMS)
    logs = []
    for i in range(n):
        key, row, anomalies = incident(rng, i)
        x = index.vector(from_incident(row, anomalies))
        logged = rng.choice(ARMS)
        reward = 1.0 if rng.random() < world.probs[key][logged] else 0.0
        pick = max(target.arms, key=lambda a: target.estimate(a, x).mean)
        logs.append((x, logged, reward, pick, world.probs[key][pick]))
    halves = (logs[: n // 2], logs[n // 2:])
    models = []
    for half in halves:   # fitted on one half, used on the other (cross-fitting)
        m = LinUCB(arms=list(ARMS), dim=dim, discount=1.0)
        for x, logged, reward, _, _ in half:
            m.update(logged, x, reward)
        models.append(m)
    ips = dr = truth = 0.0
    for h, half in enumerate(halves):
        model = models[1 - h]
        for x, logged, reward, pick, true_value in half:
            hit = k * (pick == logged)
            ips += reward * hit
            dr += model.estimate(pick, x).mean + hit * (reward - model.estimate(logged, x).mean)
            truth += true_value
    return {"estimator": "dr", "logged": n, "estimate": round(dr / n, 4), "ips_estimate": round(ips / n, 4),
            "truth": round(truth / n, 4), "abs_error": round(abs(dr - truth) / n, 4),
            "ips_abs_error": round(abs(ips - truth) / n, 4)}
