"""Graders on hand-written cases: math-verify answers, GPQA letters, the </think> rule, truncation."""
import pytest

from evals.backends.base import Completion
from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.grading.choice import extract_choice
from evals.grading.math import extract_last_boxed, grade_math
from evals.runner import grade_completion

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("gold, answer, correct, extracted", [
    ("33", "so the answer is $\\boxed{33}$.", True, "33"),
    ("033", "\\boxed{33}", True, "33"),  # AIME zero padding
    ("33", "\\boxed{34}", False, "34"),
    ("\\frac{9\\sqrt{23}}{23}", "\\boxed{\\frac{9\\sqrt{23}}{23}}", True, "\\frac{9\\sqrt{23}}{23}"),  # nested braces
    ("\\frac{1}{2}", "\\boxed{\\dfrac{1}{2}}", True, "\\dfrac{1}{2}"),
    ("\\frac{1}{2}", "\\boxed{0.5}", True, "0.5"),
    ("2^{25} \\cdot 26!", "\\boxed{2^{25}\\cdot 26!}", True, "2^{25}\\cdot 26!"),  # HMMT-style
    ("1-\\frac{2}{\\pi}", "\\boxed{1 - \\frac{2}{\\pi}}", True, "1 - \\frac{2}{\\pi}"),
    ("1-\\frac{2}{\\pi}", "\\boxed{1+\\frac{2}{\\pi}}", False, "1+\\frac{2}{\\pi}"),
    ("12", "first \\boxed{7}, on reflection \\boxed{12}", True, "12"),  # the last box is the answer
    ("33", "I do not know.", False, None),  # no answer
])
def test_grade_math(gold, answer, correct, extracted):
    g = grade_math(Problem(id="p", prompt="", gold=gold), answer)
    assert (g.correct, g.extracted) == (correct, extracted)
    assert g.malformed == (extracted is None)


@pytest.mark.parametrize("text, content", [
    ("\\boxed{\\frac{a}{\\sqrt{b}}}", "\\frac{a}{\\sqrt{b}}"),
    ("x \\boxed{1} y \\fbox{2}", "2"),
    ("\\boxed{\\frac{1}{2", None),  # cut off mid-answer
    ("nothing", None),
])
def test_extract_last_boxed(text, content):
    assert extract_last_boxed(text) == content


@pytest.mark.parametrize("text, letter", [
    ("\\boxed{C}", "C"), ("\\boxed{\\text{D}}", "D"), ("The answer is (B).", "B"), ("Answer: A", "A"),
    ('{"answer": "C"}', "C"), ("D", "D"), ("The answer is a bit unclear", None),
    ("option A looks wrong; the answer is \\boxed{B}", "B"), ("\\boxed{E}", None), ("", None),
])
def test_extract_choice(text, letter):
    assert extract_choice(text) == letter


def _grade(text, finish="stop", *, ids=None, full=False, gold="33"):
    bench = get_benchmark("aime24")
    comp = Completion(text=text, token_ids=tuple(ids if ids is not None else range(len(text))), finish_reason=finish)
    return grade_completion(bench, Problem(id="p", prompt="", gold=gold), comp, None, grade_full_text=full)


def test_answer_only_inside_reasoning_is_wrong():
    text = "so it is \\boxed{33}</think>I am not sure."
    after = _grade(text)
    assert not after["correct"] and after["meta"]["thought"] and after["extracted"] is None
    assert _grade(text, full=True)["correct"]  # the paper's full-text grading would count it


def test_answer_after_think_is_graded():
    rec = _grade("hmm 34? no.</think>The answer is \\boxed{33}.")
    assert rec["correct"] and rec["extracted"] == "33"


def test_truncated_output_is_wrong_and_flagged():
    rec = _grade("thinking... maybe \\boxed{33} but let me", finish="length")
    assert rec["truncated"] and not rec["correct"] and not rec["malformed"]
    assert rec["reasoning_tokens"] == rec["generated_tokens"] and rec["answer_tokens"] == 0


def test_truncated_after_think_is_still_wrong():
    rec = _grade("ok</think>\\boxed{33}", finish="length")
    assert rec["truncated"] and not rec["correct"]


def test_token_split_uses_generated_ids(char_tok):
    text = "abc</think>\\boxed{33}"
    ids = char_tok.encode(text, add_special_tokens=False)
    bench = get_benchmark("aime24")
    rec = grade_completion(bench, Problem(id="p", prompt="", gold="33"),
                           Completion(text=text, token_ids=tuple(ids), finish_reason="stop"),
                           (char_tok.convert_tokens_to_ids("</think>"),))
    assert (rec["reasoning_tokens"], rec["answer_tokens"]) == (4, len("\\boxed{33}"))
    assert rec["correct"] and "split_mismatch" not in rec["meta"]
