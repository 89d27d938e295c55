"""Memory plan of an in-place sweep, per device, from a model's config.json: the live model,
the parents, the base, the merge states and the KV cache at the sampling cap times the
batch; whether it fits, and what to change when it does not.

Counts come from the config alone (dense Qwen3 and Qwen3-MoE layouts, tied or untied
embeddings), so a plan needs no weights. Merge states are counted in float32 copies of the
model (bytes / (4 x entries)) and read off the method's own prepared states: `state_copies`
prepares a small bf16 trio and asks `merging.feed.cache_bytes`, the figure the sweep's
in-place merge and the vLLM workers decide caching by, so every registered method is billed
at the label's parameters with no table to keep in step (views of the parents cost nothing;
DARE, TIES, EMR hold two float32 task vectors; LoRE, Twin one shift; the top-share methods
one int32 ranking key per entry, their model-wide histogram not growing with the model). Only
one method's states live at a time, so the plan takes the largest; with
`parents: host` the merge runs on the host, so parents, base and states leave the device.

    python -m evals.plan_memory path/to/config.json --gpu-gb 80 --batch 8 --tokens 40512 \
        --methods linear,ties,lore [--parents host] [--no-merge-cache] [--tp 2]
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from merging.feed import cache_bytes
from merging.parents import ParentTensors
from merging.registry import get_method, list_methods

from evals.backends.vllm_settings import kv_bytes_per_token
from evals.method_labels import parse_method_label

GB = 1e9
# the trio `method_copies` prepares: a wide and a tall matrix and a norm (bf16, the parents' usual dtype)
_SHAPES = {"model.embed_tokens.weight": (40, 16), "model.layers.0.mlp.down_proj.weight": (16, 48),
           "model.norm.weight": (16,)}


def param_count(cfg: Mapping[str, Any]) -> int:
    """Parameters stored in the checkpoint (a tied lm_head counted once)."""
    h, layers, v = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    hd = cfg.get("head_dim") or h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    attn = h * q + 2 * h * kv + q * h + 2 * hd + 2 * h       # q, k, v, o; q/k norms; two layer norms
    if cfg.get("num_experts"):
        mlp = cfg["num_experts"] * 3 * h * cfg["moe_intermediate_size"] + cfg["num_experts"] * h   # + router
    else:
        mlp = 3 * h * cfg["intermediate_size"]
    embed = v * h * (1 if cfg.get("tie_word_embeddings") else 2)
    return layers * (attn + mlp) + embed + h


@lru_cache(maxsize=None)
def method_copies(method: str, params: tuple = ()) -> float:
    """Float32 model copies the prepared states of `method` at `params` ((key, value) pairs)
    hold beyond the parents, measured on a small seeded bf16 trio."""
    gen = torch.Generator().manual_seed(0)
    base = {n: torch.randn(s, generator=gen) for n, s in _SHAPES.items()}
    roles = ("direct", "think", "base") if get_method(method).needs_base else ("direct", "think")
    trio = {r: {n: (b + 0.05 * torch.randn(b.shape, generator=gen)).to(torch.bfloat16) for n, b in base.items()}
            for r in roles}
    entries = sum(b.numel() for b in base.values())
    return cache_bytes(ParentTensors(trio), method, dict(params)) / (4 * entries)


def state_copies(methods: Sequence[str]) -> float:
    """Largest state size (in float32 model copies) over method labels like "ties(density=0.2)"
    or "ties[sched:3f2a9c1b7d0e,paper]" (schedules and paper_compat change no state's size)."""
    copies = 0.0
    for label in methods:
        name = label.strip().split("(", 1)[0].split("[", 1)[0].strip()
        if name not in list_methods():
            raise ValueError(f"plan: method {label!r} is unknown; known: {', '.join(list_methods())}")
        try:
            _, params = parse_method_label(label)
        except ValueError as exc:
            raise ValueError(f"plan: method {label!r}: {exc}") from None
        copies = max(copies, method_copies(name, tuple(sorted(params.items()))))
    return copies


@dataclass(frozen=True)
class Setup:
    gpu_bytes: float
    batch: int
    tokens: int                      # prompt + max_new_tokens: the longest sequence
    methods: tuple[str, ...] = ("linear",)
    parents: str = "device"          # device | host
    merge_cache: bool = True
    base: bool = True                # task-vector methods need the base
    tensor_parallel: int = 1
    dtype_bytes: int = 2             # bf16 weights and KV cache


@dataclass(frozen=True)
class Plan:
    setup: Setup
    rows: tuple[tuple[str, float], ...]   # (item, bytes per device)

    @property
    def total(self) -> float:
        return sum(b for _, b in self.rows)

    @property
    def fits(self) -> bool:
        return self.total <= self.setup.gpu_bytes


def plan(cfg: Mapping[str, Any], setup: Setup) -> Plan:
    tp, n = setup.tensor_parallel, param_count(cfg)
    copy = n * setup.dtype_bytes / tp
    on_device = setup.parents == "device"
    # with the parents on the host the merge runs there, so its states stay there too
    states = state_copies(setup.methods) * n * 4 / tp if setup.merge_cache and on_device else 0.0
    kv = kv_bytes_per_token(cfg, setup.dtype_bytes, tp) * setup.tokens * setup.batch
    rows = (("live model", copy), ("parents (direct, think)", 2 * copy if on_device else 0.0),
            ("base", copy if on_device and setup.base else 0.0), ("merge states (float32)", states),
            (f"KV cache ({setup.batch} x {setup.tokens} tokens)", float(kv)))
    return Plan(setup, rows)


def advice(cfg: Mapping[str, Any], p: Plan) -> list[str]:
    """What to change, each alone, for the plan to fit (empty when it fits)."""
    if p.fits:
        return []
    s, out = p.setup, []
    for change, label in ((dict(parents="host"), "parents: host"), (dict(merge_cache=False), "merge_cache: false")):
        if any(getattr(s, k) != v for k, v in change.items()) and plan(cfg, replace(s, **change)).fits:
            out.append(label)
    fits_batch = max((b for b in range(s.batch - 1, 0, -1) if plan(cfg, replace(s, batch=b)).fits), default=0)
    if fits_batch:
        out.append(f"batch_size: {fits_batch}")
    tp = next((t for t in (2, 4, 8) if t > s.tensor_parallel and plan(cfg, replace(s, tensor_parallel=t)).fits), None)
    if tp:
        out.append(f"tensor_parallel_size: {tp}")
    return out or ["nothing alone: combine parents: host, merge_cache: false and a smaller batch"]


def format_plan(cfg: Mapping[str, Any], p: Plan, title: str = "") -> str:
    lines = [f"{title} per device of {p.setup.gpu_bytes / GB:.0f} GB ({param_count(cfg) / 1e9:.2f} B parameters)"]
    lines += [f"  {item:<36} {b / GB:8.1f} GB" for item, b in p.rows]
    lines.append(f"  {'total':<36} {p.total / GB:8.1f} GB  {'fits' if p.fits else 'does not fit'}")
    lines += [f"  change: {a}" for a in advice(cfg, p)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.plan_memory", description=__doc__.splitlines()[0])
    ap.add_argument("config", help="a model's config.json")
    ap.add_argument("--gpu-gb", type=float, required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, required=True, help="longest prompt + max_new_tokens")
    ap.add_argument("--methods", default="linear")
    ap.add_argument("--parents", choices=("device", "host"), default="device")
    ap.add_argument("--no-merge-cache", action="store_true")
    ap.add_argument("--tp", type=int, default=1)
    a = ap.parse_args(argv)
    cfg = json.loads(Path(a.config).read_text())
    setup = Setup(a.gpu_gb * GB, a.batch, a.tokens, tuple(a.methods.split(",")), a.parents,
                  not a.no_merge_cache, tensor_parallel=a.tp)
    print(format_plan(cfg, plan(cfg, setup), a.config))


if __name__ == "__main__":
    main()
