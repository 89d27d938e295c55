"""Math answers graded by math-verify: `verify(gold, pred)`, gold first.

The prediction is the LAST `\\boxed{...}` of the answer text (nested braces balanced) when
there is one; otherwise math-verify's own extraction runs over the whole answer (last
LaTeX or plain expression). Several boxed answers are not treated as a set: the last
one is the answer, as a reader would take it.

math-verify times its parsing with `signal.alarm`, which works only in the main thread:
grade in the main thread (the runner does) or in a process pool, never in threads.
"""
from __future__ import annotations

import threading

from evals.benchmarks.base import Grade, Problem

PARSE_TIMEOUT_S = 5
VERIFY_TIMEOUT_S = 5


def extract_last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (or `\\fbox{...}`), braces balanced; None if absent
    or unclosed (a cut-off answer)."""
    best = None
    for cmd in ("\\boxed", "\\fbox"):
        idx = text.rfind(cmd + "{")
        if idx > (best[0] if best else -1):
            best = (idx, len(cmd) + 1)
    if best is None or best[0] < 0:
        return None
    start = best[0] + best[1]
    depth = 1
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start:i].strip()
    return None


def _check_thread() -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "math grading uses math-verify, whose timeouts rely on signal.alarm and only work in "
            "the main thread; grade in the main thread or a process pool (not a thread pool)"
        )


def parse_gold(gold: str):
    from math_verify import parse

    _check_thread()
    g = gold.strip()
    parsed = parse(g if g.startswith("$") else f"${g}$", parsing_timeout=PARSE_TIMEOUT_S)
    if not parsed:
        # plain text gold such as "3 and 5": let math-verify try it unwrapped
        parsed = parse(g, parsing_timeout=PARSE_TIMEOUT_S)
    return parsed


def grade_math(problem: Problem, answer_text: str) -> Grade:
    """Grade one answer (the text after the last `</think>`) against `problem.gold`."""
    from math_verify import parse, verify

    _check_thread()
    gold = parse_gold(problem.gold)
    if not gold:
        raise ValueError(
            f"problem {problem.id!r}: math-verify cannot parse the gold answer {problem.gold!r}; "
            "fix the answer field of the data file"
        )
    boxed = extract_last_boxed(answer_text)
    if boxed is not None:
        pred = parse(f"$\\boxed{{{boxed}}}$", parsing_timeout=PARSE_TIMEOUT_S)
        extracted = boxed
    else:
        pred = parse(answer_text, parsing_timeout=PARSE_TIMEOUT_S)
        extracted = str(pred[1]) if len(pred) > 1 else None
    if not pred:
        # no answer at all is malformed; a boxed answer math-verify cannot read is just wrong
        return Grade(correct=False, extracted=extracted, malformed=extracted is None)
    correct = bool(verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S))
    return Grade(correct=correct, extracted=extracted, malformed=False)
