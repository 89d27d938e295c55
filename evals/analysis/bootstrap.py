"""Paired bootstrap over problems (and binomial resampling for aggregate-only points).

Every merge of a pair sees the same problems, so the comparisons that matter (merge vs
parent, sparse vs linear, lam vs lam+0.1) are paired: one replicate draws one multiset
of problems and every point of that (pair, benchmark) is re-averaged over it. The
draw is a pure function of (seed, pair, benchmark, number of problems, B) -- a seeded
numpy Generator, never global state -- so separate analyses of the same pair and
benchmark see identical replicates and their CIs agree.

A replicate is a count vector W[b, :] over the sorted union of problem ids; a point's
replicate mean is (W @ v) / (W @ present) for its per-problem means v, so B x P x points
is one matrix product. Aggregate-only points (an outside table with accuracy and n) are
redrawn as Binomial(n, accuracy) / n, independently; their mean_tokens carry no spread
information and are held fixed. A point's binomial column depends on that point alone, so
it is drawn once and cached (every judge of a (pair, benchmark) reuses the same draws).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from evals.analysis.points import Point

FIELDS = ("correct", "tokens", "malformed")


def one_blas_thread():
    """Context: BLAS on one thread. Every product here is small ([B, n] x [n, cells]), and a
    threaded BLAS spends 2-4x the CPU spinning its threads (more on a loaded machine);
    an analysis runs one curve after another, so one thread is also faster in wall time."""
    return threadpool_limits(limits=1, user_api="blas")


def _seed_for(seed: int, *parts: object) -> list[int]:
    return [int(seed), zlib.crc32("|".join(map(str, parts)).encode("utf-8"))]


@lru_cache(maxsize=64)
def problem_weights(pair: str, benchmark: str, n_problems: int, n_boot: int, seed: int) -> np.ndarray:
    """Counts W[B, P]: how often replicate b draws problem p (rows sum to P). Read-only."""
    rng = np.random.default_rng(_seed_for(seed, "problems", pair, benchmark, n_problems))
    idx = rng.integers(0, n_problems, size=(n_boot, n_problems))
    flat = (idx + np.arange(n_boot)[:, None] * n_problems).ravel()
    w = np.bincount(flat, minlength=n_boot * n_problems).reshape(n_boot, n_problems)
    w = w.astype(float)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=1024)  # 8 MB at B = 1000: a (pair, benchmark) group at a time
def binomial_draws(pair: str, benchmark: str, method: str | None, lam: str, n: int, accuracy: float,
                   n_boot: int, seed: int) -> np.ndarray:
    """Binomial(n, accuracy) / n replicates [B] of one aggregate point. Read-only; the seed
    depends on the point alone, so the draws are the same whichever points share a call.
    `lam` is repr(lam), so that -0.0 and 0.0 stay the separate keys they always were."""
    rng = np.random.default_rng(_seed_for(seed, "binomial", pair, benchmark, method, lam))
    draws = rng.binomial(n, accuracy, size=n_boot) / n
    draws.setflags(write=False)
    return draws


@dataclass(frozen=True, eq=False)
class Resamples:
    """Point estimates (`*_hat`, [n]) and replicates ([B, n]) for a list of points;
    NaN where a point lacks that quantity (no tokens, no malformed flags)."""

    points: tuple[Point, ...]
    acc_hat: np.ndarray
    tokens_hat: np.ndarray
    malformed_hat: np.ndarray
    acc: np.ndarray
    tokens: np.ndarray
    malformed: np.ndarray

    def index(self, point: Point) -> int:
        for i, p in enumerate(self.points):
            if p is point:
                return i
        raise ValueError(f"point {point.label} was not resampled here")


def resample(points: Sequence[Point], *, n_boot: int = 1000, seed: int = 0) -> Resamples:
    """Resample all `points` (one pair and benchmark) together; see the module docstring.
    The same points (the same objects, in the same order) give the same Resamples object:
    several judges of a curve read one series, and its arrays are read-only."""
    pts = tuple(points)
    if not pts:
        raise ValueError("resample: no points given")
    if n_boot < 10:
        raise ValueError(f"resample: n_boot={n_boot} is too small for a CI; use >= 100")
    return _resample(pts, n_boot, seed)


@lru_cache(maxsize=32)  # keyed on the points themselves (hashed by identity, kept alive here)
def _resample(pts: tuple[Point, ...], n_boot: int, seed: int) -> Resamples:
    groups = {(p.pair, p.benchmark) for p in pts}
    if len(groups) != 1:
        raise ValueError(f"resample: points span several (pair, benchmark) groups {sorted(groups)}; "
                         "a paired bootstrap needs one")
    pair, bench = groups.pop()
    n = len(pts)
    hat = {f: np.full(n, np.nan) for f in FIELDS}
    rep = {f: np.full((n_boot, n), np.nan) for f in FIELDS}

    matrix = [i for i, p in enumerate(pts) if not p.is_aggregate]
    if matrix:
        universe = sorted({pid for i in matrix for pid in pts[i].problem_ids})
        pos = {pid: j for j, pid in enumerate(universe)}
        w = problem_weights(pair, bench, len(universe), n_boot, seed)
        m, nf = len(matrix), len(FIELDS)
        vals = np.full((len(universe), nf * m), np.nan)  # [P, fields x points]
        for col, i in enumerate(matrix):
            rows = [pos[pid] for pid in pts[i].problem_ids]
            for k, f in enumerate(FIELDS):
                v = pts[i].per_problem(f)
                if v is not None:
                    vals[rows, k * m + col] = v
        present = ~np.isnan(vals)
        filled = np.where(present, vals, 0.0)
        # one product for sums and counts of every field: small BLAS calls cost mostly overhead
        both = w @ np.concatenate([filled, present.astype(float)], axis=1)  # [B, 2 x fields x points]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = both[:, : nf * m] / both[:, nf * m:]
            hats = filled.sum(0) / present.sum(0)
        for k, f in enumerate(FIELDS):
            rep[f][:, matrix] = means[:, k * m:(k + 1) * m]
            hat[f][matrix] = hats[k * m:(k + 1) * m]
    for i, p in enumerate(pts):
        if not p.is_aggregate:
            continue
        hat["correct"][i] = p.accuracy
        rep["correct"][:, i] = binomial_draws(pair, bench, p.method, repr(p.lam), p.n, p.accuracy, n_boot, seed)
        if p.mean_tokens is not None:
            hat["tokens"][i] = rep["tokens"][:, i] = p.mean_tokens
    for a in (*hat.values(), *rep.values()):
        a.setflags(write=False)
    return Resamples(pts, hat["correct"], hat["tokens"], hat["malformed"],
                     rep["correct"], rep["tokens"], rep["malformed"])


def ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of 1-D replicates, NaNs dropped; (nan, nan) if none remain."""
    x = np.asarray(samples, dtype=float).ravel()
    x = np.sort(x[~np.isnan(x)])
    if x.size == 0:
        return (float("nan"), float("nan"))
    a = (1.0 - level) / 2.0
    return (quantile_sorted(x, a), quantile_sorted(x, 1.0 - a))


