"""Pareto analysis on (accuracy up, tokens down): front, dominance, hypervolume.

Dominance of a merge over a parent (RESEARCH.md, "Statistics for verdicts"):
higher-or-equal accuracy and fewer tokens in the point estimates, with the paired
bootstrap difference significant on at least one axis and not significantly worse on
the other. Hypervolume is the area a set of points dominates in (accuracy, -tokens)
above the reference point (accuracy 0, tokens of the most expensive model), divided by
1 x ref_tokens so it lies in [0, 1]: one number per method, comparable across methods
when they share the reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import Resamples, ci


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
    d_acc: float  # merge - parent, accuracy fraction
    d_acc_ci: tuple[float, float]
    d_tokens: float  # merge - parent, tokens (negative = cheaper)
    d_tokens_ci: tuple[float, float]
    favourable: bool  # point estimates: acc >= parent and tokens < parent
    dominates: bool  # favourable and significant as defined above
    score: float  # min of the two standardised advantages (ranks near-misses)


def dominance(rs: Resamples, merge: int, parent: int, level: float = 0.95) -> Dominance:
    """Paired test of column `merge` against column `parent` of the same resamples."""
    da_rep = rs.acc[:, merge] - rs.acc[:, parent]
    dt_rep = rs.tokens[:, merge] - rs.tokens[:, parent]
    da = float(rs.acc_hat[merge] - rs.acc_hat[parent])
    dt = float(rs.tokens_hat[merge] - rs.tokens_hat[parent])
    a_lo, a_hi = ci(da_rep, level)
    t_lo, t_hi = ci(dt_rep, level)
    favourable = da >= 0 and dt < 0
    # a degenerate (zero-width) token CI means no spread information: the sign decides
    acc_better, acc_worse = a_lo > 0, a_hi < 0
    tok_better, tok_worse = t_hi < 0, t_lo > 0
    dominates = favourable and (acc_better or tok_better) and not (acc_worse or tok_worse)
    sd_a, sd_t = np.nanstd(da_rep), np.nanstd(dt_rep)
    z_a = da / sd_a if sd_a > 0 else (np.inf if da > 0 else 0.0 if da == 0 else -np.inf)
    z_t = -dt / sd_t if sd_t > 0 else (np.inf if dt < 0 else 0.0 if dt == 0 else -np.inf)
    return Dominance(da, (a_lo, a_hi), dt, (t_lo, t_hi), favourable, dominates,
                     float(min(z_a, z_t)))
