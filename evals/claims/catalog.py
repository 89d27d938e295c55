"""The paper's claims as data: which claim applies where, its thresholds, and its verdict.

One place to read:
  * `Thresholds` (evals/claims/verdicts.py): every number a verdict depends on, with
    documented defaults; fixed before a run.
  * `CLAIMS`: the claim names, in report order, and what each applies to:
      per curve (every method):   phase_transition, smooth, no_collapse, pareto,
                                  routing_gain (beyond the paper)
      sparse methods vs linear:   sparse_degradation (method_family(label) == 'sparse')
      each slerp curve vs linear: linear_vs_slerp
    (the linear curve of the same variant: same schedule and paper_compat tags, else none)
  * `plan_claims(pairs, methods, benchmarks)`: the (claim, pair, method, benchmark) cases,
    from labels alone -- so a test suite can parametrize before any result exists.
  * `judge_case(case, curves)` / `judge_all(curves)`: the Verdicts (`judge_groups`: per
    (pair, benchmark) group, on several processes if asked).
A case whose curve has no results is "inconclusive" with that reason; so is one whose points
hold fewer than `Thresholds.min_problems` problems or `min_samples` samples (a smoke run).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from tqdm import tqdm

from evals.analysis.points import Curve
from evals.analysis.workers import ordered_map
from evals.method_labels import method_base, method_family, method_variant, variant_label
from evals.claims.judges_compare import judge_linear_vs_slerp, judge_sparse_degradation
from evals.claims.judges_curve import (TITLES, judge_no_collapse, judge_pareto,
                                       judge_phase_transition, judge_routing_gain, judge_smooth)
from evals.claims.verdicts import (STATUSES, Thresholds, Verdict, count_verdicts, multiplicity_note,
                                   sample_size_shortfall)

__all__ = [
    "CLAIMS", "CURVE_CLAIMS", "TITLES", "STATUSES", "ClaimCase", "Thresholds", "Verdict",
    "plan_claims", "judge_case", "judge_all", "judge_groups", "sort_verdicts", "count_verdicts", "multiplicity_note",
    "judge_phase_transition", "judge_smooth", "judge_no_collapse", "judge_pareto",
    "judge_routing_gain", "judge_sparse_degradation", "judge_linear_vs_slerp",
]

CURVE_CLAIMS = {
    "phase_transition": judge_phase_transition,
    "smooth": judge_smooth,
    "no_collapse": judge_no_collapse,
    "pareto": judge_pareto,
    "routing_gain": judge_routing_gain,
}
CLAIMS = tuple(CURVE_CLAIMS) + ("sparse_degradation", "linear_vs_slerp")


@dataclass(frozen=True)
class ClaimCase:
    claim: str
    pair: str
    method: str
    benchmark: str
    reference: str | None = None  # the linear label a comparison claim is judged against

    @property
    def id(self) -> str:
        return f"{self.claim}[{self.pair}-{self.method}-{self.benchmark}]"


def _variant(label: str):
    """What a label's tags say the merge does beyond its method: (schedule, paper_compat); a
    label with tags this project does not write (an outside table's) is a variant of its own."""
    try:
        v = method_variant(label)
    except ValueError:
        return label
    return v.schedule, v.paper_compat


def _linear_label(methods: Sequence[str], label: str) -> str | None:
    """The dense average a comparison claim judges `label` against: the linear curve of the SAME
    variant (same schedule and paper_compat tags; `linear[sched:X]` for `ties[sched:X]`), never
    another variant's. None when the methods hold no such curve (the case is then inconclusive)."""
    want = _variant(label)
    linears = [m for m in methods if method_base(m) == "linear" and _variant(m) == want]
    same = variant_label("linear", *want) if isinstance(want, tuple) else None
    return same if same in linears else (sorted(linears)[0] if linears else None)


def plan_claims(pairs: Iterable[str], methods: Iterable[str], benchmarks: Iterable[str],
                claims: Iterable[str] | None = None) -> list[ClaimCase]:
    """Every case that applies, in report order (claim, pair, benchmark, method)."""
    wanted = tuple(claims) if claims is not None else CLAIMS
    unknown = [c for c in wanted if c not in CLAIMS]
    if unknown:
        raise ValueError(f"unknown claim(s) {unknown}; choose from {list(CLAIMS)}")
    methods = list(dict.fromkeys(methods))
    cases = []
    for claim in wanted:
        for pair in dict.fromkeys(pairs):
            for bench in dict.fromkeys(benchmarks):
                for m in methods:
                    if claim in CURVE_CLAIMS:
                        cases.append(ClaimCase(claim, pair, m, bench))
                    elif claim == "sparse_degradation" and method_family(m) == "sparse":
                        cases.append(ClaimCase(claim, pair, m, bench, _linear_label(methods, m)))
                    elif claim == "linear_vs_slerp" and method_base(m) == "slerp":
                        cases.append(ClaimCase(claim, pair, m, bench, _linear_label(methods, m)))
    return cases


def judge_case(case: ClaimCase, curves: Sequence[Curve], thresholds: Thresholds | None = None, *,
               movement: Mapping[str, Mapping[str, float]] | None = None, n_boot: int = 1000,
               seed: int = 0) -> Verdict:
    """The verdict of one case. `movement` maps a pair to numbers on how far its children
    moved from the base (e.g. {'direct_rel': 0.03, 'think_rel': 0.05, 'cos': 0.2}),
    reported with sparse_degradation."""
    th = thresholds or Thresholds()
    by_key = {(c.pair, c.method, c.benchmark): c for c in curves}
    curve = by_key.get((case.pair, case.method, case.benchmark))
    if curve is None:
        return Verdict(case.claim, case.pair, case.method, case.benchmark, "inconclusive",
                       f"{TITLES[case.claim]}: no results for {case.method} on {case.pair}/"
                       f"{case.benchmark}, so nothing could be judged.")
    ref = by_key.get((case.pair, case.reference, case.benchmark)) if case.reference else None
    read = [*curve.series(), curve.direct, curve.think] + ([*ref.series()] if ref is not None else [])
    short = sample_size_shortfall(case.claim, read, th)
    if short is not None:
        return Verdict(case.claim, case.pair, case.method, case.benchmark, "inconclusive",
                       f"{TITLES[case.claim]}: {short}",
                       {"n_problems": min(p.n for p in read if p is not None), "min_problems": th.min_problems,
                        "min_samples": th.min_samples})
    kw = {"n_boot": n_boot, "seed": seed}
    if case.claim in CURVE_CLAIMS:
        return CURVE_CLAIMS[case.claim](curve, th, **kw)
    if case.claim == "sparse_degradation":
        return judge_sparse_degradation(curve, ref, th, movement=(movement or {}).get(case.pair), **kw)
    return judge_linear_vs_slerp(ref, curve, th, **kw)


def judge_groups(curves: Sequence[Curve], thresholds: Thresholds | None = None, *,
                 claims: Iterable[str] | None = None,
                 movement: Mapping[str, Mapping[str, float]] | None = None, n_boot: int = 1000,
                 seed: int = 0, progress: bool | None = None, workers: int = 1,
                 after: Callable[[list[Curve]], object] | None = None
                 ) -> list[tuple[list[Curve], list[Verdict], object]]:
    """(curves, verdicts, after(curves) or None) per (pair, benchmark) group, in first-seen
    order. A case only ever compares curves of its own group, so no look-up runs over every
    curve, and groups are judged on `workers` processes (evals.analysis.workers: the same
    verdicts whichever process judges a group). `after` runs right after a group is judged,
    in the same process, while that group's cached bootstrap draws are still at hand (the
    report's per-curve tables reuse them). A progress bar on a terminal (`progress`: None
    = when stderr is a terminal)."""
    groups: dict[tuple[str, str], list[Curve]] = {}
    for c in curves:
        groups.setdefault((c.pair, c.benchmark), []).append(c)

    def judge_group(item):
        (pair, bench), group = item
        vs = [judge_case(case, group, thresholds, movement=movement, n_boot=n_boot, seed=seed)
              for case in plan_claims([pair], [c.method for c in group], [bench], claims)]
        return vs, (after(group) if after is not None else None)

    done = ordered_map(judge_group, groups.items(), workers)
    bar = tqdm(done, desc="judging", unit="pair/benchmark", total=len(groups),
               disable=None if progress is None else not progress)
    return [(group, vs, extra) for group, (vs, extra) in zip(groups.values(), bar)]


def judge_all(curves: Sequence[Curve], thresholds: Thresholds | None = None, *,
              claims: Iterable[str] | None = None,
              movement: Mapping[str, Mapping[str, float]] | None = None, n_boot: int = 1000,
              seed: int = 0, progress: bool | None = None, workers: int = 1) -> list[Verdict]:
    """Verdicts for every claim that applies to these curves (see plan_claims), judged one
    (pair, benchmark) group at a time (judge_groups). Sorted by claim, pair, benchmark."""
    verdicts = [v for _, vs, _ in judge_groups(curves, thresholds, claims=claims, movement=movement,
                                               n_boot=n_boot, seed=seed, progress=progress,
                                               workers=workers) for v in vs]
    return sort_verdicts(verdicts)


def sort_verdicts(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """By claim (report order), pair, benchmark; stable, so methods keep their order."""
    order = {c: i for i, c in enumerate(CLAIMS)}
    return sorted(verdicts, key=lambda v: (order[v.claim], v.pair, v.benchmark))
