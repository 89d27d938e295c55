"""Multiple-choice answers: fix one option order per question and read the chosen letter.

The option order is shuffled ONCE per question with a seed taken from a stable hash of
the question text (sha256, never Python's salted `hash()`), so it is identical across
runs, machines and every merge strength lam.

The letter is read by `evals.grading.choice_reader`: the last final statement or box wins,
letters named while weighing options never count.
"""
from __future__ import annotations

import hashlib
import random
from typing import Sequence

from evals.benchmarks.base import Grade, Problem
from evals.grading.choice_reader import LETTERS, answer_like, read_choice


def stable_seed(text: str) -> int:
    """A 64-bit seed from the text's sha256: identical in every process and at every lam."""
    return int.from_bytes(hashlib.sha256(text.strip().encode("utf-8")).digest()[:8], "big")


def shuffle_options(question: str, correct: str, incorrect: Sequence[str]) -> tuple[list[str], str]:
    """Return (options in display order, letter of the correct one)."""
    options = [correct, *incorrect]
    order = list(range(len(options)))
    random.Random(stable_seed(question)).shuffle(order)
    shown = [options[i] for i in order]
    return shown, LETTERS[order.index(0)]


def format_options(options: Sequence[str]) -> str:
    return "\n".join(f"{LETTERS[i]}) {opt}" for i, opt in enumerate(options))


def extract_choice(text: str, n_options: int = 4, options: Sequence[str] | None = None) -> str | None:
    """The chosen letter (within the first `n_options`), or None (see `evals.grading.choice_reader`)."""
    return read_choice(text, n_options, options)


def grade_choice(problem: Problem, answer_text: str) -> Grade:
    """Correct when the read letter is the gold one; malformed only when nothing in the text
    looks like an answer at all (a readable but unmatched answer is simply wrong)."""
    options = list(problem.meta.get("options", ()))
    letter = extract_choice(answer_text, len(options) or 4, options or None)
    malformed = letter is None and not answer_like(answer_text)
    return Grade(correct=letter is not None and letter == problem.gold, extracted=letter, malformed=malformed)