def quantile_sorted(x: np.ndarray, q: float) -> float:
    """np.quantile(x, q) (its default 'linear' method, bit for bit) of a sorted NaN-free 1-D
    array, without numpy's per-call machinery (about 100 us, and ci runs per point)."""
    n = x.size
    vi = (n - 1) * q
    if vi >= n - 1:
        return float(x[-1])
    if vi < 0:
        return float(x[0])
    i = int(np.floor(vi))
    t = vi - i
    a, b = x[i], x[i + 1]
    d = b - a
    return float(b - d * (1 - t) if t >= 0.5 else a + d * t)


def simultaneous_ci(hat, reps, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Intervals for m estimates that hold JOINTLY at `level` (max-t bootstrap band).

    A claim that scans many points ("some merge beats a parent", "no merge collapses")
    makes m comparisons; separate 95% intervals would let about m/20 of them stray by
    chance. Here c is the `level` quantile over replicates of max_i |rep_i - hat_i| / se_i,
    and each interval is hat_i +- c se_i; columns with no spread (se 0) keep zero width,
    columns without data (NaN) get NaN. With m = 1 this is a symmetric studentised band.
    """
    hat = np.asarray(hat, dtype=float)
    reps = np.asarray(reps, dtype=float)
    ok = ~np.isnan(hat) & ~np.isnan(reps).all(axis=0)
    lo, hi = np.full(hat.shape, np.nan), np.full(hat.shape, np.nan)
    if not ok.any():
        return lo, hi
    r, h = reps[:, ok], hat[ok]
    se = np.nanstd(r, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, np.abs(r - h) / np.where(se > 0, se, 1.0), 0.0)
    z = np.where(np.isnan(z), 0.0, z)
    c = quantile_sorted(np.sort(z.max(axis=1)), level)  # = np.quantile(..., level), bit for bit
    lo[ok], hi[ok] = h - c * se, h + c * se
    return lo, hi
