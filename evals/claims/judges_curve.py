"""Claim judges that read one curve: phase transition, smooth, no collapse, Pareto, routing.

Each judge turns an analyzer's numbers into a Verdict with the same three-way logic: a
sub-check passes, fails (the evidence is clear against the claim) or is unsure (noise
could go either way); any failure -> "fails", else any unsure -> "inconclusive", else
"holds". Data that cannot address the claim (no tokens, no parents, too few strengths)
-> "inconclusive" with the reason. Messages are sentences, prefixed by the claim title.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from evals.claims import wording as w
from evals.analysis.bootstrap import ci, resample, simultaneous_ci
from evals.analysis.collapse import analyze_collapse
from evals.analysis.pareto import dominance_all, hypervolume, pareto_front
from evals.analysis.points import Curve
from evals.analysis.routing import routing_gains
from evals.analysis.smoothness import analyze_smoothness, window_steps
from evals.analysis.transition import analyze_transition, fit_logistic
from evals.claims.verdicts import Thresholds, Verdict

DEFAULT = Thresholds()
TITLES = {
    "phase_transition": "Phase transition",
    "smooth": "Smooth curve",
    "no_collapse": "No collapse",
    "pareto": "Pareto improvement",
    "routing_gain": "Gain over random routing",
    "sparse_degradation": "Sparse degradation",
    "linear_vs_slerp": "Linear ~ SLERP",
}


def combine(checks: list[str]) -> str:
    """'fail' anywhere -> fails; else 'unsure' anywhere -> inconclusive; else holds."""
    if "fail" in checks:
        return "fails"
    return "inconclusive" if "unsure" in checks else "holds"


def verdict(claim: str, curve: Curve, status: str, text: str, numbers: dict | None = None,
            method: str | None = None) -> Verdict:
    series = curve.series()  # what the verdict rests on: every sample of the curve and its parents
    rests = {"samples": sum(p.n_samples for p in series), "problems": max(p.n for p in series)}
    return Verdict(claim, curve.pair, method or curve.method, curve.benchmark, status,
                   f"{TITLES[claim]}: {text}", {**rests, **(numbers or {})})


def _distinct_lams(curve: Curve) -> int:
    return len({p.lam for p in curve.series()})


def unresolved_steps(lams, window: tuple[float, float], th: Thresholds) -> list[tuple[float, float]]:
    """Steps of the grid `lams` that the fitted 10-90% rise `window` overlaps (the one holding
    it, when it falls inside a single step; `window_steps`, the smooth claim's own rule) and
    that are wider than the reference step: a rise inside such a step may be as wide as the
    step, whatever width the fit gives (with no point inside, any narrower rise fits as well).
    None on a grid at the reference step."""
    xs = np.array(sorted(set(float(x) for x in lams)))
    return [(float(xs[i]), float(xs[i + 1])) for i in window_steps(xs, window)
            if xs[i + 1] - xs[i] > th.reference_step + 1e-9]


def _context(curve: Curve, th: Thresholds) -> tuple[dict, str]:
    """Where outputs start to reason (logistic fit of the share of thinking outputs) and
    how much truncation there is: both bear on reading an accuracy transition."""
    series, nums, text = curve.series(), {}, ""
    rates = [p.thought_rate for p in series]
    if len(series) >= 4 and all(r is not None for r in rates) and max(rates) - min(rates) >= 0.2:
        fit = fit_logistic([p.lam for p in series], rates)
        nums.update(thought_centre=fit.c, thought_width=fit.width, thought_rates=rates)
        text += (f" Outputs start to reason around lam={fit.c:.2f} (thinking share "
                 f"{rates[0]:.0%} at lam={series[0].lam:g}, {rates[-1]:.0%} at lam={series[-1].lam:g}).")
    trunc = [(p.truncated_rate, p.lam) for p in series if p.truncated_rate is not None]
    if trunc:
        worst, at = max(trunc)
        nums["max_truncated"] = worst
        if worst > th.truncation_warning:
            text += (f" Up to {worst:.0%} of outputs hit the token cap (lam={at:g}); they count "
                     "as wrong, so truncation shapes this curve.")
    return nums, text


def judge_phase_transition(curve: Curve, thresholds: Thresholds = DEFAULT, *, n_boot: int = 1000,
                           seed: int = 0) -> Verdict:
    claim, th = "phase_transition", thresholds
    if _distinct_lams(curve) < 4:
        return verdict(claim, curve, "inconclusive", f"only {_distinct_lams(curve)} strengths "
                       "were evaluated; locating a transition needs at least 4.")
    t = analyze_transition(curve, n_boot=n_boot, seed=seed, level=th.level)
    f, limit = t.fit, th.abrupt_max_width
    nums = {"centre": f.c, "centre_ci": t.centre_ci, "width": f.width, "width_ci": t.width_ci,
            "width_limit": limit, "reference_step": th.reference_step, "grid_step": t.step,
            "delta_aicc": f.delta_aicc,
            "sse_ratio": f.sse / f.sse_line if f.sse_line > 0 else None, "lo": f.lo, "hi": f.hi,
            "change": t.change, "change_ci": t.change_ci, "jump": t.jump, "jump_ci": t.jump_ci,
            "jump_lams": t.jump_lams, "share": t.share, "share_ci": t.share_ci}
    extra, context = _context(curve, th)
    nums.update(extra)
    if not t.change_significant:
        return verdict(claim, curve, "inconclusive", "no transition to locate: accuracy at "
                       f"lam={t.lams[-1]:g} differs from lam={t.lams[0]:g} by {w.pts(t.change)} "
                       f"{w.pts_ci(t.change_ci)}, within noise." + context, nums)
    gaps = unresolved_steps(t.lams, f.window, th)
    nums["unresolved_steps"] = gaps
    abrupt = ("fail" if f.width > limit and t.width_ci[0] > limit else "unsure" if f.width > limit or gaps
              else "pass")
    aicc_ok = f.delta_aicc is not None and f.delta_aicc >= th.transition_min_delta_aicc
    status = combine([abrupt, "pass" if aicc_ok else "unsure"])
    move = "rises" if t.change > 0 else "falls"
    where = (f"around lam={f.c:.2f} (CI {t.centre_ci[0]:.2f}-{t.centre_ci[1]:.2f}); 10-90% width "
             f"{f.width:.2f} {w.num_ci(t.width_ci)} against {limit:.2f} allowed "
             f"({th.abrupt_max_width_steps:g} steps of {th.reference_step:g})")
    jump = (f"the {w.step(*t.jump_lams)} step carries {t.share:.0%} of the {w.pts(t.change)} "
            f"change from lam={t.lams[0]:g} to lam={t.lams[-1]:g}")
    aic = ("n/a (too few points)" if f.delta_aicc is None else f"{f.delta_aicc:.1f}")
    if status == "holds":
        text = f"accuracy {move} abruptly {where}; {jump}; the logistic beats a straight line by {aic} AICc."
    elif status == "fails":
        text = f"accuracy {move} gradually, not abruptly: {where}; {jump}."
    else:
        why = (f"the rise lies in {', '.join(w.step(a, b) for a, b in gaps)}, wider than the "
               f"{th.reference_step:g} reference step, so its width is not resolved (split it)"
               if abrupt == "unsure" and gaps else "the width is uncertain" if abrupt == "unsure" else
               f"the logistic beats a straight line by only {aic} AICc (needs "
               f"{th.transition_min_delta_aicc:g})")
        text = f"accuracy {move} {where}, but {why}; {jump}."
    return verdict(claim, curve, status, text + context, nums)


def judge_smooth(curve: Curve, thresholds: Thresholds = DEFAULT, *, n_boot: int = 1000,
                 seed: int = 0) -> Verdict:
    claim, th = "smooth", thresholds
    series = curve.series()
    if len(series) < 3:
        return verdict(claim, curve, "inconclusive", f"only {len(series)} strengths were "
                       "evaluated; smoothness needs at least 3.")
    rs = resample(series, n_boot=n_boot, seed=seed)
    window = maybe = None
    lam = np.array([p.lam for p in series])
    change_rep = rs.acc[:, rs.index(series[-1])] - rs.acc[:, rs.index(series[0])]
    lo, hi = np.quantile(change_rep, [(1 - th.level) / 2, (1 + th.level) / 2])
    if _distinct_lams(curve) >= 4 and (lo > 0 or hi < 0):
        fit = fit_logistic(lam, rs.acc_hat[[rs.index(p) for p in series]])
        if fit.delta_aicc is not None and fit.delta_aicc >= th.transition_min_delta_aicc:
            # a transition is there: set aside its 10-90% rise, or at least its centre step
            abrupt = fit.width <= th.abrupt_max_width
            window = fit.window if abrupt else (fit.c, fit.c)
        else:  # a significant change the logistic does not (yet) confirm as a transition: the
            # steps of its fitted rise may be the transition, so they are not failed (unsure when large)
            mw = fit.window if fit.width <= th.abrupt_max_width else (fit.c, fit.c)
            d = np.diff(rs.acc_hat[[rs.index(p) for p in series]])
            maybe = [(float(lam[i]), float(lam[i + 1]), float(d[i])) for i in window_steps(lam, mw)]
    sm = analyze_smoothness(curve, window, resamples=rs, level=th.level)
    # a set-aside step wider than the reference step is not known to lie inside the rise (it
    # may be as wide as the step): it is judged as a wide step, so it can only be unsure
    gaps = set() if window is None else set(unresolved_steps(lam, fit.window, th))
    excluded = tuple(s for s in sm.excluded if tuple(s) not in gaps)
    maybe = maybe or []
    narrow, wide = _kept_steps(series, rs, excluded + tuple(m[:2] for m in maybe), th)
    nums = {"excluded_steps": excluded, "jump": None, "jump_ci": None, "jump_lams": None,
            "max_jump": th.smooth_max_jump, "reference_step": th.reference_step,
            "uncertified_steps": [s[:3] for s in wide], "spearman": sm.spearman,
            "spearman_ci": sm.spearman_ci, "min_spearman": th.token_min_spearman,
            "joint_ci_over": sm.checked}
    checks, parts = [], []
    excl = (f" outside the transition ({', '.join(w.step(*s) for s in excluded)}, set aside)"
            if excluded else "")
    limit = f"{100 * th.smooth_max_jump:.0f} pts"
    scope = f" of at most {th.reference_step:g}" if wide else ""
    kept = len(series) - 1 - len(excluded) - len(maybe)  # steps left to judge
    big = [m for m in maybe if abs(m[2]) > th.smooth_max_jump]
    if big:
        checks.append("unsure")
        parts.append(f"accuracy changes {', '.join(f'{w.pts(d)} at {w.step(a, b)}' for a, b, d in big)}, which "
                     f"may be the transition (the logistic does not beat a straight line by "
                     f"{th.transition_min_delta_aicc:g} AICc on these points)")
    nums["unconfirmed_steps"] = [m[:2] for m in maybe]
    if not kept:
        checks.append("unsure")
        parts.append("every step lies inside the transition, so no step is left to judge")
    elif narrow is not None:
        a, b, jump_hat, jump_ci = narrow
        nums.update(jump=jump_hat, jump_ci=jump_ci, jump_lams=(a, b))
        big = abs(jump_hat) > th.smooth_max_jump
        real = jump_ci[0] > 0 or jump_ci[1] < 0
        checks.append("fail" if big and real else "unsure" if big else "pass")
        jump = f"{w.pts(jump_hat)} {w.pts_ci(jump_ci)} at {w.step(a, b)}"
        parts.append(f"accuracy jumps {jump}{excl}, beyond the {limit} allowed" if big and real else
                     f"accuracy jumps {jump}{excl}, above {limit} but within noise" if big else
                     f"no step{scope}{excl} moves accuracy by more than {limit}; the largest is {jump}")
    if wide:
        checks.append("unsure")
        steps = ", ".join(f"{w.pts(d)} at {w.step(a, b)}" for a, b, d, _ in wide)
        parts.append(f"accuracy changes {steps}{excl if narrow is None else ''}: more than {limit} "
                     f"over a step wider than the {th.reference_step:g} reference step, which its end "
                     "points cannot certify either way (split it)")
    elif narrow is None and kept:
        parts.append(f"no step{excl} moves accuracy by more than {limit}")
    if sm.spearman_ci is None:
        parts.append("token counts are missing, so token monotonicity was not checked")
    elif sm.spearman is None:
        checks.append("unsure")
        parts.append("tokens do not vary with lam at all")
    else:
        # monotone in the direction from direct to thinking (almost always: thinking costs more)
        ends = rs.tokens_hat[[rs.index(series[0]), rs.index(series[-1])]]
        sign = -1.0 if ends[1] < ends[0] else 1.0
        rho_dir, hi_dir = sign * sm.spearman, max(sign * sm.spearman_ci[0], sign * sm.spearman_ci[1])
        rho = f"Spearman {sm.spearman:.2f} {w.num_ci(sm.spearman_ci)}"
        ok = rho_dir >= th.token_min_spearman
        bad = hi_dir < th.token_min_spearman
        checks.append("pass" if ok else "fail" if bad else "unsure")
        trend = "rise" if sign > 0 else "fall"
        parts.append(f"tokens {trend} with lam ({rho})" if ok else
                     f"tokens are not monotone in lam ({rho}; |rho| must reach "
                     f"{th.token_min_spearman:g} in the direct-to-thinking direction)")
    return verdict(claim, curve, combine(checks), "; ".join(parts) + ".", nums)


def _kept_steps(series, rs, excluded, th: Thresholds):
    """The smooth claim's steps outside the transition, as (the largest step of at most the
    reference width: (lam_a, lam_b, change, joint CI) or None; the wider steps that change
    accuracy by more than the limit, largest first). The CIs hold jointly over every kept step,
    as in `analyze_smoothness`, so on a grid of reference steps this is its largest jump."""
    lam = np.array([p.lam for p in series])
    cols = [rs.index(p) for p in series]
    hat, rep = np.diff(rs.acc_hat[cols]), np.diff(rs.acc[:, cols], axis=1)
    skip = {tuple(s) for s in excluded}
    keep = [i for i in range(len(hat)) if (float(lam[i]), float(lam[i + 1])) not in skip]
    if not keep:
        return None, []
    if len(keep) > 1:
        lo, hi = simultaneous_ci(hat[keep], rep[:, keep], th.level)
    else:
        lo, hi = map(np.atleast_1d, ci(rep[:, keep[0]], th.level))
    steps = [(float(lam[i]), float(lam[i + 1]), float(hat[i]), (float(lo[k]), float(hi[k])))
             for k, i in enumerate(keep)]
    is_narrow = lambda s: s[1] - s[0] <= th.reference_step + 1e-9
    narrow = [s for s in steps if is_narrow(s)]
    wide = sorted((s for s in steps if not is_narrow(s) and abs(s[2]) > th.smooth_max_jump),
                  key=lambda s: -abs(s[2]))
    return (max(narrow, key=lambda s: abs(s[2])) if narrow else None), wide


def judge_no_collapse(curve: Curve, thresholds: Thresholds = DEFAULT, *, n_boot: int = 1000,
                      seed: int = 0) -> Verdict:
    claim, th = "no_collapse", thresholds
    if curve.direct is None or curve.think is None:
        return verdict(claim, curve, "inconclusive", "both parents are needed to compare with "
                       "and at least one is missing.")
    if not curve.interior():
        return verdict(claim, curve, "inconclusive", "no merge strictly between the parents was evaluated.")
    health = analyze_collapse(curve, n_boot=n_boot, seed=seed, level=th.level)
    dips = [h for h in health if h.significant_dip]
    broken = [h for h in health if h.malformed_excess is not None
              and h.malformed_excess > th.collapse_max_malformed_excess]
    worst = min(health, key=lambda h: h.dip)
    mal = [h for h in health if h.malformed is not None]
    worst_mal = max(mal, key=lambda h: h.malformed) if mal else None
    nums = {"points": [{"lam": h.lam, "dip": h.dip, "dip_ci": h.dip_ci, "malformed": h.malformed,
                        "malformed_ci": h.malformed_ci, "truncated": h.truncated} for h in health],
            "collapsed_lams": sorted({h.lam for h in dips + broken}), "joint_ci_over": len(health),
            "max_malformed_excess": th.collapse_max_malformed_excess}
    dip_txt = lambda h: f"lam={h.lam:g}: {w.pts(h.dip)} {w.pts_ci(h.dip_ci)} against the weaker parent"
    if dips or broken:
        parts = []
        if dips:
            d = min(dips, key=lambda h: h.dip)
            parts.append(f"accuracy falls below both parents at lam={w.lams(h.lam for h in dips)} "
                         f"({dip_txt(d)})")
        if broken:
            b = max(broken, key=lambda h: h.malformed_excess)
            parts.append(f"malformed output reaches {w.pct(b.malformed)} at lam={b.lam:g}, "
                         f"{w.pts(b.malformed_excess)} above the worse parent (limit "
                         f"{100 * th.collapse_max_malformed_excess:.0f} pts)")
        return verdict(claim, curve, "fails", "merges collapse: " + "; ".join(parts) + ".", nums)
    mal_txt = ("no malformed flags were recorded" if worst_mal is None else
               f"malformed output at most {w.pct(worst_mal.malformed)} (lam={worst_mal.lam:g})")
    return verdict(claim, curve, "holds", f"none of {w.plural(len(health), 'merge')} falls "
                   f"significantly below both parents (lowest {dip_txt(worst)}); {mal_txt}.", nums)


def pareto_open_steps(curve: Curve, th: Thresholds) -> list[tuple[float, float]]:
    """(a, b) for every step of the series (parents included) wider than the reference step
    whose best conceivable interior merge, its ends' higher accuracy at their lower cost,
    would beat a parent on both axes (at least as accurate, strictly cheaper): an evaluation
    that leaves it unsplit cannot say that no merge does."""
    parents = [p for p in (curve.direct, curve.think) if p is not None and p.mean_tokens is not None]
    return [(float(a.lam), float(b.lam)) for a, b, best, cost in _wide_steps(curve, th)
            if any(best >= p.accuracy and cost < p.mean_tokens for p in parents)]


def _wide_steps(curve: Curve, th: Thresholds) -> list[tuple]:
    """(a, b, best, cost) for the steps a -> b of the series (parents included) wider than the
    reference step: best conceivable interior merge = the ends' higher accuracy at their lower
    cost. None when a point lacks token counts."""
    pts = curve.series()
    if any(p.mean_tokens is None for p in pts):
        return []
    return [(a, b, max(float(a.accuracy), float(b.accuracy)), min(float(a.mean_tokens), float(b.mean_tokens)))
            for a, b in zip(pts, pts[1:]) if b.lam - a.lam > th.reference_step + 1e-9]


def judge_pareto(curve: Curve, thresholds: Thresholds = DEFAULT, *, n_boot: int = 1000,
                 seed: int = 0) -> Verdict:
    claim, th = "pareto", thresholds
    if not curve.has_tokens:
        return verdict(claim, curve, "inconclusive", "token counts are missing; Pareto "
                       "improvement needs both accuracy and tokens.")
    parents = [(name, p) for name, p in (("direct", curve.direct), ("thinking", curve.think)) if p]
    merges = curve.interior()
    if not parents or not merges:
        return verdict(claim, curve, "inconclusive", "needs a parent and at least one merge "
                       "strictly between the parents.")
    series = curve.series()
    pool = list(dict.fromkeys(list(series) + [p for _, p in parents] + list(merges)))
    rs = resample(pool, n_boot=n_boot, seed=seed)
    combos = [(m, name, p) for m in merges for name, p in parents]
    doms = dominance_all(rs, [(rs.index(m), rs.index(p)) for m, _, p in combos], th.level)
    results = [(m, name, d) for (m, name, _), d in zip(combos, doms)]
    cols = [rs.index(p) for p in series]
    ref = float(np.nanmax(rs.tokens_hat[cols]))
    front = pareto_front(rs.acc_hat[cols], rs.tokens_hat[cols])
    nums = {"hypervolume": hypervolume(rs.acc_hat[cols], rs.tokens_hat[cols], ref) if ref > 0 else None,
            "front_lams": [p.lam for p, on in zip(series, front) if on], "n_merges": len(merges),
            "joint_ci_over": len(results),
            "dominating": [{"lam": m.lam, "parent": name, "d_acc": d.d_acc, "d_acc_ci": d.d_acc_ci,
                            "d_tokens": d.d_tokens, "d_tokens_ci": d.d_tokens_ci}
                           for m, name, d in results if d.dominates]}
    exact = any(p.is_aggregate for p in pool)
    nums["tokens_exact"] = exact  # table means carry no spread: their differences count as exact
    desc = lambda m, name, d: (f"lam={m.lam:g} vs {name}: {w.pts(d.d_acc)} {w.pts_ci(d.d_acc_ci)} "
                               f"with {w.toks(d.d_tokens)} " +
                               ("(table means, no spread)" if exact else w.toks_ci(d.d_tokens_ci)))
    wins = [r for r in results if r[2].dominates]
    if wins:
        m, name, d = max(wins, key=lambda r: r[2].score)
        by_parent = "; ".join(f"{name}: lam={w.lams(sorted(r[0].lam for r in wins if r[1] == name))}"
                              for name, _ in parents if any(r[1] == name for r in wins))
        n_win = len({id(r[0]) for r in wins})
        return verdict(claim, curve, "holds", f"{n_win} of {w.plural(len(merges), 'merge')} "
                       f"{'beats' if n_win == 1 else 'beat'} a "
                       f"parent on both axes ({by_parent}); strongest is {desc(m, name, d)}.", nums)
    fav = [r for r in results if r[2].favourable]
    if fav:
        m, name, d = max(fav, key=lambda r: r[2].score)
        return verdict(claim, curve, "inconclusive", f"{desc(m, name, d)} looks better on both "
                       "axes, but neither difference is significant.", nums)
    m, name, d = max(results, key=lambda r: r[2].score)
    parents_txt = " or ".join(n for n, _ in parents)
    gaps = pareto_open_steps(curve, th)
    nums["open_steps"] = gaps
    if all(r[2].clearly_worse for r in results) and gaps:
        return verdict(claim, curve, "inconclusive", f"none of {w.plural(len(merges), 'merge')} "
                       f"beats {parents_txt} on both axes, but a merge inside "
                       f"{', '.join(w.step(a, b) for a, b in gaps)}, wider than the {th.reference_step:g} "
                       f"reference step, could (split it); best was {desc(m, name, d)}.", nums)
    if all(r[2].clearly_worse for r in results):
        return verdict(claim, curve, "fails", f"none of {w.plural(len(merges), 'merge')} beats "
                       f"{parents_txt} on both axes, each is significantly worse on one; best was "
                       f"{desc(m, name, d)}.", nums)
    return verdict(claim, curve, "inconclusive", f"no merge beats {parents_txt} on both axes, but "
                   f"not every trade-off is clear; closest was {desc(m, name, d)}.", nums)


def routing_open_steps(curve: Curve, th: Thresholds, half: dict[float, float]) -> list[tuple[float, float, float]]:
    """(a, b, conceivable gain) for every step of the series (parents included) wider than the
    reference step whose best conceivable interior merge, its ends' higher accuracy at their
    lower cost, beats the routing line between the parents by more than noise: the larger of
    its ends' gain-CI half-widths (`half`, by lam) and a new point's own binomial noise
    z sqrt(a (1 - a) / n) (a merge close to a parent has a narrow paired CI, which says
    nothing about a point still to be placed). A merge inside such a step could beat random
    routing, so an evaluation that leaves it unsplit cannot say that none does. A chord
    between two ends on or below the line stays below it, so only a step where accuracy
    rises faster than cost qualifies. Needs both parents with token counts."""
    d, t = curve.direct, curve.think
    if d is None or t is None or d.mean_tokens is None or t.mean_tokens is None:
        return []
    td, tt, ad, at = float(d.mean_tokens), float(t.mean_tokens), float(d.accuracy), float(t.accuracy)
    z = NormalDist().inv_cdf(0.5 + th.level / 2.0)
    out = []
    for a, b, best, cost in _wide_steps(curve, th):
        q = 0.5 if tt == td else min(max((cost - td) / (tt - td), 0.0), 1.0)
        gain = best - ((1 - q) * ad + q * at)
        floor = z * math.sqrt(best * (1.0 - best) / max(a.n, b.n, 1))  # one new point's own binomial noise
        noise = max([half[k] for k in (round(a.lam, 4), round(b.lam, 4)) if k in half] + [floor])
        if gain > noise:
            out.append((float(a.lam), float(b.lam), float(gain)))
    return out


def judge_routing_gain(curve: Curve, thresholds: Thresholds = DEFAULT, *, n_boot: int = 1000,
                       seed: int = 0) -> Verdict:
    claim, th = "routing_gain", thresholds
    if not curve.has_tokens or curve.direct is None or curve.think is None or not curve.interior():
        return verdict(claim, curve, "inconclusive", "needs token counts, both parents and at "
                       "least one merge strictly between them.")
    merges = curve.interior()
    rs = resample((curve.direct, curve.think) + merges, n_boot=n_boot, seed=seed)
    gains = list(zip(merges, routing_gains(rs, list(range(2, 2 + len(merges))), 0, 1, th.level)))
    nums = {"points": [{"lam": m.lam, "gain": g.gain, "gain_ci": g.gain_ci, "q": g.q,
                        "clipped": g.clipped} for m, g in gains], "joint_ci_over": len(gains)}
    half = {round(q["lam"], 4): (q["gain_ci"][1] - q["gain_ci"][0]) / 2.0 for q in nums["points"]}
    nums["open_steps"] = routing_open_steps(curve, th, half)
    m, g = max(gains, key=lambda r: r[1].gain)
    rival = (f"a coin sending {g.q:.0%} of problems to thinking at the same mean cost"
             if not g.clipped else "direct alone (the merge is cheaper than direct)" if g.q == 0
             else "thinking alone (the merge costs more than thinking)")
    desc = f"lam={m.lam:g} at {w.pts(g.gain)} {w.pts_ci(g.gain_ci)} against {rival}"
    sig = [r for r in gains if r[1].gain_ci[0] > 0]
    if sig:
        return verdict(claim, curve, "holds", f"{len(sig)} of {w.plural(len(merges), 'merge')} "
                       f"{'beats' if len(sig) == 1 else 'beat'} "
                       f"random routing beyond noise; best is {desc}.", nums)
    gaps = ", ".join(w.step(a, b) for a, b, _ in nums["open_steps"])
    unsplit = (f"; a merge inside {gaps}, wider than the {th.reference_step:g} reference step, could "
               "still beat it (split it)") if gaps else ""
    if g.gain <= 0 and not gaps:
        return verdict(claim, curve, "fails", f"no merge beats random routing between the parents; "
                       f"best was {desc}.", nums)
    if g.gain <= 0:
        return verdict(claim, curve, "inconclusive", f"no merge evaluated beats random routing; best "
                       f"was {desc}{unsplit}.", nums)
    return verdict(claim, curve, "inconclusive", f"best is {desc}, not significant{unsplit}.", nums)
