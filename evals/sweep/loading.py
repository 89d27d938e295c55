"""Load a thinking/direct pair once for an in-place sweep (a `LoadedPair`).

    loaded = load_pair(pair, device="cpu", backend="transformers")

The live model is built from the thinking parent's directory. Weights are always read from
safetensors (never unpickled). Devices: "cpu", "cuda" (model, parents and the merge's
prepared states on that GPU), "auto" (transformers `device_map="auto"` over every visible
GPU; the parents then stay in CPU memory and theta(lam) is computed there, then copied into
each layer's device). With backend "vllm" the parents live on the engine's workers
(`evals.backends.vllm_inplace`).
"""
from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from evals.backends.transformers_backend import TransformersBackend, load_tokenizer
from evals.backends.vllm_inplace import load_vllm_pair
from evals.sweep.live import LoadedPair
from evals.sweep.presets import PairSpec
from evals.sweep.weights import pair_dirs, pair_fingerprints
from merging.checkpoint import load_state_dict


def load_pair(pair: PairSpec, *, device: str = "cpu", dtype: str | None = None, batch_size: int = 64,
              backend: str = "transformers", need_base: bool = True, engine: dict | None = None,
              sizing=None) -> LoadedPair:
    """The live model (built from the thinking parent), parents, tokenizers and fingerprints.
    `engine`: engine settings (evals.backends.vllm_settings; backend "vllm" only); `sizing`:
    tokenizers -> (longest prompt tokens, max_new_tokens), the default max_model_len."""
    dirs = pair_dirs(pair, need_base)
    torch_dtype = getattr(torch, dtype) if dtype else None
    tokenizers = {role: load_tokenizer(str(dirs[role])) for role in ("direct", "think")}
    fingerprints = pair_fingerprints(pair, need_base)
    if backend == "vllm":
        return load_vllm_pair(pair, dirs, dtype=dtype, batch_size=batch_size, fingerprints=fingerprints,
                              tokenizers=tokenizers, engine=engine, sizing=sizing)
    if backend != "transformers":
        raise ValueError(f"backend must be 'transformers' or 'vllm', got {backend!r}")
    if device == "auto":  # every visible GPU; parents stay on the CPU
        model = AutoModelForCausalLM.from_pretrained(str(dirs["think"]), dtype=torch_dtype or torch.float32,
                                                     device_map="auto")
        live = TransformersBackend(model, AutoTokenizer.from_pretrained(str(dirs["think"])), batch_size=batch_size)
        parents_device = torch.device("cpu")
    else:
        live = TransformersBackend.from_pretrained(str(dirs["think"]), device=device, dtype=dtype)
        live.batch_size = batch_size
        parents_device = next(live.model.parameters()).device
    sd = {role: load_state_dict(d, device=parents_device, dtype=torch_dtype) for role, d in dirs.items()}
    return LoadedPair(live, tokenizers, sd, fingerprints)
