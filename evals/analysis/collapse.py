"""Collapse: intermediate merges that break -- malformed output, or accuracy below BOTH parents.

For every merge strictly between the parents: the malformed rate and its excess over the
worse parent, and the paired difference between its accuracy and the lower parent's
(per replicate: acc_merge - min(acc_direct, acc_think)), with bootstrap CIs that hold
jointly over the merges (a scan of 9 merges would otherwise find a chance dip about a
third of the time). A dip counts as collapse only when the whole CI lies below zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.analysis.bootstrap import ci, resample, simultaneous_ci
from evals.analysis.points import Curve


@dataclass(frozen=True)
class PointHealth:
    lam: float
    malformed: float | None  # rate; None when the data carry no malformed flags
    malformed_ci: tuple[float, float] | None
    malformed_excess: float | None  # over the worse parent
    dip: float  # acc - min(parents)
    dip_ci: tuple[float, float]
    truncated: float | None

    @property
    def significant_dip(self) -> bool:
        return self.dip_ci[1] < 0


def analyze_collapse(curve: Curve, *, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95) -> list[PointHealth]:
    """One PointHealth per merge with 0 < lam < 1; needs both parents."""
    if curve.direct is None or curve.think is None:
        raise ValueError(f"collapse of {curve.pair}/{curve.method}/{curve.benchmark}: needs both "
                         "parents (direct at lam=0, thinking at lam=1)")
    merges = curve.interior()
    rs = resample((curve.direct, curve.think) + merges, n_boot=n_boot, seed=seed)
    low_rep = np.minimum(rs.acc[:, 0], rs.acc[:, 1])
    low_hat = min(rs.acc_hat[0], rs.acc_hat[1])
    worst_parent_mal = np.nanmax(rs.malformed_hat[:2]) if not np.isnan(rs.malformed_hat[:2]).all() else None
    cols = list(range(2, 2 + len(merges)))
    dips_hat, dips_rep = rs.acc_hat[cols] - low_hat, rs.acc[:, cols] - low_rep[:, None]
    if len(merges) > 1:
        dlo, dhi = simultaneous_ci(dips_hat, dips_rep, level)
    else:
        dlo, dhi = (np.array([x]) for x in ci(dips_rep[:, 0], level))
    out = []
    for j, (i, p) in enumerate(zip(cols, merges)):
        mal = None if np.isnan(rs.malformed_hat[i]) else float(rs.malformed_hat[i])
        out.append(PointHealth(
            lam=p.lam, malformed=mal,
            malformed_ci=None if mal is None else ci(rs.malformed[:, i], level),
            malformed_excess=None if mal is None or worst_parent_mal is None
            else float(mal - worst_parent_mal),
            dip=float(dips_hat[j]), dip_ci=(float(dlo[j]), float(dhi[j])),
            truncated=p.truncated_rate,
        ))
    return out
