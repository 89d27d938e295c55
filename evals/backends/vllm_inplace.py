"""In-place lam sweeps on vLLM: one engine for the whole sweep, theta(lam) computed on the
workers' GPUs and written through the model's own `load_weights` (no disk round-trip).

    loaded = load_vllm_pair(pair, dirs, dtype="bfloat16", batch_size=512,
                            engine={"tensor_parallel_size": 1})
    loaded.merger("ties", {"density": 0.2}, seed=0).apply(0.6)   # swap + prefix-cache reset + probe
    evaluate(loaded.backend, loaded.tokenizers["think"], ...)

`spectrum sweep CONFIG.yaml` takes this path with `backend: vllm` (extra `engine:` keys go to
`vllm.LLM`; `parents: device|host|auto` says where the workers keep the parents). Memory:
with the parents on the GPU (`device`) each worker holds direct, think and base beside the
engine, so the engine is started with a smaller `gpu_memory_utilization` (see
`plan_gpu_memory`); when they do not fit (30B-A3B) they are read per tensor from the
safetensors files (`host`, shared page cache). A swap is refused (RuntimeError) unless every
worker's probe shows the live parameters hold exactly what the merge fed them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.backends.vllm_backend import VLLMBackend, prepare_engine, total_gpu_bytes
from evals.backends.vllm_names import mismatches
from evals.backends.vllm_settings import engine_settings
from evals.sweep.live import LoadedPair
from merging.checkpoint import open_checkpoint

MERGE_EXTENSION = "evals.backends.vllm_merge_worker.SpectrumMergeExtension"
GiB = 1 << 30


def plan_gpu_memory(total: int, model_bytes: int, parents_bytes: int, *, ceiling: float = 0.9,
                    min_kv: int | None = None) -> tuple[float, str]:
    """(gpu_memory_utilization for vLLM, where the parents live: 'device' or 'host').

    vLLM claims `utilization * total` for its weights and KV cache at startup; parents kept on
    the GPU (plus 2 GiB and 5% for the merge's float32 temporaries) must fit beside that, and
    the KV cache must keep at least `min_kv` (default: 10% of the GPU, at least 4 GiB)."""
    min_kv = min_kv if min_kv is not None else max(int(0.1 * total), 4 * GiB)
    reserve = parents_bytes + 2 * GiB + int(0.05 * total)
    engine = ceiling * total - reserve
    if engine >= model_bytes + min_kv:
        return round(engine / total, 3), "device"
    return ceiling, "host"


def check_replies(replies: list[dict], what: str) -> None:
    """Raise RuntimeError naming the worker and parameter when a swap did not take effect."""
    if not replies:
        raise RuntimeError(f"{what}: no vLLM worker answered the weight swap")
    for rank, r in enumerate(replies):
        if not r.get("sent"):
            raise RuntimeError(f"{what}: worker {rank} loaded no tensors")
        if not r.get("expected"):
            raise RuntimeError(f"{what}: worker {rank} had nothing to probe (no RMSNorm weights among "
                               "the checkpoint tensors?); cannot prove the swap took effect")
        if r.get("layout"):
            raise RuntimeError(f"{what}: refused on worker {rank}: " + "; ".join(r["layout"][:2]))
        bad = mismatches(r["expected"], r.get("live", {}))
        if bad:
            raise RuntimeError(f"{what}: weight swap did not take effect on worker {rank}: " + "; ".join(bad[:3]))


class VLLMMergeBackend(VLLMBackend):
    """VLLMBackend whose workers carry the merge extension (same engine settings)."""

    worker_extension = MERGE_EXTENSION

    def __init__(self, model: str, **kwargs):
        super().__init__(model, **kwargs)
        self.last_swap: list[dict] = []

    def open_parents(self, sources: dict[str, str], resident: str = "auto") -> list[dict]:
        return self._rpc("spectrum_open_parents", sources, resident)

    def apply_point(self, point: dict, what: str) -> list[dict]:
        replies = self._rpc("spectrum_apply", point)
        self.reset_prefix_cache()  # KV blocks computed with the old weights must never be reused
        check_replies(replies, what)
        self.last_swap = replies
        return replies


class _EnginePoint:
    """`apply(lam)` for one method (or one parent) on the engine, like InPlaceMerger's."""

    def __init__(self, backend: VLLMMergeBackend, point: dict, what: str):
        self.backend, self.point, self.what = backend, point, what

    def apply(self, lam: float) -> None:
        point = dict(self.point) if "role" in self.point else {**self.point, "lam": float(lam)}
        self.backend.apply_point(point, f"{self.what} lam={lam:g}")


@dataclass
class VLLMLoadedPair(LoadedPair):
    """LoadedPair whose parents live on the vLLM workers (`sd` stays empty in the driver)."""

    engine_info: list = field(default_factory=list)  # per worker: where the parents live, bytes

    def loader(self, role: str) -> _EnginePoint:
        return _EnginePoint(self.backend, {"role": role}, f"{role} parent")

    def merger(self, method: str, params: dict, seed: int, cache: bool | None = None) -> _EnginePoint:
        return _EnginePoint(self.backend, {"method": method, "params": dict(params), "seed": seed,
                                           "cache": cache}, method)


def load_vllm_pair(pair, dirs: dict[str, Path], *, dtype: str | None, batch_size: int, fingerprints: dict,
                   tokenizers: dict, engine: dict | None = None, sizing=None):
    """Start one engine on the thinking parent and hand the workers the parents' directories.
    `sizing(tokenizers) -> (longest prompt tokens, max_new_tokens)` sets the default
    max_model_len; the KV cache of one such sequence must fit (checked before starting)."""
    longest, new_tokens = sizing(tokenizers) if sizing is not None else (0, 0)
    if sizing is None and "max_model_len" not in (engine or {}):
        raise ValueError("engine: give max_model_len (or a sizing) so vLLM does not size for the model's own limit")
    engine = engine_settings(engine, longest_prompt=longest, max_new_tokens=new_tokens)
    resident = engine.pop("parents", "auto")
    if "gpu_memory_utilization" not in engine and resident != "host":
        sizes = {role: sum(i.nbytes for i in open_checkpoint(d).tensors.values()) for role, d in dirs.items()}
        util, where = plan_gpu_memory(total_gpu_bytes(), sizes["think"], sum(sizes.values()))
        engine["gpu_memory_utilization"] = util
        resident = where if resident == "auto" else resident
    # the planned utilisation already leaves the parents' bytes outside the engine's share
    engine = prepare_engine(dirs["think"], engine, longest_prompt=longest, max_new_tokens=new_tokens, dtype=dtype)
    backend = VLLMMergeBackend(str(dirs["think"]), dtype=dtype or "auto", batch_size=batch_size, **engine)
    info = backend.open_parents({role: str(d) for role, d in dirs.items()}, resident)
    return VLLMLoadedPair(backend, tokenizers, {}, fingerprints, engine_info=info)
