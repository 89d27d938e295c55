"""Shared shape of the contest-math benchmarks (AIME24, AIME25, HMMT Feb 2025).

Each row needs a problem text and a final answer (integer for AIME, often LaTeX for
HMMT); the user message appends Qwen's recommended math instruction, and the bare
problem is kept in `meta["question"]` for the paper's raw ChatML prompt mode. Graded by
math-verify (`evals.grading.math`).

Schemas read (field names as on the hub): `HuggingFaceH4/aime_2024` (id, problem,
solution, answer, url, year), `math-ai/aime25` (problem, answer, id), `MathArena/*`
(problem_idx, problem, answer), `opencompass/AIME2025` (question, answer), and capitalised
`Problem / Answer` (`ID`). A row without a problem or an answer field is refused with one
line naming the fields looked for and the fields present.

Prompts: chat_template sends `{problem}\n{MATH_INSTRUCTION}` as the user message;
chatml_system (the paper's harness, prompt type "qwen25-no-cot") sends, byte for byte,
`<|im_start|>system\nPlease anwser the question and put your final answer within
\boxed{}.<|im_end|>\n<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n`
with the problem stripped (" (Yes or No)" / " (True or False)" appended for such golds),
checked literally in evals/tests/test_paper_prompts.py.

Version history of the benchmarks built here (each file states its version; a change to
one benchmark alone gets a line in its own file): 1 - first version; 2 - unboxed "the
answer is X" read, more hub schemas, the harness's question text for chatml_system.
"""
from __future__ import annotations

from functools import partial

from evals.benchmarks.base import Benchmark, Problem
from evals.benchmarks.loading import load_rows, pick
from evals.grading.math import grade_math

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
PROBLEM_KEYS = ("problem", "question", "Problem", "Question")
ANSWER_KEYS = ("answer", "Answer", "final_answer", "gt")
ID_KEYS = ("id", "problem_idx", "ID", "idx", "Problem ID")


def harness_question(question: str, answer: str) -> str:
    """The question as the Qwen2.5-Math harness renders it: stripped, with " (True or False)"
    or " (Yes or No)" appended when the gold answer is one of those words."""
    q = question.strip()
    if answer.strip().lower() in ("true", "false"):
        q += " (True or False)"
    if answer.strip().lower() in ("yes", "no"):
        q += " (Yes or No)"
    return q.strip()


def load_math(path: str | None, *, name: str, hub_id: str, split: str) -> list[Problem]:
    rows = load_rows(path, hub_id=hub_id, split=split, name=name, fields_hint="problem, answer (and optionally id)",
                     id_keys=ID_KEYS + PROBLEM_KEYS)
    problems = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        question = str(pick(row, PROBLEM_KEYS, name=name, what="problem", index=i)).strip()
        answer = str(pick(row, ANSWER_KEYS, name=name, what="answer", index=i)).strip()
        pid = next((str(row[k]) for k in ID_KEYS if row.get(k) is not None), str(i))
        if pid in seen:
            raise ValueError(f"benchmark {name!r}: problem id {pid!r} appears twice in the data; ids must be unique")
        seen.add(pid)
        problems.append(Problem(id=pid, prompt=f"{question}\n{MATH_INSTRUCTION}", gold=answer,
                                meta={"question": harness_question(question, answer)}))
    return problems


def make_math_benchmark(*, name: str, version: str, hub_id: str, split: str, description: str,
                        default_samples: int = 10) -> Benchmark:
    return Benchmark(
        name=name,
        version=version,
        kind="math",
        hub_id=hub_id,
        load=partial(load_math, name=name, hub_id=hub_id, split=split),
        grade=grade_math,
        default_samples=default_samples,
        description=description,
    )
