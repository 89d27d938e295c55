"""Scoring creative-writing samples with a rubric judge, from the command line.

    spectrum eval --benchmark creative_writing --data DIR ... --judge-url http://host:8000/v1 --judge-model M
    spectrum eval --benchmark creative_writing --data DIR ... --judge-local /models/judge
    spectrum sweep CONFIG.yaml --judge-url ... --judge-model M     # every creative benchmark of the sweep

`add_judge_options` adds the flags, `judge_from_args` builds the judge they name (an
OpenAI-compatible endpoint or a local model through the transformers backend; None when no
flag is given), `score_records` judges each record's answer (the text after `</think>`)
against its problem's writing prompt with the rubric of the bench's data folder.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from evals.backends.transformers_backend import TransformersBackend
from evals.benchmarks.base import Problem
from evals.grading.judge import (BackendJudge, Judge, JudgedPiece, OpenAIJudge, Rubric, benchmark_score,
                                 judge_piece)
from evals.grading.thinking import split_text
from evals.records import SampleRecord


def add_judge_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rubric judge (creative_writing; EQ-Bench creative-writing-bench)")
    g.add_argument("--judge-url", help="OpenAI-compatible endpoint of the judge, e.g. http://host:8000/v1")
    g.add_argument("--judge-model", help="model name the endpoint serves (with --judge-url)")
    g.add_argument("--judge-local", help="local judge checkpoint folder, run with the transformers backend")
    g.add_argument("--judge-device", default="cpu", help="device of --judge-local (default cpu)")
    g.add_argument("--judge-rubric", help="folder with the bench's criteria files (default: --data when a folder)")


def judge_from_args(args: argparse.Namespace) -> Judge | None:
    """The judge the flags name; None without any judge flag; ValueError for a half-given one."""
    if args.judge_url and args.judge_local:
        raise ValueError("--judge-url and --judge-local both given; pick one judge")
    if args.judge_url:
        if not args.judge_model:
            raise ValueError("--judge-url needs --judge-model (the model name the endpoint serves)")
        return OpenAIJudge(args.judge_url, args.judge_model)
    if args.judge_model:
        raise ValueError("--judge-model needs --judge-url (or use --judge-local DIR for a local judge)")
    if args.judge_local:
        backend = TransformersBackend.from_pretrained(args.judge_local, device=args.judge_device)
        return BackendJudge(backend, backend.tokenizer)
    return None


def rubric_from_args(args: argparse.Namespace, data: str | None) -> Rubric:
    """The rubric of --judge-rubric, else of the benchmark's data folder; ValueError naming the flag."""
    folder = args.judge_rubric or (data if data and Path(data).is_dir() else None)
    if folder is None:
        raise ValueError("a rubric judge needs the bench's criteria files: pass --judge-rubric DIR "
                         "(the data/ folder of creative-writing-bench)")
    return Rubric.from_dir(folder)


def rubric_scores(judge: Judge, rubric: Rubric, problems: Sequence[Problem],
                  records: Sequence[SampleRecord]) -> dict[str, tuple[float | None, int, int]]:
    """model label -> (EQ-Bench score 0-100 or None, pieces parsed, pieces judged)."""
    out = {}
    for model in dict.fromkeys(r.model for r in records):
        pieces = score_records(judge, rubric, problems, [r for r in records if r.model == model])
        out[model] = (benchmark_score(pieces), sum(p.score_0_20 is not None for p in pieces), len(pieces))
    return out


def format_scores(scores: dict[str, tuple[float | None, int, int]]) -> str:
    return "\n".join(f"rubric score (0-100) {m}: {'n/a' if s is None else f'{s:.2f}'} over {k} of {n} pieces"
                     for m, (s, k, n) in scores.items())


def score_records(judge: Judge, rubric: Rubric, problems: Sequence[Problem],
                  records: Sequence[SampleRecord]) -> list[JudgedPiece]:
    """One judged piece per record, in record order."""
    prompts = {p.id: p.prompt for p in problems}
    return [judge_piece(judge, rubric, prompts[r.problem_id], split_text(r.text).answer) for r in records]
