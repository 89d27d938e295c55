"""Generation with vLLM (optional; needs CUDA and `pip install vllm`).

    backend = VLLMBackend("path/to/checkpoint", dtype="bfloat16")
    evaluate(backend, backend.tokenizer, ...)

The engine's workers carry a worker extension (`worker_extension`, called through
`LLM.collective_rpc`); `probe_checksums` reads sums of the engine's live parameters. A
sweep that rewrites the weights in place (theta(lam) computed on the workers) is
`evals.backends.vllm_inplace.VLLMMergeBackend`, which shares this construction.

Each sample is its own request (n=1) with seed sample_seed(params.seed, sample index,
prompt), so sample i is reproducible alone (resume) and identical across batchings.
Token ids are vLLM's: the EOS that ended a sample is counted; `text` is decoded with
skip_special_tokens (Qwen3's `</think>` is not a special token and stays in the text).
vLLM's attention needs head_dim in {32, 64, 96, 128, ...}.
"""
from __future__ import annotations

from typing import Sequence

import json
from pathlib import Path

from evals.backends.base import Completion, SamplingParams
from evals.backends.seeding import resolve_indices, sample_seed
from evals.backends.vllm_settings import check_kv_fits, engine_kwargs, engine_settings, kv_dtype_bytes
from merging.checkpoint import open_checkpoint

WORKER_EXTENSION = "evals.backends.vllm_worker.SpectrumWorkerExtension"


def import_vllm():
    try:
        import vllm
    except ImportError:
        raise ImportError(
            "the vllm backend needs vLLM (CUDA only): pip install 'thinking-spectrum[gpu]', "
            "or use --backend transformers"
        ) from None
    return vllm


def vllm_sampling_kwargs(params: SamplingParams, seed: int) -> dict:
    """Keyword arguments of vllm.SamplingParams for ONE sample (n=1) of `params`."""
    return dict(
        n=1, temperature=params.temperature, top_p=params.top_p,
        top_k=params.top_k if params.top_k and params.top_k > 0 else -1,  # -1: disabled in every vLLM
        max_tokens=params.max_new_tokens, seed=seed, stop=list(params.stop) or None,
    )


def total_gpu_bytes() -> int:
    """Memory of GPU 0: vLLM's own query, or torch's on older vLLM."""
    try:  # (if it initialises CUDA here, vLLM starts its workers with spawn)
        from vllm.platforms import current_platform

        return int(current_platform.get_device_total_memory(0))
    except Exception:  # noqa: BLE001 - older vLLM: fall back to torch
        import torch

        return int(torch.cuda.get_device_properties(0).total_memory)


def prepare_engine(model_dir: str | Path, engine: dict | None, options=(), *, longest_prompt: int,
                   max_new_tokens: int, dtype: str | None, gpu_bytes: int | None = None,
                   extra_bytes: float = 0.0) -> dict:
    """The engine settings for `model_dir` (config `engine:` overridden by `--engine` options;
    max_model_len defaults to longest_prompt + max_new_tokens), after checking that the KV cache
    of one full-length sequence fits (ValueError naming the setting to change)."""
    settings = engine_settings(engine, options, longest_prompt=longest_prompt, max_new_tokens=max_new_tokens)
    cfg_path = Path(model_dir) / "config.json"
    model_config = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    model_config = model_config.get("text_config", model_config)
    if {"num_hidden_layers", "num_key_value_heads"} <= set(model_config):
        weights = sum(i.nbytes for i in open_checkpoint(model_dir).tensors.values())
        check_kv_fits(model_config, settings, gpu_bytes=gpu_bytes if gpu_bytes is not None else total_gpu_bytes(),
                      weight_bytes=weights, extra_bytes=extra_bytes,
                      dtype_bytes=kv_dtype_bytes(dtype, model_config))
    return settings


class VLLMBackend:
    name = "vllm"
    supports_sample_indices = True
    worker_extension = WORKER_EXTENSION  # qualified name of the class the workers mix in

    def __init__(self, model: str, *, dtype: str = "auto", seed: int = 0, batch_size: int = 512,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, **extra):
        vllm = import_vllm()
        self._vllm = vllm
        self.batch_size = batch_size  # samples per generate() call from the runner
        self.dtype = dtype
        self.llm = vllm.LLM(model=model, dtype=dtype, seed=seed, worker_extension_cls=self.worker_extension,
                            enable_prefix_caching=True, gpu_memory_utilization=gpu_memory_utilization,
                            max_model_len=max_model_len, **engine_kwargs(extra))
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: Sequence[str], params: SamplingParams, *, sample_indices=None) -> list[list[Completion]]:
        indices = resolve_indices(len(prompts), params.n, sample_indices)
        flat_prompts, flat_params, slots = [], [], []
        for pi, ix in enumerate(indices):
            for si in ix:
                seed = sample_seed(params.seed, prompts[pi], si)
                flat_prompts.append(prompts[pi])
                flat_params.append(self._vllm.SamplingParams(**vllm_sampling_kwargs(params, seed)))
                slots.append((pi, seed))
        outs = self.llm.generate(flat_prompts, flat_params, use_tqdm=False) if flat_prompts else []
        result: list[list[Completion]] = [[] for _ in prompts]
        for (pi, seed), out in zip(slots, outs):
            o = out.outputs[0]
            # vLLM's reason as it is ("stop", "length", "abort", ...): an aborted request is not a stop
            result[pi].append(Completion(text=o.text, token_ids=tuple(o.token_ids),
                                         finish_reason=str(o.finish_reason), meta={"sample_seed": seed}))
        return result

    def reset_prefix_cache(self) -> None:
        """Drop every cached KV block (they hold the old weights' keys and values). vLLM returns
        False when it refuses (blocks still in use); None on versions that return nothing."""
        if self.llm.reset_prefix_cache() is False:
            raise RuntimeError("vLLM refused to reset its prefix cache (requests still hold KV blocks); "
                               "cached prompts would reuse the previous weights' KV, so the sweep stops")

    def _rpc(self, method: str, *args):
        return self.llm.collective_rpc(method, args=args)

    def probe_checksums(self, names: Sequence[str]) -> list[dict]:
        """Per worker: name -> (sum, dtype, shape) of the engine's live parameters."""
        return self._rpc("spectrum_checksums", list(names))
