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
    # Widths and steps are stated in lam units against one fixed reference step, the paper's
    # 0.1 grid, so a verdict does not depend on how densely or irregularly a sweep sampled
    # lam (a grid's own spacing would make a denser grid demand a narrower transition).
    reference_step: float = 0.1
    # Phase transition: "abrupt" = fitted 10-90% width at most this many reference steps
    # (2 x 0.1 = 0.2 of lam). The paper's jump sits inside one 0.1 step; two steps still
    # reads as a switch, three (0.3 of the whole spectrum) as a gradual blend.
    abrupt_max_width_steps: float = 2.0
    # ... and the logistic must beat a straight line by this much AICc (2 = the usual
    # "substantial support" boundary; AICc because 11 points is a small sample).
    transition_min_delta_aicc: float = 2.0
    # Smooth: outside the transition no neighbouring step may change accuracy by more
    # than 10 points (a third of the 0 -> 1 change on AIME-type tasks) beyond noise. A step
    # wider than the reference step that changes more cannot be certified from its end
    # points either way (the change may be spread or sit in one 0.1 stretch): unsure.
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
    # Sample size: below these a claim is inconclusive ("smoke run"), whatever its numbers.
    # Every verdict reads a bootstrap over problems; simulated 95% percentile intervals of a
    # mean accuracy of 10% (AIME-type tasks on small models, or a malformed rate) cover the
    # truth 67% of the time with 10 problems, 88% with 20, 96% with 30, and are zero-width
    # (e.g. [-15, -15] pts) in 33%, 12% and 3% of draws. 30 is also one AIME/HMMT year.
    min_problems: int = 30
    # ... and at least this many graded samples behind every point (an outside table's n).
    min_samples: int = 30

    def __post_init__(self) -> None:
        if not 0.5 < self.level < 1.0:
            raise ValueError(f"Thresholds.level must lie in (0.5, 1), got {self.level}")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name != "level" and not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
                raise ValueError(f"Thresholds.{f.name} must be a finite number >= 0, got {v!r}")
        if not self.reference_step > 0:
            raise ValueError(f"Thresholds.reference_step is a lam spacing (> 0), got {self.reference_step}")
        if self.token_min_spearman > 1:
            raise ValueError(f"Thresholds.token_min_spearman is a correlation (<= 1), got "
                             f"{self.token_min_spearman}")

    @property
    def abrupt_max_width(self) -> float:
        """The phase transition's largest 10-90% width, in lam (0.2 by default)."""
        return self.abrupt_max_width_steps * self.reference_step

    def to_dict(self) -> dict:
        return asdict(self)


# Why each claim needs min_problems problems (and min_samples samples) per point.
SAMPLE_SIZE_REASONS = {
    "phase_transition": "the logistic's centre and width are fitted to per-lam accuracies whose "
                        "bootstrap intervals are unreliable and often zero-width below that",
    "smooth": "a step's jump is compared with its bootstrap interval, which is unreliable below that",
    "no_collapse": "a malformed rate's bootstrap interval is unreliable (often zero-width) below that",
    "pareto": "beating a parent on both axes is read from bootstrap intervals, unreliable below that",
    "routing_gain": "the gain over random routing is a per-problem difference, unreliable below that",
    "sparse_degradation": "the paired sparse - linear difference's interval is unreliable below that",
    "linear_vs_slerp": "the paired linear - SLERP difference's interval is unreliable below that",
}


def sample_size_shortfall(claim: str, points, th: Thresholds) -> str | None:
    """Why `points` (those a verdict reads) are too few for `claim`, or None when enough."""
    points = [p for p in points if p is not None]
    if not points:
        return None
    problems = min(p.n for p in points)
    samples = min(p.n_samples for p in points)
    if problems >= th.min_problems and samples >= th.min_samples:
        return None
    return (f"smoke run: {problems} problems and {samples} samples per point, below the minimum "
            f"{th.min_problems} problems and {th.min_samples} samples: {SAMPLE_SIZE_REASONS[claim]}.")


def smoke_run_line(curves, th: Thresholds) -> str | None:
    """The report header's and terminal summary's line when any point has fewer problems or
    samples than the minimum (None when every point has enough)."""
    pts = [p for c in curves for p in (*c.points, c.direct, c.think) if p is not None]
    if not pts or all(p.n >= th.min_problems and p.n_samples >= th.min_samples for p in pts):
        return None
    return (f"smoke run: the smallest point has {min(p.n for p in pts)} problems and "
            f"{min(p.n_samples for p in pts)} samples, below the {th.min_problems} problems and "
            f"{th.min_samples} samples a verdict needs; its claims are inconclusive.")


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
