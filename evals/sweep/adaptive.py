"""Adaptive strengths (`lams: adaptive`): evaluate the parents and a coarse grid, then add lams
only where a new point can still change a verdict, until the target or the budget is reached.

    records, rounds = run_adaptive(config)               # config.adaptive: AdaptiveSettings
    new = propose(curve, settings)                       # the pure step, on one judged curve

Where a point can change a verdict (Thresholds are the claim judges' own):
- the transition: an interval whose accuracy or thinking-share step exceeds the smooth
  claim's 10 points is bisected (largest step first) while it is wider than `target`, and the
  transition's centre interval is narrowed until its bootstrap CI is at most `target` wide;
- the Pareto front: the interval where accuracy first reaches the thinking parent's level
  (the cheapest merge that may match it) is bisected while wider than `target`.
Every added point is an ordinary sweep point (run by `run_fn`, `evals.sweep.local.run_sweep`
or the Ray driver), so its records are ordinary store records: resume, Ray and reports need
no special case, and a rerun replays the same rounds from the store without generating.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from evals.analysis.points import Curve, Point
from evals.analysis.transition import analyze_transition
from evals.claims.verdicts import Thresholds
from evals.claims.verify import judged_curves
from evals.records import SampleRecord
from evals.sweep.adaptive_settings import AdaptiveSettings
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep

MAX_ROUNDS = 12  # bisection from a 0.25 grid to 0.025 takes 4; the knee another few


@dataclass(frozen=True)
class Proposal:
    lam: float
    why: str  # "transition" | "centre" | "pareto"
    size: float  # the accuracy step that makes the interval worth splitting (for the order)


def _series(curve: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    pts = curve.series()
    lam = np.array([p.lam for p in pts])
    acc = np.array([p.accuracy for p in pts])
    th = [p.thought_rate for p in pts]
    tok = [p.mean_tokens for p in pts]
    thought = None if any(t is None for t in th) else np.array(th, dtype=float)
    tokens = None if any(t is None for t in tok) else np.array(tok, dtype=float)
    return lam, acc, thought, tokens


def centre_ci_width(curve: Curve, n_boot: int = 200, seed: int = 0) -> float | None:
    """Width of the transition centre's bootstrap CI (None: too few points to fit)."""
    if len(curve.series()) < 6 or any(p.is_aggregate for p in curve.series()):
        return None
    lo, hi = analyze_transition(curve, n_boot=n_boot, seed=seed).centre_ci
    return float(hi - lo)


def _mid(a: float, b: float) -> float:
    return round((float(a) + float(b)) / 2.0, 4)


def transition_proposals(lam, acc, thought, settings: AdaptiveSettings, th: Thresholds,
                         ci_width: float | None) -> list[Proposal]:
    """Bisect steps of accuracy (or thinking share) larger than the smooth claim allows; once
    the centre's CI meets the target, only steps outside the steepest one are still split."""
    out = []
    steps = np.abs(np.diff(acc))
    if thought is not None:
        steps = np.maximum(steps, np.abs(np.diff(thought)))
    steepest = int(np.argmax(steps)) if len(steps) else -1
    for i, s in enumerate(steps):
        wide = lam[i + 1] - lam[i] >= settings.target - 1e-9
        if not wide or s <= th.smooth_max_jump:
            continue
        if i == steepest and ci_width is not None and ci_width <= settings.target:
            continue  # the centre is pinned down; splitting its step changes no verdict
        out.append(Proposal(_mid(lam[i], lam[i + 1]), "centre" if i == steepest else "transition", float(s)))
    return out


def pareto_proposals(lam, acc, tokens, n_problems: int, settings: AdaptiveSettings) -> list[Proposal]:
    """Split the interval below the first lam whose accuracy reaches the thinking parent's
    (within one problem) at fewer tokens: the cheapest merge that can match it sits there."""
    if tokens is None or len(lam) < 2:
        return []
    tol = 1.0 / max(n_problems, 1)
    level, cost = acc[-1], tokens[-1]
    for i in range(1, len(lam)):
        if acc[i] >= level - tol:
            if lam[i] - lam[i - 1] >= settings.target - 1e-9 and tokens[i - 1] < cost:
                return [Proposal(_mid(lam[i - 1], lam[i]), "pareto", float(level - acc[i - 1]))]
            return []
    return []


