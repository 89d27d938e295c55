"""The synthetic benchmark of the tiny pair: held-out chains of k operations mod 10.

Data: `fixtures/tiny/bench.jsonl` (one JSON object a line: id, prompt, gold, difficulty),
written by `python -m fixtures.build`; its problems never occur in training (see
fixtures/task.py). Prompt: the chain itself as the user message, e.g. `a7b+3c*7d+1`; the
chat template of the tiny pair opens `<think>`. Grading: the answer part (text after the
last `</think>`) must be exactly one digit; it is correct when it equals the gold digit,
malformed when it is not a single digit.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from evals.benchmarks.base import Benchmark, Grade, Problem
from evals.benchmarks.registry import register
from fixtures.task import extract_answer

_FIELDS = ("id", "prompt", "gold", "difficulty")


def default_path() -> Path:
    """The shipped benchmark file inside the installed `fixtures` package."""
    return Path(str(resources.files("fixtures") / "tiny" / "bench.jsonl"))


def load(path: str | None = None) -> list[Problem]:
    """Problems from `path` (a bench.jsonl, or a directory holding one); None = the shipped file."""
    p = default_path() if path is None else Path(path)
    if p.is_dir():
        p = p / "bench.jsonl"
    if not p.is_file():
        raise ValueError(
            f"synthetic benchmark file {p} not found; rebuild it with `python -m fixtures.build`"
        )
    problems = []
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise ValueError(f"{p}:{n}: missing field(s) {missing}; expected {list(_FIELDS)}")
        problems.append(
            Problem(
                id=str(row["id"]),
                prompt=row["prompt"],
                gold=str(row["gold"]),
                meta={"difficulty": int(row["difficulty"])},
            )
        )
    return problems


def grade(problem: Problem, answer_text: str) -> Grade:
    got = extract_answer(answer_text)
    return Grade(correct=got is not None and got == problem.gold, extracted=got, malformed=got is None)


SYNTHETIC = register(
    Benchmark(
        name="synthetic",
        version="1",
        kind="synthetic",
        hub_id=None,
        load=load,
        grade=grade,
        description="Tiny-pair task: a left-to-right chain of k = 2..7 operations mod 10; "
        "difficulty in Problem.meta['difficulty'].",
    )
)
