"""Points and curves: the results table every analyzer reads.

A `Point` is one (pair, method, lam, benchmark) cell. It holds either per-problem
matrices -- correct[P, k], tokens[P, k], truncated/malformed/thought[P, k], aligned on a
sorted problem-id list, NaN where a problem has fewer than k samples -- which the paired
bootstrap resamples over problems, or, for an outside table, aggregate numbers only
(accuracy, mean_tokens, n), which are resampled binomially.

A `Curve` is one method's points sorted by lam plus the two parents (direct at lam=0,
thinking at lam=1) when known. `method` is an opaque curve label ("linear",
"dare(p=0.9)", "ties(density=0.2)"); `method_family` tells sparse from dense.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evals.method_labels import method_family

def _row_means(m: np.ndarray) -> np.ndarray:
    """Mean of each row over its non-NaN entries (NaN for an all-NaN row), warning-free."""
    present = ~np.isnan(m)
    counts = present.sum(axis=1)
    sums = np.where(present, m, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


@dataclass(frozen=True, eq=False)
class Point:
    pair: str
    method: str | None  # None: a parent checkpoint evaluated on its own
    lam: float
    benchmark: str
    problem_ids: tuple[str, ...] = ()
    correct: np.ndarray | None = None  # [P, k] 0/1, NaN = no such sample
    tokens: np.ndarray | None = None  # [P, k] generated tokens
    truncated: np.ndarray | None = None  # [P, k] 0/1
    malformed: np.ndarray | None = None  # [P, k] 0/1
    thought: np.ndarray | None = None  # [P, k] 0/1, NaN where unknown
    agg_accuracy: float | None = None  # aggregate-only points (outside tables)
    agg_mean_tokens: float | None = None
    agg_n: int | None = None

    def __post_init__(self) -> None:
        where = f"point {self.label}"
        if self.correct is None:
            if self.agg_accuracy is None or self.agg_n is None:
                raise ValueError(f"{where}: give per-problem matrices (correct[P, k]) or "
                                 "aggregate accuracy and n")
            if not 0.0 <= self.agg_accuracy <= 1.0 or self.agg_n < 1:
                raise ValueError(f"{where}: accuracy must lie in [0, 1] and n >= 1, got "
                                 f"{self.agg_accuracy} and {self.agg_n}")
            if self.agg_mean_tokens is not None and not self.agg_mean_tokens >= 0:
                raise ValueError(f"{where}: mean_tokens must be >= 0, got {self.agg_mean_tokens}")
            return
        shape = self.correct.shape
        if self.correct.ndim != 2 or shape[0] != len(self.problem_ids) or shape[0] == 0:
            raise ValueError(f"{where}: correct must be [P, k] with P = len(problem_ids) > 0, "
                             f"got shape {shape} for {len(self.problem_ids)} problem ids")
        if list(self.problem_ids) != sorted(set(self.problem_ids)):
            raise ValueError(f"{where}: problem_ids must be sorted and unique")
        for name in ("tokens", "truncated", "malformed", "thought"):
            m = getattr(self, name)
            if m is not None and m.shape != shape:
                raise ValueError(f"{where}: {name} has shape {m.shape}, correct has {shape}")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def aggregate(cls, pair: str, method: str | None, lam: float, benchmark: str, *,
                  accuracy: float, n: int, mean_tokens: float | None = None) -> "Point":
        return cls(pair, method, float(lam), benchmark, agg_accuracy=float(accuracy),
                   agg_mean_tokens=None if mean_tokens is None else float(mean_tokens),
                   agg_n=int(n))

    # -- views ----------------------------------------------------------------------------
    @property
    def label(self) -> str:
        who = self.method if self.method is not None else ("direct" if self.lam == 0 else "thinking")
        return f"{self.pair}/{who}@{self.lam:g}/{self.benchmark}"

    @property
    def is_aggregate(self) -> bool:
        return self.correct is None

    @property
    def has_tokens(self) -> bool:
        return self.tokens is not None if not self.is_aggregate else self.agg_mean_tokens is not None

    @property
    def n(self) -> int:
        """Problems behind the accuracy (the effective sample size of the bootstrap)."""
        return int(self.agg_n) if self.is_aggregate else len(self.problem_ids)

    @property
    def n_samples(self) -> int:
        return int(self.agg_n) if self.is_aggregate else int((~np.isnan(self.correct)).sum())

    def per_problem(self, name: str) -> np.ndarray | None:
        """Per-problem mean of a matrix field ('correct', 'tokens', ...): [P], or None."""
        return self._per_problem.get(name)

    @cached_property
    def _per_problem(self) -> dict[str, np.ndarray]:
        out = {}
        for name in ("correct", "tokens", "truncated", "malformed", "thought"):
            m = getattr(self, name)
            if m is not None:
                out[name] = _row_means(np.asarray(m, dtype=float))
        return out

    def _rate(self, name: str) -> float | None:
        v = self.per_problem(name)
        if v is None or np.isnan(v).all():
            return None
        return float(np.nanmean(v))

    @property
    def accuracy(self) -> float:
        """avg@k: mean over problems of each problem's mean over its samples."""
        return float(self.agg_accuracy) if self.is_aggregate else self._rate("correct")

    @property
    def mean_tokens(self) -> float | None:
        return self.agg_mean_tokens if self.is_aggregate else self._rate("tokens")

    @property
    def truncated_rate(self) -> float | None:
        return self._rate("truncated")

    @property
    def malformed_rate(self) -> float | None:
        return self._rate("malformed")

    @property
    def thought_rate(self) -> float | None:
        return self._rate("thought")


@dataclass(frozen=True, eq=False)
class Curve:
    pair: str
    method: str
    benchmark: str
    points: tuple[Point, ...]  # this method's points, sorted by lam on construction
    direct: Point | None = None
    think: Point | None = None
    parents_inferred: bool = False  # parents are stand-ins taken from lam 0/1 merge points

    def __post_init__(self) -> None:
        pts = tuple(sorted(self.points, key=lambda p: p.lam))
        object.__setattr__(self, "points", pts)
        lams = [p.lam for p in pts]
        if not pts or len(set(lams)) != len(lams):
            raise ValueError(f"curve {self.pair}/{self.method}/{self.benchmark}: needs at least "
                             f"one point and one point per lam, got lams {lams}")
        for p in pts + tuple(q for q in (self.direct, self.think) if q is not None):
            if (p.pair, p.benchmark) != (self.pair, self.benchmark):
                raise ValueError(f"curve {self.pair}/{self.method}/{self.benchmark}: point "
                                 f"{p.label} belongs to another pair or benchmark")

    @property
    def family(self) -> str:
        return method_family(self.method)

    @property
    def lams(self) -> tuple[float, ...]:
        return tuple(p.lam for p in self.points)

    def interior(self) -> tuple[Point, ...]:
        """Merges proper: 0 < lam < 1 (lam 0 and 1 of most methods are the parents)."""
        return tuple(p for p in self.points if 0.0 < p.lam < 1.0)

    def series(self) -> tuple[Point, ...]:
        """The curve from direct to thinking: this method's points, with the parents
        standing in at lam=0 and lam=1 where the method has no point of its own."""
        pts = list(self.points)
        if self.direct is not None and pts[0].lam > 0.0:
            pts.insert(0, self.direct)
        if self.think is not None and pts[-1].lam < 1.0:
            pts.append(self.think)
        return tuple(pts)

    @property
    def has_tokens(self) -> bool:
        return all(p.has_tokens for p in self.series())
