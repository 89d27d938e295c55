"""Generation with vLLM (optional; needs CUDA and `pip install vllm`), one engine per sweep.

    backend = VLLMBackend("path/to/direct_or_any_parent", dtype="bfloat16")
    for lam, tensors in sweep:                  # tensors: {hf_name: merged tensor}
        backend.swap_weights(tensors)           # in place, prefix cache reset, verified
        evaluate(backend, backend.tokenizer, ...)

Weights are replaced in the running engine: the worker extension
(`evals.backends.vllm_worker.SpectrumWorkerExtension`) loads them through the model's own
`load_weights` via `LLM.collective_rpc`, then the prefix cache is reset so no KV block
computed with the old weights is reused. `probe_checksums` proves the swap took effect:
after a swap the engine's replicated, unfused tensors (RMSNorm weights) must match the
sent ones.

Each sample is its own request (n=1) with seed sample_seed(params.seed, sample index,
prompt), so sample i is reproducible alone (resume) and identical across batchings.
Token ids are vLLM's: the EOS that ended a sample is counted; `text` is decoded with
skip_special_tokens (Qwen3's `</think>` is not a special token and stays in the text).
vLLM's attention needs head_dim in {32, 64, 96, 128, ...}.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from evals.backends.base import Completion, SamplingParams
from evals.backends.seeding import resolve_indices, sample_seed

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


class VLLMBackend:
    name = "vllm"
    supports_sample_indices = True

    def __init__(self, model: str, *, dtype: str = "auto", seed: int = 0, batch_size: int = 512,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, **engine_kwargs):
        vllm = import_vllm()
        self._vllm = vllm
        self.batch_size = batch_size  # samples per generate() call from the runner
        self.llm = vllm.LLM(model=model, dtype=dtype, seed=seed, worker_extension_cls=WORKER_EXTENSION,
                            enable_prefix_caching=True, gpu_memory_utilization=gpu_memory_utilization,
                            max_model_len=max_model_len, **engine_kwargs)
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
            result[pi].append(Completion(text=o.text, token_ids=tuple(o.token_ids),
                                         finish_reason="length" if o.finish_reason == "length" else "stop",
                                         meta={"sample_seed": seed}))
        return result

    def _rpc(self, method: str, *args):
        return self.llm.collective_rpc(method, args=args)

    def swap_weights(self, named_tensors: Mapping | Sequence, *, verify: bool = True,
                     shard_bytes: int = 2 << 30) -> int:
        """Replace weights in the running engine (HF tensor names); returns tensors sent."""
        from safetensors.torch import save_file

        items = list(named_tensors.items() if isinstance(named_tensors, Mapping) else named_tensors)
        shm = Path("/dev/shm")
        sent = 0
        with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
            shard, size = {}, 0
            for name, t in items + [(None, None)]:
                if name is not None:
                    shard[name] = t.detach().to("cpu").contiguous()
                    size += t.numel() * t.element_size()
                if shard and (name is None or size >= shard_bytes):
                    path = Path(tmp) / f"shard{sent}.safetensors"
                    save_file(shard, str(path))
                    self._rpc("spectrum_load_file", str(path))
                    path.unlink()
                    sent += len(shard)
                    shard, size = {}, 0
        self.llm.reset_prefix_cache()  # KV blocks of the old weights must never be reused
        if verify:
            self.verify_swap(dict(items))
        return sent

    def swap_weights_from_dir(self, path: str | Path, *, verify: bool = True) -> int:
        """Load every *.safetensors file of a checkpoint folder into the running engine."""
        from safetensors.torch import load_file

        files = sorted(Path(path).glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"{path}: no *.safetensors files to load into the engine")
        n = sum(self._rpc("spectrum_load_file", str(f.resolve()))[0] for f in files)
        self.llm.reset_prefix_cache()
        if verify:
            self.verify_swap(load_file(str(files[0])))
        return n

    def probe_checksums(self, names: Sequence[str]) -> list[dict]:
        """Per worker: name -> (sum, dtype, shape) of the engine's live parameters."""
        return self._rpc("spectrum_checksums", list(names))

    def verify_swap(self, sent: Mapping) -> None:
        """Check the engine now holds the sent RMSNorm weights (replicated and unfused, so
        comparable across tensor-parallel workers); raise if any differs."""
        import torch

        names = [n for n in sent if n.endswith("norm.weight")]
        if not names:
            return  # nothing comparable was sent
        for worker in self.probe_checksums(names):
            for n, (total, dtype, _shape) in worker.items():
                expected = float(sent[n].to(getattr(torch, dtype)).double().sum())
                if abs(total - expected) > 1e-3 * max(1.0, abs(expected)):
                    raise RuntimeError(f"weight swap did not take effect for {n!r}: engine sum {total}, sent {expected}")
