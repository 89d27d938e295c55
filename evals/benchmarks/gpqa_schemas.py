"""The GPQA file layouts people have, read into (question, options in display order, gold letter).

Field names are compared case- and separator-insensitively (`Correct Answer`,
`correct_answer`, `correct-answer` are one field). Schemas, tried in this order:

- "harness": `{question, choices[4], answer: int index}` as the Qwen2.5-Math evaluation
  harness (the one the paper used) stores GPQA: the choices are already shuffled, so the
  file's order and gold index are kept;
- "letter": `{question, options, answer: letter}` (options a list, or a dict keyed by
  letter); the file's order is kept;
- "hub": `Idavidrein/gpqa`'s `Question / Correct Answer / Incorrect Answer 1-3` (or a list
  `incorrect_answers`): no order in the file, so the options are shuffled once per
  question by the sha256 of its text (`evals.grading.choice.shuffle_options`).

Anything else is refused with one line naming the fields found and the fields wanted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from evals.grading.choice import LETTERS, shuffle_options

SCHEMAS = {
    "harness": "question, choices (4, file order kept), answer (int index)",
    "letter": "question, options (file order kept), answer (letter)",
    "hub": "Question, Correct Answer, Incorrect Answer 1-3 (shuffled by question hash)",
}


@dataclass(frozen=True)
class GpqaRow:
    question: str
    options: list[str]
    gold: str  # letter of the correct option in `options`
    schema: str  # a key of SCHEMAS


def field_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


def _wanted() -> str:
    return "; or ".join(f"{{{v}}}" for v in SCHEMAS.values())


def read_row(row: dict, index: int, *, name: str = "gpqa_diamond") -> GpqaRow:
    f = {field_key(k): v for k, v in row.items() if v is not None}
    question = f.get("question")
    where = f"benchmark {name!r}, row {index}"
    if question is None:
        raise ValueError(f"{where}: no GPQA schema fits; fields found: {', '.join(row) or 'none'}; wanted {_wanted()}")
    question = str(question).strip()
    if "choices" in f and "answer" in f:
        choices, answer = [str(c).strip() for c in f["choices"]], f["answer"]
        if isinstance(answer, str) and answer.strip().isdigit():
            answer = int(answer.strip())
        if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(choices):
            raise ValueError(f"{where}: field answer must be an index 0..{len(choices) - 1} into choices, got {answer!r}")
        return GpqaRow(question, choices, LETTERS[answer], "harness")
    if "options" in f and "answer" in f:
        opts = f["options"]
        if isinstance(opts, dict):
            opts = [opts[k] for k in sorted(opts)]
        options = [str(o).strip() for o in opts]
        letter = str(f["answer"]).strip().strip("()").upper()
        if len(letter) != 1 or letter not in LETTERS[: len(options)]:
            raise ValueError(f"{where}: field answer must be a letter A-{LETTERS[len(options) - 1]}, got {f['answer']!r}")
        return GpqaRow(question, options, letter, "letter")
    if "correct_answer" in f:
        if "incorrect_answers" in f:
            wrong = list(f["incorrect_answers"])
        else:
            wrong = [f[k] for k in ("incorrect_answer_1", "incorrect_answer_2", "incorrect_answer_3") if k in f]
        if len(wrong) != 3:
            raise ValueError(f"{where}: expected 3 incorrect answers (Incorrect Answer 1-3), found {len(wrong)}")
        options, gold = shuffle_options(question, str(f["correct_answer"]).strip(), [str(w).strip() for w in wrong])
        return GpqaRow(question, options, gold, "hub")
    raise ValueError(f"{where}: no GPQA schema fits; fields found: {', '.join(row)}; wanted {_wanted()}")


def harness_question(question: str, options: list[str]) -> str:
    """The question as the Qwen2.5-Math harness renders GPQA: the question, a newline, then
    `Answer Choices: (A) .. (B) .. (C) .. (D) ..` in the given order (stripped)."""
    labelled = " ".join(f"({LETTERS[i]}) {opt.strip()}" for i, opt in enumerate(options))
    return f"{question.strip()}\nAnswer Choices: {labelled}".strip()
