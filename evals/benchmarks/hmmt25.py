"""HMMT February 2025 (30 problems, many LaTeX answers): hub `MathArena/hmmt_feb_2025`, split train.

Local data: a JSONL/parquet file (or folder) with fields `problem`, `answer` (and
`problem_idx` or `id`). Answers such as `\\frac{9\\sqrt{23}}{23}` or `2^{25} \\cdot 26!` are
compared symbolically by math-verify.
Paper's prompt (prompt_mode chatml_system, the Qwen2.5-Math harness's "qwen25-no-cot"):
`<|im_start|>system\nPlease anwser the question and put your final answer within
\\boxed{}.<|im_end|>\n<|im_start|>user\n{problem, stripped}<|im_end|>\n<|im_start|>assistant\n`
(see evals.benchmarks.contest_math; checked literally in evals/tests/test_paper_prompts.py).
Version history: 1 - first version; 2 - unboxed "the answer is X" read, more hub
schemas, the harness's question text for chatml_system.
"""
from evals.benchmarks.contest_math import make_math_benchmark
from evals.benchmarks.registry import register

BENCHMARK = register(make_math_benchmark(
    name="hmmt25", version="2", hub_id="MathArena/hmmt_feb_2025", split="train",
    description="HMMT Feb 2025, 30 problems, math-verify grading; paper used 10 samples",
))
