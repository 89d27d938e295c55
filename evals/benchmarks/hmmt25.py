"""HMMT February 2025 (30 problems, many LaTeX answers): hub `MathArena/hmmt_feb_2025`, split train.

Local data: a JSONL/parquet file (or folder) with fields `problem`, `answer` (and
`problem_idx` or `id`). Answers such as `\\frac{9\\sqrt{23}}{23}` or `2^{25} \\cdot 26!` are
compared symbolically by math-verify.
Prompts (both modes), grading, version history: evals.benchmarks.contest_math.
"""
from evals.benchmarks.contest_math import make_math_benchmark
from evals.benchmarks.registry import register

BENCHMARK = register(make_math_benchmark(
    name="hmmt25", version="2", hub_id="MathArena/hmmt_feb_2025", split="train",
    description="HMMT Feb 2025, 30 problems, math-verify grading; paper used 10 samples",
))
