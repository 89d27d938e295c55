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
    worker_extension = WORKER_EXTENSION  # qualified name of the class the workers mix in

    def __init__(self, model: str, *, dtype: str = "auto", seed: int = 0, batch_size: int = 512,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, **engine_kwargs):
        vllm = import_vllm()
        self._vllm = vllm
        self.batch_size = batch_size  # samples per generate() call from the runner
        self.llm = vllm.LLM(model=model, dtype=dtype, seed=seed, worker_extension_cls=self.worker_extension,
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

    def probe_checksums(self, names: Sequence[str]) -> list[dict]:
        """Per worker: name -> (sum, dtype, shape) of the engine's live parameters."""
        return self._rpc("spectrum_checksums", list(names))
