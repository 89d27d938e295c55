"""Claims in lam units: the phase transition's width limit and the smooth claim's steps are
measured against the fixed 0.1 reference step, so a denser or irregular grid of the same
curve reaches the same verdict (and a wide step cannot fail the smooth claim on its own)."""
from __future__ import annotations

import math

import pytest

from evals.analysis.synthetic import synthetic_curve
from evals.claims.catalog import Thresholds, judge_phase_transition, judge_smooth

pytestmark = pytest.mark.fast

B = 200
GRID = [round(0.1 * i, 1) for i in range(11)]
DENSE = sorted(set(GRID) | {round(0.4 + 0.01 * i, 2) for i in range(31)})  # 0.01 steps on 0.4-0.7


def logistic(lam, c, width, lo=0.2, hi=0.8):
    return lo + (hi - lo) / (1.0 + math.exp(-(lam - c) * 2.0 * math.log(9.0) / width))


def curve(lams, acc):
    return synthetic_curve("linear", lams, acc, [1000 + 9000 * x for x in lams], n_problems=400)


@pytest.mark.parametrize("lams", [GRID, DENSE], ids=["0.1 grid", "0.01 steps at 0.4-0.7"])
@pytest.mark.parametrize("width, status", [(0.08, "holds"), (0.4, "fails")])
def test_transition_width_limit_is_two_reference_steps_on_any_grid(lams, width, status):
    v = judge_phase_transition(curve(lams, [logistic(x, 0.55, width) for x in lams]), n_boot=B)
    assert v.status == status, v.message
    # 2 steps x 0.1 = 0.2 of lam, whatever the grid's median spacing (0.01 on the dense one)
    assert v.numbers["width_limit"] == pytest.approx(0.2) and "0.20 allowed (2 steps of 0.1)" in v.message


def test_reference_step_scales_the_limit():
    th = Thresholds(reference_step=0.05)
    assert th.abrupt_max_width == pytest.approx(0.1)
    with pytest.raises(ValueError, match="reference_step"):
        Thresholds(reference_step=0.0)


# a transition 0.1 -> 0.8 at lam 0.35, then a second rise of 12 pts (0.8 -> 0.92) after lam 0.6
SECOND = [0.1, 0.1, 0.1, 0.1, 0.8, 0.8, 0.8, 0.92, 0.92, 0.92, 0.92]


@pytest.mark.parametrize("drop, status", [((), "fails"), ((0.7,), "inconclusive"), ((0.7, 0.8), "inconclusive")],
                         ids=["0.6->0.7 step", "0.6->0.8 step", "0.6->0.9 step"])
def test_smooth_second_rise_fails_only_on_a_reference_step(drop, status):
    lams = [x for x in GRID if x not in drop]
    acc = [a for x, a in zip(GRID, SECOND) if x not in drop]
    v = judge_smooth(curve(lams, acc), n_boot=B)
    assert v.status == status, v.message
    if status == "fails":
        assert "beyond the 10 pts allowed" in v.message and v.numbers["jump_lams"] == [0.6, 0.7]
    else:  # +12 pts over a step wider than 0.1: not certified either way, the search splits it
        a = max(x for x in lams if x <= 0.6)
        b = min(x for x in lams if x > 0.6)
        assert v.numbers["uncertified_steps"] == [[a, b, pytest.approx(0.12, abs=0.03)]], v.numbers
        assert "wider than the 0.1 reference step" in v.message and "no step of at most 0.1" in v.message


def test_smooth_small_change_over_a_wide_step_passes():
    lams = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 0.9, 1.0]  # 0.5 -> 0.8 is wide but flat
    acc = [0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.72, 0.72, 0.72]
    v = judge_smooth(curve(lams, acc), n_boot=B)
    assert v.status == "holds" and v.numbers["uncertified_steps"] == [], v.message
