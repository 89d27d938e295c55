"""Agreement of two curves (linear vs SLERP): how far apart are they along lam?

Over the lams both curves evaluated strictly between the parents: the mean absolute
accuracy difference (MAD) and the mean signed difference (b - a), each with a paired
bootstrap CI, plus the mean token difference when both carry tokens. MAD is biased
upwards by sampling noise (|noise| > 0), so a tolerance on it is conservative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import ci, resample
from evals.analysis.points import Curve


@dataclass(frozen=True)
class Agreement:
    lams: tuple[float, ...]
    mad: float | None
    mad_ci: tuple[float, float] | None
    mean_diff: float | None  # b - a, accuracy
    mean_diff_ci: tuple[float, float] | None
    mean_token_diff: float | None  # b - a, tokens


def compare_curves(a: Curve, b: Curve, *, n_boot: int = 1000, seed: int = 0,
                   level: float = 0.95) -> Agreement:
    if (a.pair, a.benchmark) != (b.pair, b.benchmark):
        raise ValueError(f"compare_curves: {a.method} is on {a.pair}/{a.benchmark} but "
                         f"{b.method} on {b.pair}/{b.benchmark}")
    a_by = {p.lam: p for p in a.interior()}
    b_by = {p.lam: p for p in b.interior()}
    lams = tuple(sorted(set(a_by) & set(b_by)))
    if not lams:
        return Agreement((), None, None, None, None, None)
    rs = resample([a_by[x] for x in lams] + [b_by[x] for x in lams], n_boot=n_boot, seed=seed)
    n = len(lams)
    d_hat = rs.acc_hat[n:] - rs.acc_hat[:n]
    d_rep = rs.acc[:, n:] - rs.acc[:, :n]
    tok = rs.tokens_hat[n:] - rs.tokens_hat[:n]
    return Agreement(lams, float(np.abs(d_hat).mean()), ci(np.abs(d_rep).mean(axis=1), level),
                     float(d_hat.mean()), ci(d_rep.mean(axis=1), level),
                     None if np.isnan(tok).any() else float(tok.mean()))
