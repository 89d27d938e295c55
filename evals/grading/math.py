"""Math answers graded by math-verify: `verify(gold, pred)`, gold first.

The prediction is the LAST `\\boxed{...}` of the answer text (nested braces balanced) when
there is one (a decimal in e-notation inside it, `1.5e3`, is read as `1.5\\times10^{3}`);
otherwise the last statement "the answer is X" / "Answer: X" (markdown and `$` removed),
and failing that math-verify's own extraction over the whole answer (last LaTeX or plain
expression). Several boxed answers are not treated as a set: the last
one is the answer, as a reader would take it.

math-verify times its parsing with `signal.alarm`, which works only in the main thread:
grade in the main thread (the runner does) or in a process pool, never in threads.
"""
from __future__ import annotations

import re
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


_E_NOTATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[eE]\s*([+-]?\d+)\s*$")
_STATEMENT = re.compile(r"\banswer\s*(?:is\s*:?|:)\s*(.+?)(?:\.(?:\s|$)|\n|$)", re.IGNORECASE)


def boxed_latex(content: str) -> str:
    """The box content as math-verify reads it (e-notation as a power of ten, no thin
    spaces, a unit written inside the number's `\\text{}` moved out of it)."""
    content = re.sub(r"(?<=\d)\\,(?=\d{3}\b)", "", content)  # 1\,000: a thin space between digit groups
    # \text{204 minutes}: a number with its unit written inside one \text
    content = re.sub(r"^\s*\\text\{\s*(-?\d[\d.,]*)\s*([A-Za-z][A-Za-z ]*)\}\s*$", r"\1\\text{ \2}", content)
    m = _E_NOTATION.match(content)
    return f"{m.group(1)}\\times 10^{{{m.group(2)}}}" if m else content


def stated_answer(text: str) -> str | None:
    """What follows the last "answer is" / "Answer:" (markdown emphasis and `$` removed), or None."""
    found = list(_STATEMENT.finditer(text.replace("*", "")))
    if not found:
        return None
    value = found[-1].group(1).replace("$", "").strip().rstrip(".")
    return value or None


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
        pred = parse(f"$\\boxed{{{boxed_latex(boxed)}}}$", parsing_timeout=PARSE_TIMEOUT_S)
        extracted = boxed
    elif (stated := stated_answer(answer_text)) is not None and parse(f"${stated}$", parsing_timeout=PARSE_TIMEOUT_S):
        pred = parse(f"${stated}$", parsing_timeout=PARSE_TIMEOUT_S)
        extracted = stated
    else:
        pred = parse(answer_text, parsing_timeout=PARSE_TIMEOUT_S)
        extracted = str(pred[1]) if len(pred) > 1 else None
    if not pred:
        # no answer at all is malformed; a boxed answer math-verify cannot read is just wrong
        return Grade(correct=False, extracted=extracted, malformed=extracted is None)
    correct = bool(verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S))
    return Grade(correct=correct, extracted=extracted, malformed=False)
