"""Math answers in the forms Qwen3 models really write, each checked against what
math-verify's semantics say (`verify(parse(gold), parse(pred))`, gold first): equal values
in any notation are correct, a different value or a partial set is wrong. Each answer ends
the way the models end: reasoning, then a bold or boxed final line, sometimes more text."""
import pytest

from evals.benchmarks.base import Problem
from evals.grading.math import grade_math

pytestmark = pytest.mark.fast

R = "We simplify step by step and check the edge cases.\n\n"  # reasoning before the final line

FORMS = [
    # fractions
    ("\\frac{1}{2}", R + "**Final Answer**\n\\[\n\\boxed{\\dfrac{1}{2}}\n\\]", True),
    ("\\frac{3}{4}", R + "$$\\boxed{\\tfrac34}$$", True),
    ("\\frac{3}{4}", R + "\\boxed{0.75}", True),
    ("\\frac{1}{2}", R + "\\boxed{1/2}", True),
    ("\\frac{1}{2}", R + "\\boxed{\\frac{2}{4}}", True),
    ("\\frac{1}{2}", R + "\\boxed{\\frac{1}{3}}", False),
    ("-\\frac{7}{3}", R + "\\boxed{-\\dfrac{7}{3}}", True),
    ("-\\frac{7}{3}", R + "\\boxed{\\dfrac{7}{3}}", False),
    # radicals
    ("\\frac{9\\sqrt{23}}{23}", R + "\\boxed{\\frac{9\\sqrt{23}}{23}}", True),
    ("\\frac{9\\sqrt{23}}{23}", R + "\\boxed{\\frac{9}{\\sqrt{23}}}", True),
    ("\\frac{9\\sqrt{23}}{23}", R + "\\boxed{\\frac{9\\sqrt{23}}{22}}", False),
    ("\\sqrt[3]{2}", R + "\\boxed{\\sqrt[3]{2}}", True),
    ("\\sqrt[3]{2}", R + "\\boxed{2^{1/3}}", True),
    ("\\sqrt[3]{2}", R + "\\boxed{\\sqrt{2}}", False),
    ("\\sqrt{2}", R + "\\boxed{\\sqrt2}", True),
    ("2\\sqrt{3}", R + "\\boxed{\\sqrt{12}}", True),
    ("\\frac{\\sqrt{3}}{2}", R + "\\boxed{\\frac{\\sqrt{3}}{2}}", True),  # nested braces
    ("\\frac{\\sqrt{3}}{2}", R + "\\boxed{\\frac{1}{2}\\sqrt{3}}", True),
    # two roots or a list
    ("3, 5", R + "\\boxed{3, 5}", True),
    ("3, 5", R + "\\boxed{5, 3}", True),
    ("3, 5", R + "\\boxed{\\{3,5\\}}", True),
    ("3, 5", R + "\\boxed{x=3 \\text{ or } x=5}", True),
    ("3, 5", R + "\\boxed{3}", False),
    ("3, 5", R + "\\boxed{3, 6}", False),
    # intervals
    ("(0, 1]", R + "\\boxed{(0,1]}", True),
    ("(0, 1]", R + "\\boxed{[0,1]}", False),
    ("[2, \\infty)", R + "\\boxed{[2,\\infty)}", True),
    ("[2, \\infty)", R + "\\boxed{(2,\\infty)}", False),
    # degrees, units and text around a number
    ("30", R + "\\boxed{30^\\circ}", True),
    ("30", R + "\\boxed{30^{\\circ}}", True),
    ("12", R + "\\boxed{12 \\text{ cm}}", True),
    ("12", R + "\\boxed{12\\text{ meters}}", True),
    ("33", R + "\\boxed{\\text{33}}", True),
    ("204", R + "**Answer:** $\\boxed{\\text{204 minutes}}$", True),
    ("10", R + "$\\boxed{10}$ dollars.", True),
    ("5", R + "\\boxed{\\$5}", True),
    ("5", R + "\\boxed{x = 5}", True),
    ("12", R + "\\boxed{13 \\text{ cm}}", False),
    # thousands separators and AIME padding
    ("1000", R + "\\boxed{1{,}000}", True),
    ("1000", R + "\\boxed{1,000}", True),
    ("1000", R + "\\boxed{1\\,000}", True),
    ("33", R + "\\boxed{033}", True),
    ("1000", R + "\\boxed{1{,}001}", False),
    # percent
    ("25", R + "\\boxed{25\\%}", True),
    ("0.25", R + "\\boxed{25\\%}", True),
    ("25", R + "\\boxed{26\\%}", False),
    # pi
    ("2\\pi", R + "\\boxed{2\\pi}", True),
    ("2\\pi", R + "\\boxed{\\pi \\cdot 2}", True),
    ("\\frac{\\pi}{4}", R + "\\boxed{\\dfrac{\\pi}{4}}", True),
    ("2\\pi", R + "\\boxed{\\pi}", False),
    # scientific notation
    ("1500", R + "\\boxed{1.5 \\times 10^{3}}", True),
    ("1500", R + "\\boxed{1.5e3}", True),
    ("1500", R + "\\boxed{1.5 \\times 10^{4}}", False),
    # HMMT-style expressions
    ("2^{25} \\cdot 26!", R + "\\boxed{26! \\cdot 2^{25}}", True),
    ("1-\\frac{2}{\\pi}", R + "\\boxed{1 - \\frac{2}{\\pi}}", True),
    ("x^2+1", R + "\\boxed{1+x^2}", True),
    # a boxed answer followed by more text; several boxes (the last one counts)
    ("204", R + "\\boxed{204}. This is the final answer; we double-check by substitution.", True),
    ("204", R + "Thus $\\boxed{204}$\n\nVerification: 200 + 4 = 204, consistent with the count of 12 cases.", True),
    ("12", R + "first \\boxed{7}; on reflection the count doubles, so \\boxed{12}", True),
    ("12", R + "\\boxed{12}\n\nWait, we double-counted the symmetric case: \\boxed{13}", False),
    # answers without a box
    ("204", R + "So the answer is 204.", True),
    ("204", R + "The answer is $204$.", True),
    ("204", R + "The final answer is 204", True),
    ("70", R + "**Answer:** 70", True),
    ("204", R + "**Final answer: 204.** We checked it with 3 independent counts.", True),
    ("204", R + "the answer is 205.", False),
    ("33", "I could not finish the computation.", False),
]


def test_table_size():
    assert len(FORMS) >= 60


@pytest.mark.parametrize("gold, answer, correct", FORMS)
def test_math_answer_form(gold, answer, correct):
    assert grade_math(Problem(id="p", prompt="", gold=gold), answer).correct is correct
