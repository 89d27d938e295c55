"""Outside per-sample results -> SampleRecords, re-graded by our graders.

Each completion becomes one record of the results store: graded by the benchmark's own
grader (the same `grade_completion` as `spectrum eval`), with the outside grade kept
beside ours in `meta["outside_correct"]`, so `spectrum report` judges imported runs with
the paired bootstrap. Problem ids are the outside file's (`idx`, `doc_id`, doc id), so
files of one harness pair across strengths and methods.

Token counts come from the tokenizer the user names (the generated ids when the file has
them, else the completion text re-encoded without special tokens, recorded as
`meta["tokens_from"] = "re-encoded"`), never guessed. The finish reason is not in these
files: with `max_new_tokens` given, a completion of that many tokens is counted as cut
off at the cap ("length"), otherwise every completion is taken as stopped.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from evals.backends.base import Completion
from evals.benchmarks.base import Benchmark, Problem
from evals.grading.choice import LETTERS
from evals.grading.thinking import marker_token_ids
from evals.importing.formats import OutsideProblem
from evals.importing.mapping import Target
from evals.records import SampleRecord
from evals.runner import grade_completion

DEFAULT_PROMPT_MODE = {"harness": "chatml_system", "lm_eval": "chat_template", "lighteval": "chat_template"}


@dataclass(frozen=True)
class Disagreement:
    problem_id: str
    sample_index: int
    outside: float
    ours: bool
    extracted: str | None
    tail: str  # the end of the completion, where the answer is


def _gold_letter(op: OutsideProblem) -> str:
    g = op.gold.strip().strip("()").strip()
    if "gold_index" in op.extra:
        return LETTERS[op.extra["gold_index"]]
    if g.isdigit() and len(g) == 1 and op.options and int(g) < len(op.options) and g not in LETTERS:
        return LETTERS[int(g)]
    return g.upper()


def to_problem(op: OutsideProblem, benchmark: Benchmark) -> Problem:
    if benchmark.kind == "multiple_choice":
        meta = {"options": op.options} if op.options else {}
        return Problem(id=op.id, prompt=op.question, gold=_gold_letter(op), meta=meta)
    return Problem(id=op.id, prompt=op.question, gold=op.gold)


def fingerprint(target: Target, source: str) -> str:
    key = f"import|{target.pair}|{target.method}|{target.lam}|{source}"
    return "import-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def import_problems(problems: Sequence[OutsideProblem], *, benchmark: Benchmark, target: Target, fmt: str,
                    tokenizer, model: str, prompt_mode: str | None = None,
                    max_new_tokens: int | None = None) -> list[SampleRecord]:
    """Records of every completion of `problems` (outside results of one model)."""
    mode = prompt_mode or DEFAULT_PROMPT_MODE[fmt]
    marker = marker_token_ids(tokenizer, benchmark.think_end) if tokenizer is not None else None
    sampling = {"imported": fmt, "max_new_tokens": max_new_tokens}
    records = []
    for op in problems:
        problem = to_problem(op, benchmark)
        for i, text in enumerate(op.completions):
            if op.token_ids is not None:
                ids, source = tuple(op.token_ids[i]), "generated ids"
            elif tokenizer is not None:
                ids, source = tuple(tokenizer.encode(text, add_special_tokens=False)), "re-encoded"
            else:
                raise ValueError(f"{model}: the file has no generated token ids; name the model's tokenizer "
                                 "with --tokenizer DIR (token counts are never guessed)")
            finish = "length" if max_new_tokens is not None and len(ids) >= max_new_tokens else "stop"
            fields = grade_completion(benchmark, problem, Completion(text=text, token_ids=ids, finish_reason=finish),
                                      marker, prompt_mode=mode)
            fields["meta"].update(outside_correct=op.outside[i], tokens_from=source, imported=fmt)
            records.append(SampleRecord(
                model=model, model_fingerprint=fingerprint(target, model), pair=target.pair, method=target.method,
                lam=target.lam, benchmark=benchmark.name, benchmark_version=benchmark.version,
                problem_id=problem.id, sample_index=i, prompt_mode=mode, sampling=sampling, seed=0, **fields))
    return records


def disagreements(records: Sequence[SampleRecord]) -> tuple[int, int, list[Disagreement]]:
    """(samples with an outside grade, agreeing samples, every disagreement)."""
    n = agree = 0
    out = []
    for r in records:
        outside = r.meta.get("outside_correct")
        if outside is None:
            continue
        n += 1
        if bool(outside >= 0.5) == r.correct:
            agree += 1
        else:
            tail = r.text.strip()[-90:].replace("\n", " ")
            out.append(Disagreement(r.problem_id, r.sample_index, outside, r.correct, r.extracted, tail))
    return n, agree, out
