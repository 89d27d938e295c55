"""Adaptive strengths (`lams: adaptive`): evaluate the parents and a coarse grid, then add lams
only where a claim judge says a new point can still change its verdict, until none does or the
budget is spent.

    records, rounds = run_adaptive(config)               # config.adaptive: AdaptiveSettings
    new = propose(curve, settings)                       # the pure step, on one judged curve

The judges are the claim suite's own (evals.claims.judges_curve, with their Thresholds); a
step is split only for one of these reasons:
- "support": the change is significant but the logistic cannot yet beat a line by the AICc
  margin (too few strengths): the cheapest step wider than the 0.1 reference step;
- "smooth": a step the smooth judge cannot certify (wider than 0.1 with an accuracy change
  above its limit, or set aside inside a rise it cannot place): a point inside can;
- "centre": the phase transition is open, its rise is not resolved at 0.1, or its centre's
  bootstrap CI is wider than `target`: its steepest step (accuracy or thinking share);
- "routing": the gain over random routing does not hold yet and the judge names steps wider
  than 0.1 that could hold a merge above the routing line beyond noise (`open_steps`);
- "pareto": no merge beats a parent yet: the knee, the step below the first lam whose accuracy
  reaches the thinking parent's (point estimate, the judge's own rule) with a cheaper lam
  below it, down to `min_step`: a merge there may match it at fewer tokens.
No point is placed for no collapse (more merges only add chances to fail or hold). Coarse to
fine (`split_point`): a step wider than 0.1 is split at a point of the 0.1 grid inside it,
narrower ones on the `min_step` lattice. A round takes the transition's points (support,
smooth, centre) of every curve first, routing points only once no curve needs one of those,
Pareto points only once no curve needs any other; within a round by predicted cost (tokens
interpolated between the step's ends) divided by the number of reasons asking for the step,
up to `max_points` merges per method and `max_tokens` in all (`run_adaptive`).
Every added point is an ordinary sweep point (run by `run_fn`, `evals.sweep.local.run_sweep`
or the Ray driver), so its records are ordinary store records: resume, Ray and reports need
no special case, and a rerun replays the same rounds from the store without generating.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from evals.analysis.points import Curve, Point
from evals.claims.judges_curve import judge_pareto, judge_phase_transition, judge_routing_gain, judge_smooth
from evals.claims.verdicts import Thresholds
from evals.claims.verify import judged_curves
from evals.records import SampleRecord
from evals.sweep.adaptive_settings import AdaptiveSettings
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep

MAX_ROUNDS = 24  # a runaway cap only: max_points bounds each curve, but a curve's routing and
# Pareto points wait while any curve still needs a transition point, so rounds outnumber points
ORDER = ("support", "smooth", "centre", "routing", "pareto")  # holds/fails verdicts first; pareto can only gain "holds"


@dataclass(frozen=True)
class Proposal:
    lam: float
    why: str  # "support" | "smooth" | "centre" | "routing" | "pareto": the first reason in ORDER
    size: float  # the accuracy step that makes the interval worth splitting
    cost: float = 0.0  # predicted mean generated tokens per sample at lam
    tokens: float = 0.0  # generated tokens budgeted for it: the dearer neighbour's mean x samples
    serves: int = 1  # how many of the reasons ask for this step's split

    @property
    def rank(self) -> tuple[int, float]:
        """Priority: the reason's place in ORDER, then predicted tokens per reason served."""
        return ORDER.index(self.why), self.cost / self.serves


