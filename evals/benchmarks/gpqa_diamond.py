"""GPQA-Diamond (198 four-choice science questions): hub `Idavidrein/gpqa`, config
`gpqa_diamond`, split train (gated: accept the terms on the hub, or pass a local file).

Local data: JSONL/parquet in any schema of `evals.benchmarks.gpqa_schemas` (the hub's
`Question / Correct Answer / Incorrect Answer 1-3`, the Qwen2.5-Math harness's
`{question, choices, answer: int}`, `{question, options, answer: letter}`, lowercase or
snake_case). A file that fixes the option order is used as it is; otherwise options are
shuffled once per question by the sha256 of its text, so every lam sees the same order.
Loading prints which schema was read; each problem carries it in `meta["schema"]`.

Prompts:
- chat_template: the question, a blank line, `A) ..` to `D) ..` one per line, a blank
  line and `CHOICE_INSTRUCTION`, as the user message.
- chatml_system (the paper's harness, prompt type "qwen25-no-cot"), byte for byte:
  `<|im_start|>system\\nPlease anwser the question and put your final answer within
  \\boxed{}.<|im_end|>\\n<|im_start|>user\\n{question}\\nAnswer Choices: (A) {opt A} (B) {opt B}
  (C) {opt C} (D) {opt D}<|im_end|>\\n<|im_start|>assistant\\n` in the file's option order.
Version history: 1 - first version; 2 - schemas of the harness and letter files, the
harness's question layout for chatml_system, the final-answer letter reader.
"""
from __future__ import annotations

import sys
from collections import Counter

from evals.benchmarks.base import Benchmark, Problem
from evals.benchmarks.gpqa_schemas import SCHEMAS, harness_question, read_row
from evals.benchmarks.loading import load_rows
from evals.benchmarks.registry import register
from evals.grading.choice import format_options, grade_choice, stable_seed

NAME = "gpqa_diamond"
CHOICE_INSTRUCTION = (
    "Please reason step by step, and put the letter of your final answer (A, B, C or D) within \\boxed{}."
)
ID_KEYS = ("Record ID", "record_id", "id", "idx", "Question", "question")


def load(path: str | None) -> list[Problem]:
    rows = load_rows(path, hub_id="Idavidrein/gpqa", config="gpqa_diamond", split="train", name=NAME,
                     fields_hint="Question, Correct Answer, Incorrect Answer 1-3 (or question, choices, answer)",
                     id_keys=ID_KEYS)
    problems = []
    for i, row in enumerate(rows):
        r = read_row(row, i, name=NAME)
        body = f"{r.question}\n\n{format_options(r.options)}"
        rid = next((row[k] for k in ID_KEYS[:4] if row.get(k) is not None), None)
        pid = str(rid) if rid is not None else f"q{stable_seed(r.question):016x}"
        problems.append(Problem(id=pid, prompt=f"{body}\n\n{CHOICE_INSTRUCTION}", gold=r.gold,
                                meta={"question": harness_question(r.question, r.options), "options": r.options,
                                      "schema": r.schema}))
    counts = Counter(p.meta["schema"] for p in problems)
    for schema, n in counts.items():
        print(f"{NAME}: read {n} questions in schema {schema!r} ({SCHEMAS[schema]})", file=sys.stderr)
    return problems


BENCHMARK = register(Benchmark(
    name=NAME, version="2", kind="multiple_choice", hub_id="Idavidrein/gpqa", load=load, grade=grade_choice,
    default_samples=2, description="GPQA-Diamond, 198 questions, fixed option order; paper used 2 samples",
))