def propose(curve: Curve, settings: AdaptiveSettings, thresholds: Thresholds | None = None, *,
            n_boot: int = 200, seed: int = 0) -> list[Proposal]:
    """New lams for one curve, most promising first, none closer than `settings.resolution`
    to a lam it has; at most `max_points` merge points in all."""
    th = thresholds or Thresholds()
    lam, acc, thought, tokens = _series(curve)
    if len(lam) < 2:
        return []
    cands = transition_proposals(lam, acc, thought, settings, th, centre_ci_width(curve, n_boot, seed))
    cands += pareto_proposals(lam, acc, tokens, curve.series()[0].n, settings)
    room = settings.max_points - len(curve.points)
    have, out = list(curve.lams) + [0.0, 1.0], []
    for p in sorted(cands, key=lambda p: -p.size):
        if len(out) >= room:
            break
        if all(abs(p.lam - x) >= settings.resolution - 1e-9 for x in have):
            out.append(p)
            have.append(p.lam)
    return out


def search_curve(point_at: Callable[[float], Point], settings: AdaptiveSettings, *, direct: Point,
                 think: Point, method: str = "linear", n_boot: int = 200, seed: int = 0) -> tuple[Curve, int]:
    """The search on one curve whose points come from `point_at(lam)` (a simulation or a cache):
    (the final curve, rounds taken). `run_adaptive` is the same loop over stored sweeps."""
    pts = {x: point_at(x) for x in settings.grid()}
    rounds = 0
    while True:
        rounds += 1
        curve = Curve(direct.pair, method, direct.benchmark, tuple(pts.values()), direct, think)
        new = propose(curve, settings, n_boot=n_boot, seed=seed) if rounds < MAX_ROUNDS else []
        if not new:
            return curve, rounds
        pts.update({p.lam: point_at(p.lam) for p in new})


def generated_tokens(records: Sequence[SampleRecord]) -> int:
    return int(sum(r.generated_tokens for r in records))


@dataclass(frozen=True)
class Round:
    lams: dict[str, tuple[float, ...]]  # method -> lams evaluated after this round
    added: dict[str, tuple[Proposal, ...]]
    tokens: int  # generated tokens of every record so far


def run_adaptive(config: SweepConfig, *, run_fn: Callable[..., list[SampleRecord]] = run_sweep,
                 progress: bool = True, n_boot: int = 200) -> tuple[list[SampleRecord], list[Round]]:
    """Rounds of ordinary sweeps, one per method with that method's lams, until no curve
    proposes a point or the token budget is spent; returns every record and the rounds."""
    settings = config.adaptive
    if settings is None:
        raise ValueError("run_adaptive: the config has no adaptive settings (lams: adaptive)")
    lams = {m: set(settings.grid()) for m in config.methods}
    records: dict[tuple, SampleRecord] = {}
    rounds: list[Round] = []
    for i in range(MAX_ROUNDS):
        for m in config.methods:
            for r in run_fn(replace(config, methods=(m,), lams=tuple(sorted(lams[m]))), progress=progress):
                records[r.key()] = r
        spent = generated_tokens(list(records.values()))
        added: dict[str, list[Proposal]] = {m: [] for m in config.methods}
        if i + 1 < MAX_ROUNDS and (settings.max_tokens is None or spent < settings.max_tokens):
            for curve in judged_curves(list(records.values())):
                if curve.method not in lams:
                    continue
                for p in propose(curve, settings, n_boot=n_boot, seed=config.seed):
                    if all(abs(p.lam - x) >= settings.resolution - 1e-9 for x in lams[curve.method]):
                        added[curve.method].append(p)
                        lams[curve.method].add(p.lam)
        rounds.append(Round({m: tuple(sorted(v)) for m, v in lams.items()},
                            {m: tuple(v) for m, v in added.items() if v}, spent))
        if not any(added.values()):
            break
    return list(records.values()), rounds


def format_rounds(rounds: Sequence[Round]) -> str:
    lines = []
    for i, r in enumerate(rounds):
        adds = "; ".join(f"{m}: " + ", ".join(f"{p.lam:g} ({p.why})" for p in ps) for m, ps in r.added.items())
        lines.append(f"adaptive round {i + 1}: {r.tokens:,} tokens so far; " + (f"added {adds}" if adds else "done"))
    return "\n".join(lines)
