"""A deterministic evaluation run used by the kill-and-resume test.

    python -m evals.tests.resume_worker RESULTS.jsonl [DELAY_S] [FINGERPRINT]

Fake backend (no model), raw prompts, 8 problems x 3 samples, 2 samples per call.
"""
from __future__ import annotations

import sys

from evals.backends.base import SamplingParams
from evals.backends.fake import FakeBackend
from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.runner import evaluate
from evals.store import ResultsStore

PROBLEMS = [Problem(id=f"p{i}", prompt=f"problem {i}", gold=str(i % 4)) for i in range(8)]


def script(prompt: str, i: int) -> str:
    k = int(prompt.split()[-1])
    return f"thinking about {prompt} ({i})</think>\\boxed{{{(k + i) % 4}}}"


def run(path: str, delay_s: float = 0.0, fingerprint: str = "fp") -> tuple[list, FakeBackend]:
    fake = FakeBackend(script, delay_s=delay_s, batch_size=2)
    recs = evaluate(fake, None, get_benchmark("aime24"), PROBLEMS, SamplingParams(n=3, max_new_tokens=200),
                    store=ResultsStore(path), model="fake", model_fingerprint=fingerprint, pair="tiny",
                    prompt_mode="raw", progress=False)
    return recs, fake


if __name__ == "__main__":
    run(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.0, sys.argv[3] if len(sys.argv) > 3 else "fp")