def _series(curve: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    pts = curve.series()
    lam = np.array([p.lam for p in pts])
    acc = np.array([p.accuracy for p in pts])
    th = [p.thought_rate for p in pts]
    tok = [p.mean_tokens for p in pts]
    thought = None if any(t is None for t in th) else np.array(th, dtype=float)
    tokens = None if any(t is None for t in tok) else np.array(tok, dtype=float)
    return lam, acc, thought, tokens


def _r(x: float) -> float:
    return round(float(x), 4)


def split_point(a: float, b: float, why: str, cost_a: float, cost_b: float, reference: float,
                lattice: float | None = None) -> float:
    """Coarse to fine. A step wider than the reference step is split at a point of the
    reference grid (the multiples of 0.1, the paper's grid) strictly inside it when there is
    one, the one nearest the intended point: the judges read curves at that resolution, so
    the search reaches it with the paper's own points (0.6, not 0.62, between 0.5 and 0.75).
    The intended point is the midpoint, except for a smooth step wider than two reference
    steps: a reference-width step at its cheaper end (judged as on the paper's grid) and the
    rest (split again if needed). Steps within the reference step are bisected, with
    `lattice` (min_step) on its multiples, so the search reaches the paper's dense 0.01
    points (0.62, not 0.6094 and 0.625)."""
    wide_smooth = why == "smooth" and b - a > 2 * reference + 1e-9
    x = (a + reference if cost_a <= cost_b else b - reference) if wide_smooth else (a + b) / 2.0
    if b - a > reference + 1e-9:
        gap = 1e-9 + (lattice or 0.0)
        inside = [k * reference for k in range(math.ceil((a + gap) / reference), math.floor((b - gap) / reference) + 1)]
        if wide_smooth:  # keep the cheap end's step within the reference step
            inside = [y for y in inside if (y <= x + 1e-9 if cost_a <= cost_b else y >= x - 1e-9)]
        if inside:
            return _r(min(inside, key=lambda y: (abs(y - x), y)))
    if wide_smooth:
        return _r(x)
    return _r(x if lattice is None else round(x / lattice) * lattice)


def transition_needs(curve: Curve, lam, acc, thought, tokens, settings: AdaptiveSettings,
                     th: Thresholds, n_boot: int, seed: int) -> list[tuple[int, str, float]]:
    """(step index, why, size) for the transition and smooth judges. With a significant change
    but too few points for the logistic to beat a line by the AICc margin, only "support": the
    cheapest step (by predicted cost) wider than the reference step, the widest among equally
    cheap (a point is a point to the AICc test; one on the cheap plateau costs the direct
    parent's tokens): no fit yet, so no window for the smooth claim to set aside. Once
    fitted: "centre" (the steepest step) while the width is uncertain
    against the limit, the centre CI is wider than `target` or the steepest step is wider than
    the 0.1 reference step (the fitted width of a rise inside a wider gap says nothing about
    the 0.2 limit), and "smooth" for every step the smooth judge cannot certify."""
    steps = np.abs(np.diff(acc))
    if thought is not None:
        steps = np.maximum(steps, np.abs(np.diff(thought)))
    width = np.diff(lam)
    splittable = width >= 2 * settings.resolution - 1e-9
    steepest = int(np.argmax(steps))  # where the transition sits (split only if splittable)
    pt = judge_phase_transition(curve, th, n_boot=n_boot, seed=seed).numbers
    change_ci = pt.get("change_ci")
    real = change_ci is None or change_ci[0] > 0 or change_ci[1] < 0  # None: < 4 strengths
    aicc = pt.get("delta_aicc")
    if real and (aicc is None or aicc < th.transition_min_delta_aicc):
        mid = (np.zeros(len(width)) if tokens is None else (tokens[:-1] + tokens[1:]) / 2.0)
        wide = [k for k in range(len(width)) if width[k] > th.reference_step + 1e-9] or list(range(len(width)))
        i = min(wide, key=lambda k: (float(mid[k]), -round(float(width[k]), 6)))
        return [(i, "support", float(steps[i]))] if splittable[i] else []
    if real and pt.get("width_ci") is not None:
        unsure = pt["width"] > th.abrupt_max_width >= pt["width_ci"][0]
        ci = pt["centre_ci"]
        gap = width[steepest] > th.reference_step + 1e-9  # a rise inside it may be wider than 0.2
        if unsure or gap or ci[1] - ci[0] > settings.target:
            if splittable[steepest]:
                return [(steepest, "centre", float(steps[steepest]))] + _smooth_needs(curve, lam, th, n_boot, seed)
    return _smooth_needs(curve, lam, th, n_boot, seed)


def _step_index(lam, a: float) -> int:
    """The index of the step that starts at `a` (a lam a judge's numbers name)."""
    return int(np.flatnonzero(np.isclose(lam, a))[0])


def _smooth_needs(curve: Curve, lam, th: Thresholds, n_boot: int, seed: int) -> list[tuple[int, str, float]]:
    sm = judge_smooth(curve, th, n_boot=n_boot, seed=seed)
    return [(_step_index(lam, a), "smooth", abs(float(d))) for a, b, d in sm.numbers.get("uncertified_steps", [])]


def routing_need(curve: Curve, lam, acc, tokens, th: Thresholds, n_boot: int, seed: int) -> list[tuple[int, str, float]]:
    """Steps that leave "some merge beats random routing at matched cost" open: while the
    judge does not hold, the steps it names as able to hold such a merge (its `open_steps`:
    wider than the 0.1 reference step, with a best conceivable interior merge above the
    routing line beyond noise; `evals.claims.judges_curve.routing_open_steps`)."""
    if tokens is None or not curve.interior():
        return []
    rg = judge_routing_gain(curve, th, n_boot=n_boot, seed=seed)
    if rg.status == "holds":
        return []
    return [(_step_index(lam, a), "routing", g) for a, b, g in rg.numbers.get("open_steps", [])]


def pareto_need(curve: Curve, lam, acc, tokens, th: Thresholds, n_boot: int, seed: int) -> list[tuple[int, str, float]]:
    """The knee while no merge beats a parent: the step below the first lam whose accuracy
    reaches the thinking parent's, when the lam below it is cheaper than the thinking parent."""
    if tokens is None or len(lam) < 2 or curve.think is None:
        return []
    if curve.interior() and judge_pareto(curve, th, n_boot=n_boot, seed=seed).status == "holds":
        return []
    level, cost = acc[-1], tokens[-1]
    for i in range(1, len(lam)):
        if acc[i] >= level - 1e-12:
            return [(i - 1, "pareto", float(level - acc[i - 1]))] if tokens[i - 1] < cost else []
    return []


def propose(curve: Curve, settings: AdaptiveSettings, thresholds: Thresholds | None = None, *,
            n_boot: int = 200, seed: int = 0) -> list[Proposal]:
    """New lams for one curve in ORDER (cheapest per reason served first within each),
    none closer than `settings.resolution` to a lam it has; at most `max_points` merges in all."""
    th = thresholds or Thresholds()
    lam, acc, thought, tokens = _series(curve)
    if len(lam) < 2:
        return []
    needs = transition_needs(curve, lam, acc, thought, tokens, settings, th, n_boot, seed)
    needs += routing_need(curve, lam, acc, tokens, th, n_boot, seed)
    needs += pareto_need(curve, lam, acc, tokens, th, n_boot, seed)
    cands, seen = [], set()
    serves = {i: len({n[1] for n in needs if n[0] == i}) for i, _, _ in needs}
    for i, why, size in sorted(needs, key=lambda n: ORDER.index(n[1])):
        if i in seen:  # one point per step: the first reason's split serves the others too
            continue
        seen.add(i)
        a, b = float(lam[i]), float(lam[i + 1])
        ta, tb = (0.0, 0.0) if tokens is None else (float(tokens[i]), float(tokens[i + 1]))
        x = split_point(a, b, why, ta, tb, th.reference_step, settings.min_step)
        cost = ta + (x - a) / (b - a) * (tb - ta)
        samples = max(p.n_samples for p in curve.series()[i:i + 2])  # budgeted at the dearer end
        cands.append(Proposal(x, why, size, round(cost, 3), round(max(ta, tb) * samples, 1), serves[i]))
    room = settings.max_points - len(curve.points)
    have, out = list(curve.lams) + [0.0, 1.0], []
    for p in sorted(cands, key=lambda p: (p.rank, -p.size)):
        if len(out) >= room:
            break
        if all(abs(p.lam - x) >= settings.resolution - 1e-9 for x in have):
            out.append(p)
            have.append(p.lam)
    return out


LATER = (ORDER[3:], ORDER[4:])  # the transition's points (ORDER[:3]) first, then routing, then Pareto


def first_needed(cands: list[tuple[str, Proposal]]) -> list[tuple[str, Proposal]]:
    """The (method, proposal) pairs a round takes: the transition's points (support, smooth,
    centre) of every curve while any curve has one; else routing points while any curve has
    one; else Pareto points."""
    for later in LATER:
        if any(p.why not in later for _, p in cands):
            return [(m, p) for m, p in cands if p.why not in later]
    return cands


def search_curve(point_at: Callable[[float], Point], settings: AdaptiveSettings, *, direct: Point,
                 think: Point, method: str = "linear", n_boot: int = 200, seed: int = 0) -> tuple[Curve, int]:
    """The search on one curve whose points come from `point_at(lam)` (a simulation or a cache):
    (the final curve, rounds taken). `run_adaptive` is the same loop over stored sweeps."""
    pts = {x: point_at(x) for x in settings.grid()}
    rounds = 0
    while True:
        rounds += 1
        curve = Curve(direct.pair, method, direct.benchmark, tuple(pts.values()), direct, think)
        new = [p for _, p in first_needed([(method, p) for p in propose(curve, settings, n_boot=n_boot, seed=seed)])
               ] if rounds < MAX_ROUNDS else []
        if not new:
            return curve, rounds
        pts.update({p.lam: point_at(p.lam) for p in new})


def generated_tokens(records: Sequence[SampleRecord]) -> int:
    return int(sum(r.generated_tokens for r in records))


@dataclass(frozen=True)
class Round:
    lams: dict[str, tuple[float, ...]]  # method -> lams evaluated after this round
    added: dict[str, tuple[Proposal, ...]]
    tokens: int  # generated tokens of every record when the round proposed its points


def run_adaptive(config: SweepConfig, *, run_fn: Callable[..., list[SampleRecord]] = run_sweep,
                 progress: bool = True, n_boot: int = 200) -> tuple[list[SampleRecord], list[Round]]:
    """Rounds of ordinary sweeps, one per method with that method's lams, until no curve
    proposes a point or none fits the token budget. A round takes every curve's transition
    points (support, smooth, centre), cheapest per reason served first (`Proposal.rank`);
    routing points only in rounds where no curve needs one of those, Pareto points only where
    no curve needs any other, so the budget goes to the transition's verdicts (which routing
    and Pareto read too) first. Under `max_tokens` a point is admitted at its
    dearer neighbour's tokens (a bound when tokens are monotone between neighbours, so the
    budget holds); what the admitted points did not spend of their bound comes back before
    the round's next point is turned away: the admitted ones run, and the round's remaining
    proposals are admitted again, in rank order, against what is actually left. Returns
    every record and the rounds."""
    settings = config.adaptive
    if settings is None:
        raise ValueError("run_adaptive: the config has no adaptive settings (lams: adaptive)")
    lams = {m: set(settings.grid()) for m in config.methods}
    records: dict[tuple, SampleRecord] = {}
    rounds: list[Round] = []

    def run(methods) -> int:
        for m in methods:
            for r in run_fn(replace(config, methods=(m,), lams=tuple(sorted(lams[m]))), progress=progress):
                records[r.key()] = r
        return generated_tokens(list(records.values()))

    spent = run(config.methods)
    for i in range(MAX_ROUNDS):
        at_start = spent
        added: dict[str, list[Proposal]] = {m: [] for m in config.methods}
        if i + 1 < MAX_ROUNDS:
            cands = [(curve.method, p) for curve in judged_curves(list(records.values())) if curve.method in lams
                     for p in propose(curve, settings, n_boot=n_boot, seed=config.seed)]
            cands = first_needed(cands)
            queue = sorted(cands, key=lambda c: c[1].rank)
            while queue:
                budget = None if settings.max_tokens is None else settings.max_tokens - spent
                batch, rest = [], []
                for m, p in queue:
                    if budget is not None and p.tokens > budget:
                        rest.append((m, p))  # over what is left at its bound: retried after a refund
                    elif all(abs(p.lam - x) >= settings.resolution - 1e-9 for x in lams[m]):
                        batch.append((m, p))
                        lams[m].add(p.lam)
                        budget = None if budget is None else budget - p.tokens
                if not batch:
                    break
                for m, p in batch:
                    added[m].append(p)
                spent = run(dict.fromkeys(m for m, _ in batch))
                queue = rest
        rounds.append(Round({m: tuple(sorted(v)) for m, v in lams.items()},
                            {m: tuple(v) for m, v in added.items() if v}, at_start))
        if not any(added.values()):
            break
    return list(records.values()), rounds


def format_rounds(rounds: Sequence[Round]) -> str:
    lines = []
    for i, r in enumerate(rounds):
        adds = "; ".join(f"{m}: " + ", ".join(f"{p.lam:g} ({p.why})" for p in ps) for m, ps in r.added.items())
        lines.append(f"adaptive round {i + 1}: {r.tokens:,} tokens so far; " + (f"added {adds}" if adds else "done"))
    return "\n".join(lines)
