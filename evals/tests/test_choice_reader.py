"""The multiple-choice reader on answer endings written the way Qwen3 reasoning models end
GPQA answers: a long weighing of the options (naming other letters), then a bold, boxed or
plain final statement. Each ending has the letter a careful reader takes from it."""
import pytest

from evals.benchmarks.base import Problem
from evals.grading.choice import grade_choice
from evals.grading.choice_reader import read_choice

pytestmark = pytest.mark.fast

OPTIONS = ("44%", "10^{-11} eV", "3", "c")  # A, B, C, D as displayed

# Reasoning the models write before the final answer; each names letters it does not choose.
PREFIXES = (
    "Okay, let's see. The energy difference must be resolvable, so Delta E > hbar / tau.\n"
    "Option (A) 44% is not even an energy. Option (C) 3 is off by 0.4 from the estimate.\n"
    "Hmm, maybe C? No, that confuses the lifetimes. Let me recompute: hbar/tau ~ 6.6e-16 eV s / 1e-8 s.\n\n",
    "We compare the choices.\n- (A) would need a 3:1 ratio, which the cross gives only for a dihybrid.\n"
    "- (D) c is the unit-free limit, which does not apply here.\n"
    "Between B and C, C fails the boundary condition at r = 0.\n\n",
    "Let me think step by step about the reaction.\nFirst, the Diels-Alder adduct... wait, is the answer B or C? "
    "The answer would be C if the diene were s-trans, but it is s-cis.\nSo A and D are out as well.\n\n",
    "",
)

ENDINGS = [
    # boxes holding the letter, with or without the option text
    ("\\boxed{B}", "B"), ("$\\boxed{C}$", "C"), ("**Final Answer**\n\\[\n\\boxed{D}\n\\]", "D"),
    ("\\boxed{\\text{(D) c}}", "D"), ("\\boxed{(C) 3}", "C"), ("\\boxed{B) 10^{-11} eV}", "B"),
    ("\\boxed{\\textbf{B}}", "B"), ("\\boxed{\\mathrm{B}}", "B"), ("\\boxed{B.}", "B"),
    ("\\boxed{(A)}", "A"), ("$$\\boxed{\\text{A}}$$", "A"), ("\\boxed{\\text{B}}.", "B"),
    ("\\boxed{\\text{(B) } 10^{-11}\\ \\text{eV}}", "B"), ("\\boxed{\\mathbf{(C)}}", "C"),
    ("\\boxed{\\textbf{(D) } c}", "D"), ("\\boxed{A. 44\\%}", "A"), ("\\boxed{\\text{Option B}}", "B"),
    ("The final answer is $\\boxed{\\text{C}}$.", "C"), ("**Answer:** $\\boxed{D}$", "D"),
    ("\\fbox{A}", "A"), ("\\boxed{ B }", "B"), ("\\boxed{\\text{D}}\n\nThis matches the data.", "D"),
    # a box holding only the option's value: mapped by normalised text or number
    ("\\boxed{44\\%}", "A"), ("\\boxed{10^{-11}\\,\\text{eV}}", "B"), ("\\boxed{3}", "C"),
    ("$\\boxed{3.0}$", "C"), ("\\boxed{44 \\%}", "A"), ("so the ratio is \\boxed{\\text{44\\%}}", "A"),
    # statements, plain, bold, italic, in math mode, with punctuation
    ("the correct choice is **(A) 44%**", "A"), ("Answer choice: **(A) 44%**", "A"),
    ("Final answer: B", "B"), ("The answer is (B).", "B"), ("**Answer: C**", "C"),
    ("I choose D.", "D"), ("Option B is correct.", "B"), ("**Final Answer: B**", "B"),
    ("*Answer: D*", "D"), ("The correct answer is $\\text{(C)}$.", "C"), ("Answer: $(A)$", "A"),
    ("Thus, the answer is **B) 10^{-11} eV**.", "B"), ("The correct option is **D**.", "D"),
    ("So the correct answer is (C) 3.", "C"), ("### Final Answer\n**(B) 10^{-11} eV**", "B"),
    ("Therefore, option **C** is the correct answer.", "C"), ("**The correct answer is A.**", "A"),
    ("The best choice is (D).", "D"), ("I'll go with B.", "B"), ("I will choose option A.", "A"),
    ("Final Answer: (D) c", "D"), ("Answer: **B**", "B"), ("**Answer: (C) 3**", "C"),
    ("The answer is: D", "D"), ("The right answer is B!", "B"), ("Correct choice: (A)", "A"),
    ("_Final answer: C_", "C"), ("**(D) is correct.**", "D"), ("The answer is therefore (A).", "A"),
    ('```json\n{"answer": "C"}\n```', "C"), ("**Answer**: D", "D"), ("Answer — B", "B"),
    ("The final answer is B.", "B"), ("So, the answer is clearly **(C)**.", "C"),
    ("I pick (B).", "B"), ("The correct answer choice is **B**.", "B"),
    # a final line holding only the letter (with or without option text)
    ("So it must be the second one.\n\n**B**", "B"), ("Therefore:\n\n(C)", "C"),
    ("Conclusion:\n\n**(A) 44%**", "A"), ("D", "D"),
    # several answers: the last one; a final box after a changed mind beats an earlier one
    ("\\boxed{C}\n\nWait, I mixed up the lifetimes. Redo: the resolvable difference is larger.\n\n\\boxed{B}", "B"),
    ("The answer is (C).\n\nHmm, actually no - C ignores the spin degeneracy. So the answer is (A).", "A"),
    ("Initially I thought \\boxed{A}, but recomputing gives 3.\n\n**Final Answer**\n\\boxed{\\text{(C) 3}}", "C"),
    ("**Answer: B**\n\nOption (C) 3 is off by 0.4, and (A) is not an energy.", "B"),
    ("The answer is B.\n\nNote that option D would be correct only in vacuum.", "B"),
    ("\\boxed{D}\n\nOption C is incorrect because the reaction is endothermic.", "D"),
    ("Answer: C\n\nWhy not A? Because 44% exceeds the Hardy-Weinberg bound.", "C"),
    ("First guess: the answer is A. Checking against the spectrum rules that out.\nFinal answer: D", "D"),
    ("Comparing (B) and (D): (B) is off by an order of magnitude.\n\nThe correct answer is **(D) c**.", "D"),
    ("\\boxed{A}\\boxed{B}", "B"), ("Options A and C fail; I choose B.", "B"),
    # the answer is not among the first four, or the letter stands in the option restatement
    ("Answer Choices: (A) 44% (B) 10^{-11} eV (C) 3 (D) c\n\nThe answer is (C).", "C"),
    ("Restating: A) 44% B) 10^{-11} eV C) 3 D) c.\n\n\\boxed{A}", "A"),
    ("The answer is (C) 3, since (A) is not an energy and (B) is too small.", "C"),
    ("**Answer: \\boxed{B}**", "B"), ("The answer is \\(\\boxed{C}\\).", "C"),
    ("**Final answer**: \\(\\textbf{(A)}\\)", "A"), ("Hence **Option (D)** is correct.", "D"),
    ("\\[\\boxed{\\text{B) } 10^{-11}\\text{ eV}}\\]", "B"), ("Answer: (B) $10^{-11}$ eV", "B"),
]

