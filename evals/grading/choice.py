"""Multiple-choice answers: fix one option order per question and read the chosen letter.

The option order is shuffled ONCE per question with a seed taken from a stable hash of
the question text (sha256, never Python's salted `hash()`), so it is identical across
runs, machines and every merge strength lam.

The letter is read from the answer text, strongest evidence first, last occurrence wins:
`\\boxed{C}` (also `\\boxed{\\text{C}}`, `\\boxed{(C)}`), then "answer is C" / "Answer: (C)" /
`"answer": "C"`, then a lone letter as the whole answer.
"""
from __future__ import annotations

import hashlib
import random
import re
from typing import Sequence

from evals.benchmarks.base import Grade, Problem

LETTERS = "ABCDEFGHIJ"


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


_STRONG = [
    r"\\boxed\{\s*(?:\\text(?:bf)?\{)?\s*\(?([A-J])\)?\s*\}?\s*\}",
]
_MEDIUM = [
    r"answer\s*(?:is|:)?\s*[:\-]?\s*\**\s*\(?((?-i:[A-J]))\)?(?![A-Za-z])",
    r"\"answer\"\s*:\s*\"\(?((?-i:[A-J]))\)?\"",
    r"(?:option|choice)\s+\(?((?-i:[A-J]))\)?(?![A-Za-z])",
]


def extract_choice(text: str, n_options: int = 4) -> str | None:
    """The chosen letter (within the first `n_options`), or None."""
    valid = LETTERS[:n_options]
    for patterns, flags in ((_STRONG, 0), (_MEDIUM, re.IGNORECASE)):
        found: list[tuple[int, str]] = []
        for pat in patterns:
            for m in re.finditer(pat, text, flags):
                letter = m.group(1).upper()
                if letter in valid:
                    found.append((m.start(), letter))
        if found:
            return max(found)[1]
    lone = re.fullmatch(r"\W*\(?([A-J])\)?\W*", text.strip())
    if lone and lone.group(1) in valid:
        return lone.group(1)
    return None


def grade_choice(problem: Problem, answer_text: str) -> Grade:
    n = len(problem.meta.get("options", ())) or 4
    letter = extract_choice(answer_text, n)
    return Grade(correct=letter is not None and letter == problem.gold, extracted=letter, malformed=letter is None)
