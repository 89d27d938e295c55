"""Per-point rows of a curve for reports: lam, accuracy with its CI, tokens, rates.

One row per point of `curve.series()` (the method's points, with the parents standing in
at lam 0 and 1 where the method has none), plus the parents themselves where the method
has its own lam 0/1 points; each row is tagged with its role and whether the curve-shape
claims read it, so a reader sees exactly which numbers the claims were judged on.
"""
from __future__ import annotations

import numpy as np

from evals.analysis.bootstrap import ci, resample
from evals.analysis.points import Curve


def _role(curve: Curve, p) -> str:
    if p.method is None:
        return "direct" if p.lam == 0.0 else "thinking"
    if p.method != curve.method:
        return f"{'direct' if p.lam == 0.0 else 'thinking'} (stand-in: {p.method})"
    return "merge"


def summarize_curve(curve: Curve, *, n_boot: int = 1000, seed: int = 0,
                    level: float = 0.95, min_problems: int = 0) -> list[dict]:
    """Rows with keys lam, role, in_series, accuracy, accuracy_ci, mean_tokens,
    mean_tokens_ci, thought_rate, truncated_rate, malformed_rate, n_problems, n_samples.
    Parents the series does not use (the method has its own lam 0/1 point) are listed too,
    with in_series False. A point with fewer than `min_problems` problems gets no intervals
    (None): a bootstrap over so few problems is unreliable and often zero-width."""
    series = curve.series()
    ids = {id(p) for p in series}
    extra_first = [curve.direct] if curve.direct is not None and id(curve.direct) not in ids else []
    extra_last = [curve.think] if curve.think is not None and id(curve.think) not in ids else []
    pts = extra_first + list(series) + extra_last
    rs = resample(pts, n_boot=n_boot, seed=seed)
    rows = []
    for i, p in enumerate(pts):
        tok = None if np.isnan(rs.tokens_hat[i]) else float(rs.tokens_hat[i])
        few = p.n < min_problems
        rows.append({
            "lam": p.lam, "role": _role(curve, p), "in_series": id(p) in ids,
            "accuracy": float(rs.acc_hat[i]), "accuracy_ci": [None, None] if few else list(ci(rs.acc[:, i], level)),
            "mean_tokens": tok,
            "mean_tokens_ci": None if tok is None or few else list(ci(rs.tokens[:, i], level)),
            "thought_rate": p.thought_rate, "truncated_rate": p.truncated_rate,
            "malformed_rate": p.malformed_rate, "n_problems": p.n, "n_samples": p.n_samples,
        })
    return rows
