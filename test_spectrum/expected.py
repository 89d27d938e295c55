"""Known findings: claim cases measured NOT to hold on a configuration, with the reason.

A case listed here runs as `xfail(strict=True)`: it must still fail (a verdict that
starts holding turns the run red, so this list cannot go stale silently), and its
reason is printed with the result. Entries record measurements, never thresholds moved
to make a claim pass. Keys: (claim, pair, method, benchmark).
"""
from __future__ import annotations

# Measured with `pytest -m fast` on the shipped tiny pair (fixtures/tiny, greedy, 240
# problems, 11 strengths; report run 20261122-234639). Children moved 2.4% (direct) and
# 3.9% (think) of the base's norm; cos(tau_D, tau_T) = -0.25.
_T = "synthetic"
EXPECTED_FAILURES: dict[tuple[str, str, str, str], str] = {
    ("phase_transition", "tiny", "emr", _T):
        "EMR rises gradually: 10-90% width 0.26 [0.22, 0.32] around lam=0.69 against 0.20 "
        "allowed (the lam 0.7->0.8 step carries 41% of the change)",
    ("smooth", "tiny", "emr", _T):
        "EMR jumps +29.6 pts [+21.0, +38.2] at lam 0.7->0.8, a second step after the "
        "transition at 0.6->0.7",
    ("smooth", "tiny", "ties(density=0.2)", _T):
        "low-density TIES switches in two steps: +25.8 pts [+18.3, +33.3] at lam 0.6->0.7 "
        "after the first at 0.5->0.6",
    ("routing_gain", "tiny", "linear", _T):
        "the linear merge switches all difficulties to thinking together (lam 0.5->0.6) and "
        "then behaves exactly like the thinking parent: +0.0 pts over random routing at best",
    ("routing_gain", "tiny", "slerp", _T):
        "as linear (SLERP is within 0.1 pts of linear everywhere): +0.0 pts over random routing",
    ("routing_gain", "tiny", "dare", _T):
        "DARE p=0.2 tracks linear (hypervolume +0.002): +0.0 pts over random routing at best",
    ("sparse_degradation", "tiny", "dare", _T):
        "DARE at the paper's p=0.2 does not lose to linear on this pair: hypervolume 0.417 vs "
        "0.414 (+0.002 [-0.010, +0.015]); the children moved little (2-4% of the base norm)",
    ("sparse_degradation", "tiny", "ties(density=0.2)", _T):
        "low-density TIES loses mean accuracy (-3.5 pts [-5.6, -1.3]) but gains hypervolume "
        "(0.485 vs 0.414, +0.071 [+0.034, +0.102]): it reaches the thinking accuracy at fewer "
        "tokens, so by the accuracy/token front it does not degrade",
}


def expected_failure(case) -> str | None:
    return EXPECTED_FAILURES.get((case.claim, case.pair, case.method, case.benchmark))
