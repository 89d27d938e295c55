"""AIME 2024 (30 problems, integer answers 0-999): hub `HuggingFaceH4/aime_2024`, split train.

Local data: a JSONL/parquet file (or folder) with fields `problem`, `answer` (and `id`).
Prompts (both modes), grading, version history: evals.benchmarks.contest_math.
"""
from evals.benchmarks.contest_math import make_math_benchmark
from evals.benchmarks.registry import register

BENCHMARK = register(make_math_benchmark(
    name="aime24", version="2", hub_id="HuggingFaceH4/aime_2024", split="train",
    description="AIME 2024, 30 problems, math-verify grading; paper used 10 samples",
))
