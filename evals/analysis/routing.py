"""Gain over random routing (beyond the paper).

A merge at mean token cost c is compared with a mixture that sends each problem to the
thinking parent with probability q and to the direct parent otherwise, q chosen so the
mixture also costs c on average: q = (c - t_direct) / (t_think - t_direct), clipped to
[0, 1] (a merge cheaper than direct is compared with direct, one dearer than thinking
with thinking). The mixture's expected accuracy is (1 - q) acc_direct + q acc_think,
which is also the per-problem average of the coin, so it needs only the parents'
results. Gain > 0: the merge spends its thinking better than a coin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import Resamples, ci, simultaneous_ci


@dataclass(frozen=True)
class RoutingGain:
    gain: float  # acc_merge - acc_mixture
    gain_ci: tuple[float, float]
    q: float  # share of problems the mixture sends to the thinking parent
    clipped: bool  # merge cost outside the parents' range


def _q(c, t_d, t_t):
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(t_t != t_d, (c - t_d) / (t_t - t_d), 0.5)
    return np.clip(q, 0.0, 1.0), q


def _point(rs: Resamples, merge: int, direct: int, think: int) -> tuple[float, float, bool]:
    """(gain, q, clipped) of the point estimates."""
    q_hat, raw = _q(rs.tokens_hat[merge], rs.tokens_hat[direct], rs.tokens_hat[think])
    mix = (1 - q_hat) * rs.acc_hat[direct] + q_hat * rs.acc_hat[think]
    return float(rs.acc_hat[merge] - mix), float(q_hat), bool(raw < 0 or raw > 1)


def _replicates(rs: Resamples, merge: int, direct: int, think: int) -> np.ndarray:
    q_rep, _ = _q(rs.tokens[:, merge], rs.tokens[:, direct], rs.tokens[:, think])
    return rs.acc[:, merge] - ((1 - q_rep) * rs.acc[:, direct] + q_rep * rs.acc[:, think])


def routing_gain(rs: Resamples, merge: int, direct: int, think: int,
                 level: float = 0.95) -> RoutingGain:
    gain, q, clipped = _point(rs, merge, direct, think)
    return RoutingGain(gain, ci(_replicates(rs, merge, direct, think), level), q, clipped)


def routing_gains(rs: Resamples, merges: list[int], direct: int, think: int,
                  level: float = 0.95) -> list[RoutingGain]:
    """routing_gain for several merge columns, with CIs that hold jointly over them."""
    if len(merges) < 2:
        return [routing_gain(rs, m, direct, think, level) for m in merges]
    points = [_point(rs, m, direct, think) for m in merges]
    reps = np.stack([_replicates(rs, m, direct, think) for m in merges], axis=1)
    lo, hi = simultaneous_ci([g for g, _, _ in points], reps, level)
    return [RoutingGain(g, (float(a), float(b)), q, clipped) for (g, q, clipped), a, b in zip(points, lo, hi)]
