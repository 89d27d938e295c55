"""Sparse-method degradation: a sparse merge (DARE, low-density TIES) against linear.

Two paired-bootstrap differences, sparse minus linear, on the same resampled problems:
  * mean accuracy over the lams both curves evaluated strictly between the parents;
  * normalised hypervolume of each curve's series (parents included where the method has
    no point of its own), restricted to the lams both series have, so that a denser grid on
    one side (adaptive strengths differ per method) does not buy a larger hypervolume; on a
    shared grid that is every point. One shared reference: accuracy 0 and the tokens of the
    most expensive point of either curve. Needs token counts; otherwise None.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import ci, resample
from evals.analysis.pareto import hypervolume_many
from evals.analysis.points import Curve


@dataclass(frozen=True)
class SparseComparison:
    lams: tuple[float, ...]  # matched interior lams
    d_acc: float | None  # mean accuracy, sparse - linear
    d_acc_ci: tuple[float, float] | None
    hv_sparse: float | None
    hv_linear: float | None
    d_hv: float | None
    d_hv_ci: tuple[float, float] | None


def _unique(points):
    seen, out = set(), []
    for p in points:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def compare_sparse(sparse: Curve, linear: Curve, *, n_boot: int = 1000, seed: int = 0,
                   level: float = 0.95) -> SparseComparison:
    if (sparse.pair, sparse.benchmark) != (linear.pair, linear.benchmark):
        raise ValueError(f"compare_sparse: {sparse.method} is on {sparse.pair}/{sparse.benchmark} "
                         f"but {linear.method} on {linear.pair}/{linear.benchmark}")
    s_all, l_all = sparse.series(), linear.series()
    rs = resample(_unique(s_all + l_all), n_boot=n_boot, seed=seed)
    both = {p.lam for p in s_all} & {p.lam for p in l_all}
    s_series, l_series = [p for p in s_all if p.lam in both], [p for p in l_all if p.lam in both]
    s_by = {p.lam: rs.index(p) for p in sparse.interior()}
    l_by = {p.lam: rs.index(p) for p in linear.interior()}
    lams = tuple(sorted(set(s_by) & set(l_by)))
    d_acc = d_acc_ci = None
    if lams:
        si, li = [s_by[x] for x in lams], [l_by[x] for x in lams]
        d_acc = float(rs.acc_hat[si].mean() - rs.acc_hat[li].mean())
        d_acc_ci = ci(rs.acc[:, si].mean(axis=1) - rs.acc[:, li].mean(axis=1), level)
    hv_s = hv_l = d_hv = d_hv_ci = None
    if sparse.has_tokens and linear.has_tokens:
        sc, lc = [rs.index(p) for p in s_series], [rs.index(p) for p in l_series]
        ref = float(np.nanmax(rs.tokens_hat[sc + lc]))
        if ref > 0:
            hv_s = float(hypervolume_many(rs.acc_hat[None, sc], rs.tokens_hat[None, sc], ref)[0])
            hv_l = float(hypervolume_many(rs.acc_hat[None, lc], rs.tokens_hat[None, lc], ref)[0])
            rep = (hypervolume_many(rs.acc[:, sc], rs.tokens[:, sc], ref)
                   - hypervolume_many(rs.acc[:, lc], rs.tokens[:, lc], ref))
            d_hv, d_hv_ci = hv_s - hv_l, ci(rep, level)
    return SparseComparison(lams, d_acc, d_acc_ci, hv_s, hv_l, d_hv, d_hv_ci)
