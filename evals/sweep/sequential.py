"""Sequential sampling (`sequential: {first: 2}`, temperature > 0): every point starts with a few
samples per problem; samples are doubled, up to the benchmark's `samples`, only at points
where a verdict can still change; the rest stop early.

    records, rounds = run_sequential(config)          # config.sequential: SequentialSettings
    grow = points_to_grow(curve)                      # the pure step, on one judged curve

A point can still change a verdict when (95% normal intervals on paired per-problem
differences, the judges' own thresholds):
- a step to a neighbouring lam straddles the smooth claim's 10 points (it may or may not be a
  jump), or
- it is cheaper than a parent and its accuracy difference to that parent straddles 0, or it is
  at least as accurate and its token difference straddles 0 (a Pareto call either way).
The parents are compared with everything, so they always go to the full count.

Samples are seeded per (seed, prompt, sample index), never by their number, so the first k
samples of a point are the first k of any larger run: growing a point re-files its k records
under the larger count's key (same text, tokens and grade) and generates only the rest. The
records returned are each point's at its final count; every verdict states how many samples
it rests on (`numbers["samples"]`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from evals.analysis.points import Curve, Point
from evals.claims.verdicts import Thresholds
from evals.claims.verify import judged_curves
from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep

Z = 1.96


def _paired(a: Point, b: Point, name: str) -> tuple[float, float]:
    """(mean, half-width) of the per-problem difference a - b of a matrix field, on the sample
    indices both points have (points at different counts compare like with like)."""
    x, y = getattr(a, name), getattr(b, name)
    if x is None or y is None or a.problem_ids != b.problem_ids:
        return float("nan"), float("nan")
    k = min(x.shape[1], y.shape[1])
    with np.errstate(invalid="ignore"):
        d = np.nanmean(np.asarray(x[:, :k], float), axis=1) - np.nanmean(np.asarray(y[:, :k], float), axis=1)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return float(np.mean(d)) if len(d) else float("nan"), float("inf")
    return float(d.mean()), float(Z * d.std(ddof=1) / np.sqrt(len(d)))


def _straddles(mean: float, half: float, at: float) -> bool:
    return mean - half < at < mean + half


def points_to_grow(curve: Curve, thresholds: Thresholds | None = None) -> set[float]:
    """Lams of this curve's merges whose verdicts more samples could still change."""
    th = thresholds or Thresholds()
    series, out = curve.series(), set()
    for a, b in zip(series, series[1:]):
        mean, half = _paired(b, a, "correct")
        if _straddles(abs(mean), half, th.smooth_max_jump):
            out |= {p.lam for p in (a, b) if p.method is not None}
    for m in curve.interior():
        for parent in (curve.direct, curve.think):
            if parent is None:
                continue
            d_acc, h_acc = _paired(m, parent, "correct")
            d_tok, h_tok = _paired(m, parent, "tokens")
            if (d_tok < 0 and _straddles(d_acc, h_acc, 0.0)) or (d_acc >= 0 and _straddles(d_tok, h_tok, 0.0)):
                out.add(m.lam)
    return out


def restamp(records: Sequence[SampleRecord], n: int) -> list[SampleRecord]:
    """The records re-filed under sample count `n` (indices below n only)."""
    return [replace(r, sampling={**r.sampling, "n": n}) for r in records if r.sample_index < n]


@dataclass(frozen=True)
class SequentialRound:
    counts: dict[tuple[str | None, float], int]  # (method or None, lam) -> samples per problem now
    grown: tuple[tuple[str | None, float], ...]


def _point(r: SampleRecord) -> tuple[str | None, float]:
    return r.method, float(r.lam)


def run_sequential(config: SweepConfig, *, run_fn: Callable[..., list[SampleRecord]] = run_sweep,
                   progress: bool = True) -> tuple[list[SampleRecord], list[SequentialRound]]:
    """Rounds of ordinary sweeps at growing sample counts; returns each point's records at its
    final count, and the rounds. A sweep call always evaluates the parents, so the first one
    runs at the full count with one merge point (the first method's first lam) beside them."""
    if config.sequential is None:
        raise ValueError("run_sequential: the config has no sequential settings")
    full = max(config.params_for(b).n for b in config.benchmarks)
    k0 = min(config.sequential.first, full)

    def at(k: int, **kw) -> SweepConfig:
        return replace(config, samples={b: min(k, config.params_for(b).n) for b in config.benchmarks}, **kw)

    by_point: dict[tuple, list[SampleRecord]] = defaultdict(list)
    for r in run_fn(at(full, methods=config.methods[:1], lams=config.lams[:1]), progress=progress):
        by_point[_point(r)].append(r)
    count = {p: full for p in by_point}
    parents = [r for p, rs in by_point.items() if p[0] is None for r in rs]
    _file(config.results, [r for rs in by_point.values() for r in restamp(rs, k0)])  # not generated twice
    for r in run_fn(at(k0), progress=progress):
        if _point(r) not in count:
            by_point[_point(r)].append(r)
    count.update({p: k0 for p in by_point if p not in count})
    rounds: list[SequentialRound] = []
    while True:
        grow = set()
        for c in judged_curves([r for rs in by_point.values() for r in rs]):
            grow |= {(c.method, lam) for lam in points_to_grow(c)}
        grow = {p for p in grow if p in count and count[p] < full}
        rounds.append(SequentialRound(dict(count), tuple(sorted(grow, key=str))))
        if not grow:
            return [r for rs in by_point.values() for r in rs], rounds
        groups: dict[tuple[int, str], list[float]] = defaultdict(list)
        for method, lam in grow:
            groups[(min(2 * count[(method, lam)], full), method)].append(lam)
        for (k, method), lams in sorted(groups.items()):
            # parents at k come from their full run, the point's first samples from its last count
            _file(config.results, restamp(parents, k) + [r for lam in lams for r in restamp(by_point[(method, lam)], k)])
            for lam in lams:
                by_point[(method, lam)], count[(method, lam)] = [], k
            for r in run_fn(at(k, methods=(method,), lams=tuple(sorted(lams))), progress=progress):
                if r.method is not None:
                    by_point[_point(r)].append(r)


def _file(path: str, records: list[SampleRecord]) -> None:
    """Append the records the store does not hold yet (the run reads the file afresh)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(path)
    store.extend([r for r in records if r.key() not in store])