NO_ANSWER = [
    "Option (C) 3 is off by 0.4 from the estimate, and (A) is not an energy.",
    "Hmm, is it B or C? I need to recheck the lifetimes before deciding.",
    "\\boxed{E}",  # not one of the four letters
    "\\boxed{7}",  # a value matching no option
    "\\boxed{44\\%}\n\nNo wait, recompute.\n\n\\boxed{12\\%}",  # the last box names no option
    "The answer is not B.",
    "If the answer were C, the spectrum would show two peaks.",
    "Between A and D, neither fits the data.",
    "Let me compute: Delta E = hbar / tau = 6.6e-16 / 1e-8",  # cut off mid-reasoning
    "Option C is not correct, and option A is not correct either.",
    "",
    "   \n\n  ",
    "So the energy is about 1e-8 eV, which is",
    "Answer Choices: (A) 44% (B) 10^{-11} eV (C) 3 (D) c",
    "A) 44% B) 10^{-11} eV C) 3 D) c",
    "\\boxed{}",
    "Option D would be correct only in vacuum, and this is not a vacuum.",
    "The answer depends on the temperature.",
    "Which answer is right: (A) or (B)?",
    "\\boxed{x^2 + 1}",
    "We can rule out choice B since it violates energy conservation.",
]


def _cases():
    for i, (ending, letter) in enumerate(ENDINGS):
        yield pytest.param(PREFIXES[i % len(PREFIXES)] + ending, letter, id=f"ending{i}")


def test_table_sizes():
    assert len(ENDINGS) >= 80 and len(NO_ANSWER) >= 20


@pytest.mark.parametrize("text, letter", list(_cases()))
def test_final_answer_is_read(text, letter):
    assert read_choice(text, 4, OPTIONS) == letter


@pytest.mark.parametrize("text", NO_ANSWER)
def test_no_answer(text):
    assert read_choice(text, 4, OPTIONS) is None


@pytest.mark.parametrize("text, correct, malformed", [
    ("Long reasoning...\n\n**Answer: C**", True, False),
    ("Long reasoning...\n\n\\boxed{\\text{(B) } 10^{-11}\\text{ eV}}", False, False),
    ("Option (C) 3 is off by 0.4, so the estimate needs care.", False, False),  # answer-like, no letter: wrong
    ("The energy is about 1e-8 eV, which is", False, True),  # nothing answer-like: malformed
    ("", False, True),
])
def test_grade_choice_malformed_only_without_anything_answer_like(text, correct, malformed):
    g = grade_choice(Problem(id="q", prompt="", gold="C", meta={"options": list(OPTIONS)}), text)
    assert (g.correct, g.malformed) == (correct, malformed)
