"""Noise control settings and the combined verdict across detectors.

Defaults, and why (see docs/adr/0010-detectors.md):

- ``warmup=64``: no verdict before the default detectors have a baseline (EWMA 24, CUSUM and
  robust 32, variance 64 points); drift, whose reference takes 512, scores 0 until then.
- ``k=2``, ``solo=0.67``: a point is anomalous when at least ``k`` detectors flag it, or when
  a detector of *sustained* change (CUSUM, drift, variance) alone scores ``>= solo`` (its statistic at
  about twice its threshold). EWMA and robust react to single points, which heavy tails produce,
  so they always need a partner. The combined score is ``max(s_(k), s_solo - (solo - 0.5))``
  (``s_(i)`` the i-th largest score, ``s_solo`` the largest score of a sustained-change
  detector), which is 0.5 exactly where the rule starts to hold. With ``weights`` set, it is
  the weighted mean of the scores.
- ``dwell=2``, ``instant=0.66``: an episode opens after ``dwell`` consecutive anomalous points,
  or at once when the combined score reaches ``instant`` (a single large spike: two detectors
  at about twice their thresholds).
- ``clear=5``: an open episode closes after ``clear`` consecutive normal points (hysteresis).
- ``flap_episodes=2``, ``flap_window=512``, ``mute_points=1024``: a series that would open a
  third episode within 512 points is muted for 1024 points; the mute is reported as an episode
  of kind ``"mute"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ben.detect.base import check_param

__all__ = ["NoiseControl", "combine"]


@dataclass(frozen=True)
class NoiseControl:
    """Noise control for a monitor (numbers only, so it fits in a checkpoint).

    Parameters
    ----------
    warmup : int, default 64
        Points before any verdict.
    k : int, default 2
        Detectors that must flag together.
    solo : float, default 0.67
        Score at which one sustained-change detector (CUSUM, drift, variance) alone is enough (1.0 disables).
    weights : tuple of float or None
        Weighted-mean combination instead of k-of-n (one weight per detector).
    dwell : int, default 2
        Consecutive anomalous points before an episode opens.
    instant : float, default 0.66
        Combined score that opens an episode at once (1.0 disables).
    clear : int, default 5
        Consecutive normal points that close an episode.
    flap_episodes, flap_window, mute_points : int, default 2, 512, 1024
        More than ``flap_episodes`` openings within ``flap_window`` points mute the series for
        ``mute_points`` points (0 disables flap suppression).
    """

    warmup: int = 64
    k: int = 2
    solo: float = 0.67
    weights: tuple[float, ...] | None = None
    dwell: int = 2
    instant: float = 0.66
    clear: int = 5
    flap_episodes: int = 2
    flap_window: int = 512
    mute_points: int = 1024

    def __post_init__(self):
        check_param("warmup", self.warmup, 0, integer=True)
        check_param("k", self.k, 1, integer=True)
        check_param("solo", self.solo, 0.5, 1.0)
        check_param("dwell", self.dwell, 1, integer=True)
        check_param("instant", self.instant, 0.5, 1.0)
        check_param("clear", self.clear, 1, integer=True)
        check_param("flap_episodes", self.flap_episodes, 1, integer=True)
        check_param("flap_window", self.flap_window, 0, integer=True)
        check_param("mute_points", self.mute_points, 0, integer=True)
        if self.weights is not None:
            for w in self.weights:
                check_param("weights", w, 0.0)
            if sum(self.weights) <= 0:
                check_param("weights", -1.0, 0.0)

    def params(self) -> dict:
        """As a checkpoint-friendly dict (weights as an array, or absent)."""
        out = {k: v for k, v in asdict(self).items() if k != "weights"}
        if self.weights is not None:
            out["weights"] = np.asarray(self.weights, dtype=np.float64)
        return out

    @classmethod
    def from_params(cls, params: dict) -> NoiseControl:
        """Inverse of :meth:`params`."""
        p = dict(params)
        if "weights" in p:
            p["weights"] = tuple(float(w) for w in np.asarray(p["weights"]))
        return cls(**p)


def combine(scores: list[np.ndarray], noise: NoiseControl, solo_ok: tuple[bool, ...] | None = None) -> np.ndarray:
    """Combined score per point from the detectors' scores (see the module docstring).

    ``solo_ok`` says which detectors may alarm alone (default: all).
    """
    if noise.weights is not None:
        total = sum(noise.weights)
        out = scores[0] * (noise.weights[0] / total)
        for s, w in zip(scores[1:], noise.weights[1:]):
            out += s * (w / total)
        return out
    solo_ok = solo_ok or (True,) * len(scores)
    k = min(noise.k, len(scores))
    if k == 1:
        kth = scores[0].copy()
        for s in scores[1:]:
            np.maximum(kth, s, out=kth)
    elif k == 2 and len(scores) == 4:
        a, b = np.maximum(scores[0], scores[1]), np.minimum(scores[0], scores[1])
        c, d = np.maximum(scores[2], scores[3]), np.minimum(scores[2], scores[3])
        kth = np.maximum(np.minimum(a, c), np.maximum(b, d))
    elif k == 2:
        top, kth = np.maximum(scores[0], scores[1]), np.minimum(scores[0], scores[1])
        low = np.empty_like(top)
        for s in scores[2:]:
            np.minimum(top, s, out=low)
            np.maximum(kth, low, out=kth)
            np.maximum(top, s, out=top)
    else:
        kth = np.sort(np.stack(scores), axis=0)[-k]
    eligible = [s for s, ok in zip(scores, solo_ok) if ok]
    if not eligible or noise.solo >= 1.0:
        return kth
    solo = eligible[0].copy()
    for s in eligible[1:]:
        np.maximum(solo, s, out=solo)
    solo -= noise.solo - 0.5
    np.maximum(kth, solo, out=solo)
    return solo
