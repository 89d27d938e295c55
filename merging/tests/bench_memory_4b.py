"""Benchmark script: peak RSS of every method on the largest tensors of a Qwen3-4B-shaped
checkpoint (the tied embedding 151936 x 2560, a down_proj 2560 x 9728 and a gate_proj
9728 x 2560, bf16; 0.88 GB per parent, three parents: direct, think, base), one fresh
subprocess per method. The embedding alone is 1.56 GB as a float32 copy, so a method that
held whole tensors in float32 would show it here. Target: peak RSS < 1 GB for every method.
Prints a table; asserts nothing. A method may carry parameters (`name:k=v,k=v`), e.g.
`surgical:scope=tensor`; without, it runs at the merge benchmark's METHOD_PARAMS.

    python -m merging.tests.bench_memory_4b [method[:k=v,...] ...]
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from merging.tests.test_bench_merge import METHOD_PARAMS, ROOT, out_root

CACHE = ROOT / ".cache" / "bench_qwen3_4b_largest"
SHAPES = {"model.embed_tokens.weight": (151936, 2560), "model.layers.0.mlp.down_proj.weight": (2560, 9728),
          "model.layers.0.mlp.gate_proj.weight": (9728, 2560), "model.norm.weight": (2560,)}
ROLES = ("direct", "think", "base")


def build() -> dict[str, Path]:
    import torch
    from safetensors.torch import save_file

    dirs = {role: CACHE / role for role in ROLES}
    for i, (role, d) in enumerate(dirs.items()):
        if (d / "model.safetensors").is_file():
            continue
        gen = torch.Generator().manual_seed(10 + i)
        tensors = {n: (0.02 * torch.randn(s, generator=gen)).bfloat16() for n, s in SHAPES.items()}
        d.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        (d / "config.json").write_text(json.dumps({"model_type": "qwen3", "num_hidden_layers": 36,
                                                   "hidden_size": 2560, "tie_word_embeddings": True}))
        del tensors
    return dirs


def method_and_params(arg: str) -> tuple[str, dict | list[str] | None]:
    """"surgical:scope=tensor" -> ("surgical", ["scope=tensor"]); "ties" -> METHOD_PARAMS'."""
    method, _, given = arg.partition(":")
    return method, (given.split(",") if given else METHOD_PARAMS.get(method))


def job(arg: str, out: Path) -> None:
    import resource

    from merging.engine import merge
    from merging.registry import get_method
    from merging.tests.test_bench_merge import peak_rss_mb

    method, params = method_and_params(arg)
    dirs = {role: CACHE / role for role in ROLES}
    start = time.perf_counter()
    base = dirs["base"] if get_method(method).needs_base else None
    merge(method, dirs["direct"], dirs["think"], base, lams=[0.5], outs=[out], progress=False, params=params)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_rss_mb": peak_rss_mb()}))


def main(methods: list[str]) -> None:
    from merging.registry import list_methods

    build()
    out = out_root() / "mem4b"
    print("| method | peak RSS MB | wall s | CPU s |\n|---|---|---|---|")
    for method in methods or list_methods():
        shutil.rmtree(out, ignore_errors=True)
        res = subprocess.run([sys.executable, "-m", "merging.tests.bench_memory_4b", "--job", method, str(out)],
                             cwd=ROOT, capture_output=True, text=True)
        shutil.rmtree(out, ignore_errors=True)
        if res.returncode != 0:
            print(f"| {method} | failed: {res.stderr.strip().splitlines()[-1]} | |")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"| {method} | {r['peak_rss_mb']:.0f} | {r['seconds']:.1f} | {r['cpu_s']:.1f} |", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--job":
        job(sys.argv[2], Path(sys.argv[3]))
    else:
        main(sys.argv[1:])
