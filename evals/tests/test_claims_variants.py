"""Comparison claims pair a curve with the linear curve of the SAME variant (schedule and
paper_compat tags), never another's; parents are never stood in for by a scheduled curve."""
from __future__ import annotations

import pytest

from evals.analysis.synthetic import synthetic_curve
from evals.analysis.table import curves_from_table
from evals.claims.catalog import ClaimCase, judge_all, judge_case, plan_claims

pytestmark = pytest.mark.fast

S = "sched:3f2a9c1b7d0e"
LAMS = [round(0.1 * i, 1) for i in range(11)]
STEP = [0.3 if x < 0.65 else 0.8 for x in LAMS]
UP = [1000 + 9000 * x for x in LAMS]


def test_each_comparison_case_names_the_linear_of_its_own_variant():
    methods = ["linear", "linear[paper]", "dare", f"dare(p=0.9)[{S}]", "ties(density=0.2)[paper]",
               "slerp[paper]", f"slerp[{S}]", f"ties(density=0.2)[{S},paper]"]
    cases = plan_claims(["p"], methods, ["b"], claims=["sparse_degradation", "linear_vs_slerp"])
    assert {(c.method, c.reference) for c in cases} == {
        ("dare", "linear"), (f"dare(p=0.9)[{S}]", None), ("ties(density=0.2)[paper]", "linear[paper]"),
        (f"ties(density=0.2)[{S},paper]", None), ("slerp[paper]", "linear[paper]"), (f"slerp[{S}]", None)}


def test_scheduled_sparse_curve_is_not_compared_with_another_variants_linear():
    linear_paper = synthetic_curve("linear[paper]", LAMS, STEP, UP)
    sparse = synthetic_curve(f"ties(density=0.2)[{S}]", LAMS, [0.3 if x < 0.65 else 0.5 for x in LAMS], UP)
    (v,) = [v for v in judge_all([linear_paper, sparse], n_boot=100, claims=["sparse_degradation"])]
    assert v.status == "inconclusive" and "of the same variant" in v.message and "reference" not in v.numbers


@pytest.mark.parametrize("claim, method", [("sparse_degradation", "dare(p=0.9)[paper]"),
                                           ("linear_vs_slerp", "slerp[paper]")])
def test_the_same_variants_linear_is_the_reference(claim, method):
    # plain linear equals the method; linear[paper] is far worse: the verdict must read the latter
    curves = [synthetic_curve("linear", LAMS, STEP, UP), synthetic_curve(method, LAMS, STEP, UP),
              synthetic_curve("linear[paper]", LAMS, [0.3 if x < 0.65 else 0.4 for x in LAMS], UP)]
    (case,) = plan_claims(["synthetic"], [c.method for c in curves], ["bench"], claims=[claim])
    v = judge_case(case, curves, n_boot=100)
    assert v.numbers["reference"] == "linear[paper]"
    assert v.status == "fails", v.message  # no loss to, resp. far from, the same variant's linear


def test_a_scheduled_curves_lam_one_never_stands_in_for_the_thinking_parent(tmp_path):
    rows = ["method,lam,benchmark,accuracy,mean_tokens,n"]
    for method, acc in ((f"linear[{S}]", (0.3, 0.5, 0.6)), ("ties[paper]", (0.3, 0.55, 0.7))):
        rows += [f"{method},{x},b,{a},{1000 + 1000 * x},30" for x, a in zip((0.0, 0.5, 1.0), acc)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    by = {c.method: c for c in curves_from_table(path)}
    # no plain linear: each curve's own endpoints stand in, except a schedule's lam 1 (not thinking)
    assert by[f"linear[{S}]"].direct.accuracy == 0.3 and by[f"linear[{S}]"].think is None
    assert by["ties[paper]"].think.accuracy == 0.7 and by["ties[paper]"].parents_inferred


def test_missing_reference_says_why():
    v = judge_case(ClaimCase("linear_vs_slerp", "synthetic", f"slerp[{S}]", "bench", None),
                   [synthetic_curve(f"slerp[{S}]", LAMS, STEP, UP)], n_boot=100)
    assert v.status == "inconclusive" and "no linear curve on synthetic/bench of the same variant" in v.message
