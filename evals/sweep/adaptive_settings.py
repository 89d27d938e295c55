"""The `adaptive:` section of a sweep config (`lams: adaptive`), validated where it enters.

    lams: adaptive
    adaptive: {start: [0.25, 0.5], target: 0.05, min_step: 0.01, max_points: 12,
               max_tokens: 2.0e6, centre: 0.5}

- `start`: the coarse grid evaluated first (the parents always are, as in every sweep). The
  default, 0.25 and 0.5, stops at the middle: tokens rise with lam, a point above the
  transition costs the thinking parent's tokens, and the search explores the dear half from
  its cheap end (a smooth step wider than 0.2 is split 0.1 above its cheaper end), so points
  up there are bought only where a judge asks (0.25/0.5/0.75 spent 28% of the tiny pair's
  fixed-grid tokens before the first decision; docs/adaptive.md);
- `target`: the width the search drives the transition's centre CI down to;
- `min_step`: the finest lam spacing it adds at the transition and the Pareto knee (the
  paper's dense step, 0.01); steps the smooth claim cannot certify are split down to the
  claims' 0.1 reference step (`Thresholds.reference_step`);
- `max_points`: merge points per method at most (start grid included);
- `max_tokens`: generated tokens of the whole sweep at most (checked between rounds);
- `centre`: a predicted transition centre (`spectrum probe CONFIG` prints one): the start
  grid gains the points of the claims' 0.1 reference grid that bracket centre +- target (a
  centre of 0.502 with target 0.05: 0.4, 0.5, 0.6), so the predicted rise is resolved at
  the judges' resolution from the first round; with `start: [0.25]` the search then spends
  nothing above the rise unless a judge asks for it (tokens rise with lam).

The `sequential:` section (sampling at temperature > 0): `{first: 2}` starts every point with
2 samples per problem and doubles them, up to the benchmark's `samples`, only where a verdict
can still change (`evals.sweep.sequential`).

Only numbers live here (no evaluation): `evals.sweep.config` reads them, `evals.sweep.adaptive`
and `evals.sweep.sequential` run them.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from evals.claims.verdicts import Thresholds

DEFAULT_START = (0.25, 0.5)
REFERENCE_STEP = Thresholds().reference_step  # the claims' lam resolution (0.1, the paper's grid)
KEYS = ("start", "target", "min_step", "max_points", "max_tokens", "centre")


@dataclass(frozen=True)
class AdaptiveSettings:
    start: tuple[float, ...] = DEFAULT_START
    target: float = 0.05
    min_step: float = 0.01
    max_points: int = 12  # 2 start + 3 support + 2 to bring the rise within 0.1 + 5 knee bisections (0.4 -> 0.01)
    max_tokens: float | None = None
    centre: float | None = None

    def __post_init__(self) -> None:
        if not self.start or any(not 0.0 <= x <= 1.0 for x in self.start):
            raise ValueError(f"adaptive.start: lams in [0, 1], e.g. [0.25, 0.5]; got {list(self.start)}")
        if not 0.0 < self.target <= 0.5:
            raise ValueError(f"adaptive.target: a centre-interval width in (0, 0.5], e.g. 0.05; got {self.target}")
        if not 0.0 < self.min_step <= 0.1:
            raise ValueError(f"adaptive.min_step: the finest lam spacing added, in (0, 0.1], e.g. 0.01; "
                             f"got {self.min_step}")
        if self.max_points < len(self.grid()):
            raise ValueError(f"adaptive.max_points: {self.max_points} is fewer than the {len(self.grid())} "
                             f"start lams; raise it or shorten adaptive.start")
        if self.max_tokens is not None and not self.max_tokens > 0:
            raise ValueError(f"adaptive.max_tokens: a positive token count, e.g. 2.0e6; got {self.max_tokens}")
        if self.centre is not None and not 0.0 < self.centre < 1.0:
            raise ValueError(f"adaptive.centre: a predicted centre in (0, 1); got {self.centre}")

    @property
    def resolution(self) -> float:
        """No two lams of one curve are ever added closer than this."""
        return self.min_step

    def grid(self) -> tuple[float, ...]:
        """The start lams: `start`, plus the reference-grid points bracketing centre +- target."""
        lams = set(self.start)
        if self.centre is not None:
            lo = math.floor((self.centre - self.target) / REFERENCE_STEP + 1e-9)
            hi = math.ceil((self.centre + self.target) / REFERENCE_STEP - 1e-9)
            lams |= {round(k * REFERENCE_STEP, 4) for k in range(max(lo, 1), hi + 1) if k * REFERENCE_STEP < 1.0 - 1e-9}
        return tuple(sorted(lams))

    @classmethod
    def from_mapping(cls, raw, where: str = "sweep config") -> "AdaptiveSettings":
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: adaptive is a mapping of {', '.join(KEYS)}; got {raw!r}")
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise ValueError(f"{where}: adaptive: unknown key(s) {unknown}; allowed: {list(KEYS)}")
        kw = {}
        try:
            if "start" in raw:
                kw["start"] = tuple(float(x) for x in raw["start"])
            for key, typ in (("target", float), ("min_step", float), ("max_points", int), ("max_tokens", float),
                             ("centre", float)):
                if raw.get(key) is not None:
                    kw[key] = typ(raw[key])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: adaptive: start is a list of lams, target/min_step/max_tokens/centre numbers, "
                             f"max_points an integer; got {dict(raw)!r}") from None
        try:
            return cls(**kw)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class SequentialSettings:
    first: int = 2  # samples per problem every point starts with

    def __post_init__(self) -> None:
        if not isinstance(self.first, int) or self.first < 1:
            raise ValueError(f"sequential.first: samples per problem to start with, an integer >= 1; got {self.first!r}")

    @classmethod
    def from_mapping(cls, raw, where: str = "sweep config") -> "SequentialSettings":
        if raw is None or raw is True:
            return cls()
        if not isinstance(raw, Mapping) or set(raw) - {"first"}:
            raise ValueError(f"{where}: sequential is a mapping {{first: N}} (samples per problem to start "
                             f"with); got {raw!r}")
        try:
            return cls(**dict(raw))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
