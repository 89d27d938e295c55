"""What a claim check returns, and the one place its thresholds are declared.

`Thresholds` holds every number a verdict depends on, with the reason for each default
next to it. They are fixed before a run and never tuned to make a claim pass; a report
records the values it used. `Verdict` is one (claim, pair, method, benchmark) outcome:
a status, a sentence a person understands, and the numbers (with CIs) behind it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

STATUSES = ("holds", "fails", "inconclusive")


@dataclass(frozen=True)
class Thresholds:
    # Two-sided bootstrap CI level of every interval a verdict reads.
    level: float = 0.95
    # Phase transition: "abrupt" = fitted 10-90% width at most this many grid steps. The
    # paper's jump sits inside one 0.1 step; two steps still reads as a switch, three
    # (0.3 of the whole spectrum) as a gradual blend.
    abrupt_max_width_steps: float = 2.0
    # ... and the logistic must beat a straight line by this much AICc (2 = the usual
    # "substantial support" boundary; AICc because 11 points is a small sample).
    transition_min_delta_aicc: float = 2.0
    # Smooth: outside the transition no neighbouring step may change accuracy by more
    # than 10 points (a third of the 0 -> 1 change on AIME-type tasks) beyond noise.
    smooth_max_jump: float = 0.10
    # Smooth: tokens rise with lam: Spearman rho >= 0.8 over the sweep (on 11 points
    # one or two local swaps still pass; rho < 0.8 is no longer a monotone trend).
    token_min_spearman: float = 0.8
    # No collapse: malformed rate at most 10 points above the worse parent's.
    collapse_max_malformed_excess: float = 0.10
    # Sparse degradation: "no real loss" when the CI of (sparse - linear) stays above
    # -2 points of mean accuracy / -0.02 normalised hypervolume (2% of the whole box).
    sparse_tolerance_acc: float = 0.02
    sparse_tolerance_hv: float = 0.02
    # Linear ~ SLERP: mean absolute accuracy difference along lam within 5 points.
    # MAD is inflated by sampling noise (~2-3 pts with 30 problems x 10 samples), so a
    # tighter margin would call identical methods different.
    slerp_tolerance: float = 0.05
    # Not a pass/fail threshold: a transition verdict warns when more than 5% of a point's
    # outputs hit the token cap (they count wrong, so the cap can manufacture a jump).
    truncation_warning: float = 0.05

    def __post_init__(self) -> None:
        if not 0.5 < self.level < 1.0:
            raise ValueError(f"Thresholds.level must lie in (0.5, 1), got {self.level}")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name != "level" and not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
                raise ValueError(f"Thresholds.{f.name} must be a finite number >= 0, got {v!r}")
        if self.token_min_spearman > 1:
            raise ValueError(f"Thresholds.token_min_spearman is a correlation (<= 1), got "
                             f"{self.token_min_spearman}")

    def to_dict(self) -> dict:
        return asdict(self)


def jsonable(x):
    """numbers dict -> JSON-safe: numpy scalars to float, tuples to lists, NaN to None."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return None if math.isnan(v) or math.isinf(v) else v


@dataclass(frozen=True)
class Verdict:
    claim: str
    pair: str
    method: str
    benchmark: str
    status: str
    message: str
    numbers: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Verdict status must be one of {STATUSES}, got {self.status!r}")
        object.__setattr__(self, "numbers", jsonable(self.numbers))

    @property
    def id(self) -> str:
        return f"{self.claim}[{self.pair}-{self.method}-{self.benchmark}]"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Verdict":
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


def count_verdicts(verdicts) -> dict:
    """How many verdicts were made (holds or fails) and how many held: a suite testing
    many claims sees some false calls at 95%, so report the counts next to each other."""
    vs = list(verdicts)
    counts = {s: sum(v.status == s for v in vs) for s in STATUSES}
    counts["total"] = len(vs)
    counts["made"] = counts["holds"] + counts["fails"]
    return counts


def multiplicity_note(verdicts, level: float = 0.95) -> str:
    c = count_verdicts(verdicts)
    expected = (1 - level) * c["made"]
    return (f"{c['made']} of {c['total']} checks reached a verdict ({c['holds']} hold, "
            f"{c['fails']} fail, {c['inconclusive']} inconclusive); at the {level:.0%} level "
            f"about {expected:.1f} of the verdicts made may be wrong by chance alone.")
