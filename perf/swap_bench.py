"""Swap benchmark: one in-place lam swap against writing a merged checkpoint and loading it afresh,
and transformers generation tokens/s at batch 1 against batch 64. Random-init parents (no
weights needed): base random, direct and think = base + 1% noise, saved as safetensors.

    python perf/swap_bench.py                          # CPU, the tiny pair's shape (seconds)
    python perf/swap_bench.py --shape small            # CPU, a ~17M-parameter Qwen3 (a minute)
    python perf/swap_bench.py --device cuda            # GPU, the real Qwen3-4B shape (bf16)
    python perf/swap_bench.py --device cuda --layers 8 --methods linear,ties,lore --json out.json

Figures (median of --repeats, CUDA synchronised) print as a table with the ratios measured in
this one run; nothing is asserted. On CUDA expect ~25 GB of disk under --workdir and, with
the 4B shape, up to ~70 GB of GPU memory for TIES' cached states (--cache off avoids them).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

SHAPES = {
    # Qwen3-4B (-Instruct-2507 / -Thinking-2507): the config.json values
    "qwen3-4b": dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
                     num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=262144,
                     rope_theta=5_000_000.0, rms_norm_eps=1e-6, tie_word_embeddings=True),
    # a CPU-sized Qwen3 (~17M parameters): big enough that tensor work, not overhead, is timed
    "small": dict(vocab_size=8192, hidden_size=512, intermediate_size=1536, num_hidden_layers=4,
                  num_attention_heads=8, num_key_value_heads=4, head_dim=64, max_position_embeddings=4096,
                  tie_word_embeddings=True),
    # the tiny fixture pair (fixtures/train.py)
    "tiny": dict(vocab_size=33, hidden_size=64, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=32, max_position_embeddings=128, tie_word_embeddings=True),
}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> tuple[float, object]:
    """(seconds, result) of fn(), with the device's queue drained on both sides."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def word_tokenizer(vocab_size: int):
    """Token i is the word 't<i>'; the end token is id `vocab_size`, one past the model's logits,
    so every sample runs to --new-tokens and batches are measured at equal lengths."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab_size + 1)}, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=f"t{vocab_size}", pad_token="t0")


def build_parents(shape: dict, root: Path, device: str, dtype: torch.dtype, seed: int) -> dict[str, Path]:
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config(**shape, eos_token_id=None, pad_token_id=0, bos_token_id=None)  # end: the tokenizer's
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen3ForCausalLM(cfg).to(dtype)
    base = {k: v.detach().clone() for k, v in model.state_dict().items()}
    dirs = {}
    for i, role in enumerate(("base", "direct", "think")):
        gen = torch.Generator(device=device).manual_seed(seed + 1 + i)
        with torch.no_grad():
            for name, p in model.state_dict().items():
                scale = 0.0 if role == "base" else 0.01 * float(base[name].float().std().clamp_min(1e-2))
                p.copy_(base[name].float() + scale * torch.randn(p.shape, generator=gen, device=device))
        dirs[role] = root / role
        model.save_pretrained(dirs[role])
        word_tokenizer(shape["vocab_size"]).save_pretrained(dirs[role])  # vLLM loads one
    del model, base
    return dirs


def bench_swaps(args, dirs, dtype) -> list[dict]:
    from transformers import AutoModelForCausalLM

    from evals.sweep.live import choose_cache
    from merging.checkpoint import load_state_dict
    from merging.engine import merge
    from merging.inplace import InPlaceMerger
    from merging.registry import get_method

    rows = []
    live = AutoModelForCausalLM.from_pretrained(dirs["think"], dtype=dtype).to(args.device)
    sd = {role: load_state_dict(d, device=args.device) for role, d in dirs.items()}
    for method in args.methods:
        base = sd["base"] if get_method(method).needs_base else None
        cache = {"on": True, "off": False}.get(args.cache)
        if cache is None:
            cache = choose_cache(method, {}, 0, {k: v for k, v in sd.items() if k != "base" or base is not None},
                                 torch.device(args.device))
        prep, merger = timed(lambda: InPlaceMerger(live, sd["direct"], sd["think"], base, method=method,
                                                   cache=cache), args.device)
        merger.apply(0.5)  # warm-up (allocator, kernels)
        lams = [0.1 + 0.8 * i / max(1, args.repeats - 1) for i in range(args.repeats)]
        swap = statistics.median(timed(lambda lam=lam: merger.apply(lam), args.device)[0] for lam in lams)
        merger = None  # free its states before the disk round trip
        out = Path(args.workdir) / f"merged-{method}"
        write, _ = timed(lambda: merge(method, dirs["direct"], dirs["think"], dirs["base"] if base is not None else None,
                                       lams=[0.5], outs=[out], device=args.device, force=True, progress=False),
                         args.device)
        load, fresh = timed(lambda: AutoModelForCausalLM.from_pretrained(out, dtype=dtype).to(args.device), args.device)
        del fresh
        shutil.rmtree(out)  # 8 GB per method at the 4B shape
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
        rows.append(dict(method=method, cache=cache, prepare_s=prep, swap_s=swap, write_s=write, load_s=load,
                         disk_over_swap=(write + load) / swap))
    return rows, live


def bench_generation(args, live, shape) -> list[dict]:
    from evals.backends.base import SamplingParams
    from evals.backends.transformers_backend import TransformersBackend

    vocab = shape["vocab_size"]
    tok = word_tokenizer(vocab)
    gen = torch.Generator().manual_seed(0)
    prompts = [" ".join(f"t{int(i)}" for i in torch.randint(0, vocab - 1, (args.prompt_len,), generator=gen))
               for _ in range(max(max(args.batches), 8))]
    params = SamplingParams(max_new_tokens=args.new_tokens)  # greedy
    rows = []
    for bs in args.batches:
        backend = TransformersBackend(live, tok, batch_size=bs)
        backend.generate(prompts[:bs], SamplingParams(max_new_tokens=4))  # warm-up
        n = max(bs, 8)  # small batches: several calls, for a steadier figure
        secs, out = timed(lambda: backend.generate(prompts[:n], params), args.device)
        tokens = sum(c.num_tokens for row in out for c in row)
        rows.append(dict(batch=bs, tokens=tokens, seconds=secs, tokens_per_s=tokens / secs))
    return rows


def bench_vllm(args, dirs, dtype) -> list[dict]:
    """One engine on the thinking parent, parents on its GPU; time `apply_point` (merge on the
    worker + load_weights + prefix-cache reset + probe) per method."""
    from evals.backends.vllm_inplace import VLLMMergeBackend

    be = VLLMMergeBackend(str(dirs["think"]), dtype=str(dtype).replace("torch.", ""), max_model_len=512,
                          gpu_memory_utilization=args.vllm_memory)
    info = be.open_parents({r: str(d) for r, d in dirs.items()}, "device")
    rows = []
    for method in args.methods:
        lams = [0.1 + 0.8 * i / max(1, args.repeats - 1) for i in range(args.repeats)]
        point = {"method": method, "params": {}, "seed": 0, "cache": None}
        first, _ = timed(lambda: be.apply_point({**point, "lam": 0.5}, method), "cuda")  # includes prepare
        swap = statistics.median(timed(lambda lam=lam: be.apply_point({**point, "lam": lam}, method), "cuda")[0]
                                 for lam in lams)
        rows.append(dict(method=method, first_s=first, swap_s=swap, cache=be.last_swap[0].get("cache"),
                         resident=info[0]["resident"]))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--shape", choices=sorted(SHAPES), help="model shape (default: qwen3-4b on cuda, tiny on cpu)")
    ap.add_argument("--layers", type=int, help="override the number of layers (a smaller model, same widths)")
    ap.add_argument("--dtype", help="default bfloat16 on cuda, float32 on cpu")
    ap.add_argument("--methods", default="linear,ties", help="comma list of merge methods to time")
    ap.add_argument("--cache", choices=("auto", "on", "off"), default="auto", help="keep prepared states")
    ap.add_argument("--repeats", type=int, default=5, help="swaps timed per method (median reported)")
    ap.add_argument("--batches", default="1,64", help="generation batch sizes")
    ap.add_argument("--new-tokens", type=int, help="tokens generated per sample (default 128 cuda, 32 cpu)")
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--workdir", help="where the parents and merged checkpoints go (default: a temp dir)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--vllm", action="store_true", help="also time in-place swaps in a vLLM engine (needs vLLM)")
    ap.add_argument("--vllm-memory", type=float, default=0.35, help="the engine's gpu_memory_utilization")
    args = ap.parse_args(argv)
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("swap_bench: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    shape = dict(SHAPES[args.shape or ("qwen3-4b" if cuda else "tiny")])
    if args.layers:
        shape["num_hidden_layers"] = args.layers
    dtype = getattr(torch, args.dtype or ("bfloat16" if cuda else "float32"))
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.batches = [int(b) for b in args.batches.split(",")]
    args.new_tokens = args.new_tokens or (128 if cuda else 32)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        args.workdir = tmp
        t0 = time.perf_counter()
        dirs = build_parents(shape, Path(tmp), args.device, dtype, seed=0)
        setup = time.perf_counter() - t0
        swaps, live = bench_swaps(args, dirs, dtype)
        gens = bench_generation(args, live, shape)
        n_params = sum(p.numel() for p in live.parameters())
        del live
        vllm_rows = []
        if args.vllm:
            if cuda:
                torch.cuda.empty_cache()
            vllm_rows = bench_vllm(args, dirs, dtype)
    device = torch.cuda.get_device_name() if cuda else f"cpu ({torch.get_num_threads()} threads)"
    print(f"swap_bench: {args.shape or ('qwen3-4b' if cuda else 'tiny')} shape, {shape['num_hidden_layers']} layers, "
          f"{n_params / 1e6:.2f}M parameters, {str(dtype).replace('torch.', '')}, {device}; setup {setup:.1f} s")
    print(f"{'method':<10}{'cache':>6}{'prepare s':>11}{'swap s':>10}{'write s':>10}{'load s':>9}{'disk/swap':>11}")
    for r in swaps:
        print(f"{r['method']:<10}{str(r['cache']):>6}{r['prepare_s']:>11.4f}{r['swap_s']:>10.4f}{r['write_s']:>10.4f}"
              f"{r['load_s']:>9.4f}{r['disk_over_swap']:>10.1f}x")
    print(f"{'batch':<8}{'tokens':>8}{'seconds':>10}{'tokens/s':>11}")
    for r in gens:
        print(f"{r['batch']:<8}{r['tokens']:>8}{r['seconds']:>10.3f}{r['tokens_per_s']:>11.1f}")
    for r in vllm_rows:
        print(f"vLLM {r['method']}: first swap (with prepare) {r['first_s']:.3f} s, swap {r['swap_s']:.3f} s "
              f"(parents on {r['resident']}, cache {r['cache']})")
    if len(gens) > 1:
        print(f"batch {gens[-1]['batch']} / batch {gens[0]['batch']} throughput: "
              f"{gens[-1]['tokens_per_s'] / gens[0]['tokens_per_s']:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(shape=shape, dtype=str(dtype), device=device, n_params=n_params,
                                                   swaps=swaps, generation=gens, vllm=vllm_rows), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
