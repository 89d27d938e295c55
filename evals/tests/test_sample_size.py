"""Verdicts that respect sample size: below Thresholds.min_problems / min_samples every claim
is inconclusive with its reason, no interval is shown for too few problems, a report and the
terminal say "smoke run", and an empty output is malformed, never a cheap correct answer."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from evals.analysis.summary import summarize_curve
from evals.analysis.synthetic import synthetic_curve
from evals.backends.base import Completion
from evals.benchmarks.base import Grade, Problem
from evals.benchmarks.registry import get_benchmark
from evals.claims.catalog import CLAIMS, ClaimCase, Thresholds, judge_case
from evals.claims.verdicts import SAMPLE_SIZE_REASONS, smoke_run_line
from evals.claims.verify import judge_and_report
from evals.runner import grade_completion

pytestmark = pytest.mark.fast

LAMS = [round(0.1 * i, 1) for i in range(11)]
STEP = [0.3 if x < 0.65 else 0.8 for x in LAMS]
TOKENS = [1000 + 9000 * x for x in LAMS]
METHOD = {"phase_transition": "linear", "smooth": "linear", "no_collapse": "linear", "pareto": "linear",
          "routing_gain": "linear", "sparse_degradation": "ties(density=0.2)", "linear_vs_slerp": "slerp"}
B = 100


def curves(n_problems: int, k: int = 1):
    return [synthetic_curve(m, LAMS, STEP, TOKENS, n_problems=n_problems, k=k)
            for m in dict.fromkeys(["linear", *METHOD.values()])]


def case(claim: str) -> ClaimCase:
    ref = "linear" if claim in ("sparse_degradation", "linear_vs_slerp") else None
    return ClaimCase(claim, "synthetic", METHOD[claim], "bench", ref)


def test_every_claim_states_its_reason():
    assert set(SAMPLE_SIZE_REASONS) == set(CLAIMS)
    th = Thresholds()
    assert (th.min_problems, th.min_samples) == (30, 30)


@pytest.mark.parametrize("claim", CLAIMS)
@pytest.mark.parametrize("n_problems", [2, 29])
def test_below_the_minimum_is_inconclusive_with_the_reason(claim, n_problems):
    v = judge_case(case(claim), curves(n_problems), n_boot=B)
    assert v.status == "inconclusive"
    assert f"smoke run: {n_problems} problems and {n_problems} samples per point" in v.message
    assert SAMPLE_SIZE_REASONS[claim] in v.message
    assert v.numbers["n_problems"] == n_problems and v.numbers["min_problems"] == 30
    assert "ci" not in json.dumps(v.numbers)  # no interval at all


@pytest.mark.parametrize("claim", CLAIMS)
def test_at_the_minimum_the_claim_is_judged(claim):
    v = judge_case(case(claim), curves(30), n_boot=B)
    assert "smoke run" not in v.message


def test_too_few_samples_alone_is_a_smoke_run():
    th = Thresholds(min_samples=31)  # 30 problems x 1 sample: problems suffice, samples do not
    v = judge_case(case("smooth"), curves(30), th, n_boot=B)
    assert v.status == "inconclusive" and "30 problems and 30 samples per point" in v.message
    assert judge_case(case("smooth"), curves(30, k=2), th, n_boot=B).message.count("smoke run") == 0


@pytest.mark.parametrize("n_problems,smoke", [(2, True), (29, True), (30, False), (240, False)])
def test_smoke_run_line(n_problems, smoke):
    line = smoke_run_line(curves(n_problems), Thresholds())
    assert (line is not None) == smoke
    if smoke:
        assert line.startswith(f"smoke run: the smallest point has {n_problems} problems")


def test_no_interval_for_too_few_problems():
    c = curves(2)[0]
    free = summarize_curve(c, n_boot=B)
    assert any(r["accuracy_ci"][0] == r["accuracy_ci"][1] for r in free)  # what 2 problems give: degenerate
    guarded = summarize_curve(c, n_boot=B, min_problems=30)
    assert all(r["accuracy_ci"] == [None, None] and r["mean_tokens_ci"] is None for r in guarded)
    assert all(None not in r["accuracy_ci"] for r in summarize_curve(curves(30)[0], n_boot=B, min_problems=30))


@pytest.mark.parametrize("n_problems,smoke", [(2, True), (30, False)])
def test_report_header_says_smoke_run(tmp_path, n_problems, smoke):
    _, out, _ = judge_and_report(curves(n_problems)[:1], {"source": "test"}, report_dir=tmp_path, run_id="r",
                                 n_boot=B, plots=False)
    data = json.loads((out / "claims.json").read_text())
    md = (out / "claims.md").read_text()
    assert (data["smoke_run"] is not None) == smoke
    assert ("> **Warning:** Smoke run: the smallest point has 2 problems" in md.split("## Verdicts")[0]) == smoke
    assert ('id="smoke-warning">Smoke run:' in (out / "claims.html").read_text()) == smoke


PROBLEM = Problem("p1", "What is 1 + 1?", "2")
ALWAYS_RIGHT = replace(get_benchmark("aime24"), grade=lambda p, answer: Grade(True, answer))


@pytest.mark.parametrize("text,malformed,correct", [
    ("", True, False),
    ("   \n", True, False),
    ("adding</think>", True, False),        # a thought, then no answer at all
    ("adding</think>\n  ", True, False),
    ("adding</think>2", False, True),
])
def test_an_empty_answer_is_malformed_never_correct(text, malformed, correct):
    comp = Completion(text=text, token_ids=tuple(range(len(text))), finish_reason="stop")
    fields = grade_completion(ALWAYS_RIGHT, PROBLEM, comp, None)
    assert (fields["malformed"], fields["correct"]) == (malformed, correct)
    real = grade_completion(get_benchmark("aime24"), PROBLEM, comp, None)
    assert real["correct"] is False or text.endswith("2")
