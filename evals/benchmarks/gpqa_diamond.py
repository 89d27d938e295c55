"""GPQA-Diamond (198 four-choice science questions): hub `Idavidrein/gpqa`, config
`gpqa_diamond`, split train (gated: accept the terms on the hub, or pass a local file).

Local data: JSONL/parquet with the hub's fields `Question`, `Correct Answer`,
`Incorrect Answer 1..3` (lowercase `question`, `correct_answer`, `incorrect_answers`
[list] also accepted). Options are shuffled once per question with a seed from the
sha256 of the question (`evals.grading.choice`), so every lam sees the same order.
Version history: 1 - first version.
"""
from __future__ import annotations

from evals.benchmarks.base import Benchmark, Problem
from evals.benchmarks.loading import load_rows, pick
from evals.benchmarks.registry import register
from evals.grading.choice import format_options, grade_choice, shuffle_options, stable_seed

NAME = "gpqa_diamond"
CHOICE_INSTRUCTION = (
    "Please reason step by step, and put the letter of your final answer (A, B, C or D) within \\boxed{}."
)


def _incorrect(row: dict, i: int) -> list[str]:
    if "incorrect_answers" in row:
        wrong = list(row["incorrect_answers"])
    else:
        wrong = [pick(row, (f"Incorrect Answer {k}",), name=NAME, what=f"Incorrect Answer {k}", index=i) for k in (1, 2, 3)]
    if len(wrong) != 3:
        raise ValueError(f"benchmark {NAME!r}, row {i}: expected 3 incorrect answers, got {len(wrong)}")
    return [str(w).strip() for w in wrong]


def load(path: str | None) -> list[Problem]:
    rows = load_rows(path, hub_id="Idavidrein/gpqa", config="gpqa_diamond", split="train", name=NAME,
                     fields_hint="Question, Correct Answer, Incorrect Answer 1-3")
    problems = []
    for i, row in enumerate(rows):
        question = str(pick(row, ("Question", "question"), name=NAME, what="question", index=i)).strip()
        correct = str(pick(row, ("Correct Answer", "correct_answer"), name=NAME, what="correct answer", index=i)).strip()
        options, gold = shuffle_options(question, correct, _incorrect(row, i))
        body = f"{question}\n\n{format_options(options)}"
        pid = str(row.get("Record ID") or row.get("id") or f"q{stable_seed(question):016x}")
        problems.append(Problem(id=pid, prompt=f"{body}\n\n{CHOICE_INSTRUCTION}", gold=gold,
                                meta={"question": body, "options": options}))
    return problems


BENCHMARK = register(Benchmark(
    name=NAME, version="1", kind="multiple_choice", hub_id="Idavidrein/gpqa", load=load, grade=grade_choice,
    default_samples=2, description="GPQA-Diamond, 198 questions, fixed hashed option order; paper used 2 samples",
))
