"""Where a checkpoint (Hugging Face) tensor lands in vLLM's Qwen2/Qwen3 (dense and MoE) models,
and which live parameters can prove that a weight swap took effect.

vLLM fuses q/k/v into `qkv_proj` and gate/up into `gate_up_proj`, and stacks MoE experts
into `experts.w13_weight` (gate = w1, up = w3) and `experts.w2_weight` (down); its models'
`load_weights` does this mapping itself (the `stacked_params_mapping` of
vllm/model_executor/models/qwen2.py and qwen3.py). This module only mirrors it to plan the
probe: after a swap, the float64 sum of a live parameter must equal the sum of the
(dtype-cast) checkpoint tensors fed into it. Under tensor parallelism only replicated
parameters (RMSNorm weights) are whole on every worker, so only they are probed there.
No vLLM import: the driver and the CPU tests use this module.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

# (vLLM parameter, checkpoint module, shard id), as in vLLM's Qwen2/Qwen3 load_weights
STACKED = (
    ("qkv_proj", "q_proj", "q"),
    ("qkv_proj", "k_proj", "k"),
    ("qkv_proj", "v_proj", "v"),
    ("gate_up_proj", "gate_proj", 0),
    ("gate_up_proj", "up_proj", 1),
)
_EXPERT = re.compile(r"^(?P<pre>.*\.mlp\.experts)\.(?P<e>\d+)\.(?P<proj>gate_proj|up_proj|down_proj)\.weight$")
_EXPERT_PARAM = {"gate_proj": ("w13_weight", "w1"), "up_proj": ("w13_weight", "w3"), "down_proj": ("w2_weight", "w2")}


def vllm_param_name(hf_name: str) -> tuple[str, object, int | None]:
    """(vLLM parameter name, shard id or None, expert index or None) for a checkpoint tensor."""
    m = _EXPERT.match(hf_name)
    if m:
        param, shard = _EXPERT_PARAM[m["proj"]]
        return f"{m['pre']}.{param}", shard, int(m["e"])
    for param, module, shard in STACKED:
        if f".{module}." in hf_name:
            return hf_name.replace(f".{module}.", f".{param}.", 1), shard, None
    return hf_name, None, None


def _layer(name: str) -> int | None:
    m = re.search(r"\.layers\.(\d+)\.", name)
    return int(m.group(1)) if m else None


def probe_plan(hf_names: Iterable[str], *, tensor_parallel: int = 1) -> dict[str, list[str]]:
    """vLLM parameter -> the checkpoint tensors whose sums add up to its sum after a swap.

    Always every RMSNorm weight (replicated, unfused); with one worker (no sharding, so no
    expert parallelism either) also the first layer's attention, dense-MLP and MoE expert
    projections, fused and stacked ones included (`w13_weight` sums every expert's gate and
    up, `w2_weight` every down). Never embeddings or lm_head (vLLM pads the vocabulary)."""
    plan: dict[str, list[str]] = {}
    for name in hf_names:
        param, shard, expert = vllm_param_name(name)
        if name.endswith("norm.weight"):
            plan.setdefault(param, []).append(name)
        elif (tensor_parallel == 1 and _layer(name) == 0 and name.endswith("proj.weight")
              and (".self_attn." in name or ".mlp." in name) and ".mlp.gate." not in name):
            plan.setdefault(param, []).append(name)
    return plan


def expected_sums(plan: dict[str, list[str]], fed: dict[str, float]) -> dict[str, float]:
    """vLLM parameter -> the sum it must hold, from the float64 sums of the fed tensors;
    parameters whose parts were not all fed are left out."""
    return {param: sum(fed[n] for n in parts) for param, parts in plan.items() if all(n in fed for n in parts)}


def mismatches(expected: dict[str, float], live: dict[str, float], rel: float = 1e-9) -> list[str]:
    """Human-readable differences between the expected and the live sums (empty: swap verified).
    `rel` absorbs only float64 summation order (a fused parameter is summed in one piece)."""
    bad = []
    for param, want in expected.items():
        if param not in live:
            bad.append(f"{param}: not a parameter of the engine's model")
            continue
        got = live[param]
        if abs(got - want) > rel * max(1.0, abs(want)):
            bad.append(f"{param}: engine holds sum {got!r}, the merge fed {want!r}")
    return bad


def layout_witnesses(hf_names: Iterable[str], *, tensor_parallel: int = 1) -> dict[str, tuple[str, int, int]]:
    """Checkpoint tensors compared element by element after a swap: expert 0 of the first MoE
    layer, as checkpoint name -> (vLLM parameter, expert, row offset in that expert's slice).
    A sum cannot see a permutation; this can. Empty under tensor parallelism or without MoE."""
    if tensor_parallel != 1:
        return {}
    found = [n for n in hf_names if (m := _EXPERT.match(n)) and int(m["e"]) == 0]
    layers = sorted({_layer(n) for n in found if _layer(n) is not None})
    out: dict[str, tuple[str, int, int]] = {}
    for name in (n for n in found if layers and _layer(n) == layers[0]):
        param, shard, expert = vllm_param_name(name)
        out[name] = (param, expert, 0 if shard in ("w1", "w2") else -1)   # -1: w3 is the second half of w13
    return out


def layout_problems(live: dict, fed: dict, witnesses: dict[str, tuple[str, int, int]]) -> list[str]:
    """Why the engine's expert weights are not the fed checkpoint tensors in vLLM's load layout
    (w13 = [gate; up] per expert, w2 = down); `live` maps vLLM parameter -> tensor, `fed` maps
    checkpoint name -> the (dtype-cast) tensor fed. Empty: the layout is the loader's own."""
    bad = []
    for name, (param, expert, offset) in witnesses.items():
        if name not in fed or param not in live:
            continue
        block, want = live[param][expert], fed[name]
        rows = want.shape[0]
        got = block[:rows] if offset == 0 else block[block.shape[0] - rows:]
        if tuple(got.shape) != tuple(want.shape) or not bool((got.to(want.dtype) == want.to(got.device)).all()):
            bad.append(f"{param}[{expert}] does not hold {name} as loaded: this MoE kernel re-lays out expert "
                       "weights after loading (vLLM's process_weights_after_loading), so an in-place swap "
                       "would write the checkpoint layout into a processed one; use the transformers "
                       "backend, or an engine whose MoE kernel keeps the loader's layout")
    return bad
