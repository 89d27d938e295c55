"""Bench: tokens/s of the transformers backend on CPU, batched vs unbatched (tiny Qwen3).

    python -m pytest -m bench evals/tests/test_bench_backend.py --benchmark-only -s

Prints tokens/s for batch_size 1 and 16 and their ratio; asserts nothing about speed.
"""
import time

import pytest
import torch

from evals.backends.base import SamplingParams
from evals.backends.transformers_backend import TransformersBackend
from evals.tests.tiny_lm import char_tokenizer, tiny_qwen3

PROMPTS = [f"<|im_start|>user\nQuestion {i}: what is {i} * {i + 3}?<|im_end|>\n<|im_start|>assistant\n<think>\n"
           for i in range(16)]
PARAMS = SamplingParams(max_new_tokens=64, temperature=0.6, top_p=0.95, top_k=20, seed=0)


def _tokens_per_s(backend) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = backend.generate(PROMPTS, PARAMS)
    dt = time.perf_counter() - t0
    n = sum(len(c.token_ids) for row in out for c in row)
    return n / dt, n


@pytest.mark.bench
def test_bench_batched_vs_unbatched(benchmark):
    torch.set_num_threads(1)
    tok = char_tokenizer()
    model = tiny_qwen3(tok, hidden=64, layers=3)  # the tiny pair's shape: ~150K parameters
    results = {}

    def run():
        for bs in (1, 16):
            results[bs] = _tokens_per_s(TransformersBackend(model, tok, batch_size=bs))
        return results

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    (one, n1), (many, n16) = results[1], results[16]
    ratio = many / one
    benchmark.extra_info.update(tokens_per_s_unbatched=one, tokens_per_s_batched=many, ratio=ratio)
    print(f"\ntransformers backend, CPU 1 thread, {sum(p.numel() for p in model.parameters())} params, "
          f"{len(PROMPTS)} prompts x {PARAMS.max_new_tokens} new tokens: "
          f"unbatched {one:.0f} tok/s ({n1} tokens), batch 16 {many:.0f} tok/s ({n16} tokens), ratio {ratio:.2f}x")
