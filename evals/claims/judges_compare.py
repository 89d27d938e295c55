"""Claim judges that compare two curves of one pair and benchmark.

Sparse degradation (a sparse method loses to linear because the thinking change is
dense) and linear ~ SLERP (about as good), each against the linear curve of the same variant. Both read paired bootstrap differences;
the three-way logic and message style follow judges_curve.
"""
from __future__ import annotations

import math
from typing import Mapping

from evals.claims import wording as w
from evals.analysis.agreement import compare_curves
from evals.claims.judges_curve import DEFAULT, verdict
from evals.analysis.points import Curve
from evals.analysis.sparse import compare_sparse
from evals.claims.verdicts import Thresholds, Verdict

# the reference is the linear curve of the same variant (evals.claims.catalog), never another's
SAME_VARIANT = "of the same variant (schedule and paper_compat tags; other variants are not compared)"


def _number(v) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{x:.3g}" if math.isfinite(x) else "n/a"


def _movement_text(movement: Mapping[str, float] | None) -> str:
    """e.g. {'direct_rel': 0.031, 'think_rel': 0.052, 'cos': 0.21} (merging.movement)."""
    if not movement:
        return ""
    return " (children's distance from the base: " + ", ".join(
        f"{k} {_number(v)}" for k, v in movement.items()) + ")"


MIN_SHARED_LAMS = 3  # merge strengths both curves evaluated (fewer: no curve to compare, only points)


def judge_sparse_degradation(sparse: Curve, linear: Curve | None, thresholds: Thresholds = DEFAULT,
                             *, movement: Mapping[str, float] | None = None, n_boot: int = 1000,
                             seed: int = 0) -> Verdict:
    """Holds when the sparse curve is significantly worse than linear: by hypervolume when
    both carry tokens, else by mean accuracy, both on the lams the two curves share (parents
    included), so per-method grids (lams: adaptive) compare like with like; fewer than
    MIN_SHARED_LAMS shared merge strengths: inconclusive."""
    claim, th = "sparse_degradation", thresholds
    extra = {"movement": dict(movement)} if movement else {}
    if linear is None:
        return verdict(claim, sparse, "inconclusive", f"no linear curve on {sparse.pair}/"
                       f"{sparse.benchmark} {SAME_VARIANT} to compare {sparse.method} with.", extra)
    c = compare_sparse(sparse, linear, n_boot=n_boot, seed=seed, level=th.level)
    nums = {"reference": linear.method, "lams": c.lams, "d_acc": c.d_acc, "d_acc_ci": c.d_acc_ci,
            "hv_sparse": c.hv_sparse, "hv_linear": c.hv_linear, "d_hv": c.d_hv, "d_hv_ci": c.d_hv_ci,
            "tolerance_acc": th.sparse_tolerance_acc, "tolerance_hv": th.sparse_tolerance_hv, **extra}
    acc_txt = (f"mean accuracy over {w.plural(len(c.lams), 'shared lam')} {w.pts(c.d_acc)} "
               f"{w.pts_ci(c.d_acc_ci)}" if c.d_acc is not None else "no shared lams to compare accuracy")
    if len(c.lams) < MIN_SHARED_LAMS:
        return verdict(claim, sparse, "inconclusive", f"{sparse.method} and {linear.method} share "
                       f"{w.plural(len(c.lams), 'merge strength')} strictly between the parents "
                       f"({MIN_SHARED_LAMS} needed: both are compared on the lams both evaluated); "
                       "evaluate them on a common grid.", nums)
    if c.d_hv is not None:
        d, (lo, hi), tol = c.d_hv, c.d_hv_ci, th.sparse_tolerance_hv
        primary = (f"hypervolume on the shared lams {c.hv_sparse:.3f} vs {c.hv_linear:.3f} ({d:+.3f} "
                   f"{w.num_ci(c.d_hv_ci, '+.3f')})")
        tol_txt = f"{-tol:+.3f}"
        secondary = f"; {acc_txt}"
    elif c.d_acc is not None:
        d, (lo, hi), tol = c.d_acc, c.d_acc_ci, th.sparse_tolerance_acc
        primary, tol_txt, secondary = acc_txt, f"{-100 * tol:+.0f} pts", " (no token counts, so no hypervolume)"
    else:
        return verdict(claim, sparse, "inconclusive", f"{sparse.method} and {linear.method} share no "
                       "merge strengths and carry no token counts, so there is nothing to compare.", nums)
    who = f"{sparse.method} vs {linear.method}"
    moved = _movement_text(movement)
    if hi < 0:
        return verdict(claim, sparse, "holds", f"{sparse.method} loses to {linear.method}: "
                       f"{primary}{secondary}{moved}.", nums)
    if lo > -tol:
        return verdict(claim, sparse, "fails", f"{sparse.method} does not lose to {linear.method}: "
                       f"{primary} stays above {tol_txt}{secondary}{moved}.", nums)
    return verdict(claim, sparse, "inconclusive", f"{who}: {primary} is neither clearly below zero "
                   f"nor within {tol_txt}{secondary}{moved}.", nums)


def judge_linear_vs_slerp(linear: Curve | None, slerp: Curve, thresholds: Thresholds = DEFAULT, *,
                          n_boot: int = 1000, seed: int = 0) -> Verdict:
    """Holds when the mean absolute accuracy difference along lam is within tolerance
    (its whole CI below it); fails when its whole CI lies above."""
    claim, th = "linear_vs_slerp", thresholds
    if linear is None:
        return verdict(claim, slerp, "inconclusive", f"no linear curve on {slerp.pair}/"
                       f"{slerp.benchmark} {SAME_VARIANT} to compare {slerp.method} with.")
    a = compare_curves(linear, slerp, n_boot=n_boot, seed=seed, level=th.level)
    nums = {"reference": linear.method, "lams": a.lams, "mad": a.mad, "mad_ci": a.mad_ci,
            "mean_diff": a.mean_diff, "mean_diff_ci": a.mean_diff_ci,
            "mean_token_diff": a.mean_token_diff, "tolerance": th.slerp_tolerance}
    if not a.lams:
        return verdict(claim, slerp, "inconclusive", f"{linear.method} and {slerp.method} share no "
                       "merge strengths strictly between the parents.", nums)
    tol = f"{100 * th.slerp_tolerance:.0f} pts"
    tok = "" if a.mean_token_diff is None else f", {w.toks(a.mean_token_diff)} on average"
    body = (f"over {w.plural(len(a.lams), 'shared lam')} the curves differ by {w.pts_abs(a.mad)} "
            f"on average [{100 * a.mad_ci[0]:.1f}, {100 * a.mad_ci[1]:.1f}]")
    net = f"{slerp.method} minus {linear.method} is {w.pts(a.mean_diff)} {w.pts_ci(a.mean_diff_ci)} overall{tok}"
    if a.mad_ci[1] <= th.slerp_tolerance:
        return verdict(claim, slerp, "holds", f"{body}, within the {tol} allowed; {net}.", nums)
    if a.mad_ci[0] > th.slerp_tolerance:
        return verdict(claim, slerp, "fails", f"{body}, more than the {tol} allowed; {net}.", nums)
    return verdict(claim, slerp, "inconclusive", f"{body}, which straddles the {tol} allowed; {net}.", nums)
