"""Pareto analysis on (accuracy up, tokens down): front, dominance, hypervolume.

Dominance of a merge over a parent (RESEARCH.md, "Statistics for verdicts"):
higher-or-equal accuracy and fewer tokens in the point estimates, with the paired
bootstrap difference significant on at least one axis and not significantly worse on
the other. When many (merge, parent) pairs are scanned the CIs hold jointly. Hypervolume is the area a set of points dominates in (accuracy, -tokens)
above the reference point (accuracy 0, tokens of the most expensive model), divided by
1 x ref_tokens so it lies in [0, 1]: one number per method, comparable across methods
when they share the reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import Resamples, ci, simultaneous_ci


def pareto_front(acc, tokens) -> np.ndarray:
    """Boolean mask of non-dominated points (no other point has >= accuracy and <= tokens
    with one of them strict)."""
    a, t = np.asarray(acc, dtype=float), np.asarray(tokens, dtype=float)
    ge = (a[None, :] >= a[:, None]) & (t[None, :] <= t[:, None])  # [i, j]: j at least as good
    strict = (a[None, :] > a[:, None]) | (t[None, :] < t[:, None])
    return ~(ge & strict).any(axis=1)


def hypervolume_many(acc: np.ndarray, tokens: np.ndarray, ref_tokens: float) -> np.ndarray:
    """Normalised hypervolume of each row: acc, tokens [B, n] -> [B].

    Area = integral over t in [0, ref] of the best accuracy among points costing <= t.
    """
    if not ref_tokens > 0:
        raise ValueError(f"hypervolume: ref_tokens must be > 0, got {ref_tokens}")
    a = np.atleast_2d(np.asarray(acc, dtype=float))
    t = np.clip(np.atleast_2d(np.asarray(tokens, dtype=float)), 0.0, ref_tokens)
    order = np.argsort(t, axis=1, kind="stable")
    ts = np.take_along_axis(t, order, axis=1)
    best = np.maximum.accumulate(np.clip(np.take_along_axis(a, order, axis=1), 0.0, None), axis=1)
    nxt = np.concatenate([ts[:, 1:], np.full((len(ts), 1), ref_tokens)], axis=1)
    return (best * (nxt - ts)).sum(axis=1) / ref_tokens


def hypervolume(acc, tokens, ref_tokens: float) -> float:
    """Normalised hypervolume of one set of points (see hypervolume_many)."""
    return float(hypervolume_many(np.asarray(acc)[None, :], np.asarray(tokens)[None, :], ref_tokens)[0])


@dataclass(frozen=True)
class Dominance:
    merge: int  # column of the merge in the resamples
    parent: int  # column of the parent
    d_acc: float  # merge - parent, accuracy fraction
    d_acc_ci: tuple[float, float]
    d_tokens: float  # merge - parent, tokens (negative = cheaper)
    d_tokens_ci: tuple[float, float]
    favourable: bool  # point estimates: acc >= parent and tokens < parent
    dominates: bool  # favourable, one axis significantly better, neither significantly worse
    clearly_worse: bool  # significantly worse on at least one axis: a trade-off, not a gain
    score: float  # min of the two standardised advantages (ranks near-misses)


def dominance_all(rs: Resamples, pairs: list[tuple[int, int]], level: float = 0.95) -> list[Dominance]:
    """Paired tests of merge column against parent column for every (merge, parent) in
    `pairs`. With several pairs the CIs are simultaneous (bootstrap.simultaneous_ci), so
    "some merge beats a parent" is not a product of scanning many merges."""
    m = np.array([a for a, _ in pairs], dtype=int)
    p = np.array([b for _, b in pairs], dtype=int)
    da_rep, dt_rep = rs.acc[:, m] - rs.acc[:, p], rs.tokens[:, m] - rs.tokens[:, p]  # [B, k]
    da, dt = rs.acc_hat[m] - rs.acc_hat[p], rs.tokens_hat[m] - rs.tokens_hat[p]
    if len(pairs) > 1:
        (a_lo, a_hi), (t_lo, t_hi) = simultaneous_ci(da, da_rep, level), simultaneous_ci(dt, dt_rep, level)
    else:
        (a_lo, a_hi), (t_lo, t_hi) = ([np.array([x]) for x in ci(da_rep[:, 0], level)],
                                      [np.array([x]) for x in ci(dt_rep[:, 0], level)])
    # per column; rows of the transposed copies are contiguous, as the columns' own copies
    # were, so the sums run in the same order as one nanstd per column
    sds_a, sds_t = (np.nanstd(np.ascontiguousarray(r.T), axis=1) for r in (da_rep, dt_rep))
    out = []
    for i in range(len(pairs)):
        favourable = bool(da[i] >= 0 and dt[i] < 0)
        better = a_lo[i] > 0 or t_hi[i] < 0  # a zero-width token CI (table means): sign decides
        worse = a_hi[i] < 0 or t_lo[i] > 0
        sd_a, sd_t = sds_a[i], sds_t[i]
        z_a = da[i] / sd_a if sd_a > 0 else np.sign(da[i]) * np.inf if da[i] else 0.0
        z_t = -dt[i] / sd_t if sd_t > 0 else -np.sign(dt[i]) * np.inf if dt[i] else 0.0
        out.append(Dominance(int(m[i]), int(p[i]), float(da[i]), (float(a_lo[i]), float(a_hi[i])),
                             float(dt[i]), (float(t_lo[i]), float(t_hi[i])), favourable,
                             favourable and bool(better) and not worse, bool(worse),
                             float(min(z_a, z_t))))
    return out


def dominance(rs: Resamples, merge: int, parent: int, level: float = 0.95) -> Dominance:
    """One paired test of column `merge` against column `parent` (percentile CIs)."""
    return dominance_all(rs, [(merge, parent)], level)[0]
