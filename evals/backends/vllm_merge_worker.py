"""vLLM worker extension for in-place lam sweeps: runs INSIDE each vLLM worker process.

The driver (`evals.backends.vllm_inplace`) calls, through `LLM.collective_rpc`:

    spectrum_open_parents({"direct": dir, "think": dir, "base": dir}, "auto")  # once per sweep
    spectrum_apply({"method": "ties", "params": {...}, "seed": 0, "lam": 0.6, "cache": None})
    spectrum_apply({"role": "direct"})                                            # a parent point

Each worker holds the parents itself (on its GPU, or read per tensor from the safetensors
files through the page cache when they do not fit), computes theta(lam) one tensor at a time
with the registry's operators (`merging.feed`) and feeds the (checkpoint name,
tensor) pairs straight into `model_runner.model.load_weights`, which maps them onto vLLM's
fused and sharded parameters exactly as at startup. Nothing touches the disk or the RPC
channel but the small dicts above. The driver resets the prefix cache after every swap.

Probe: while feeding, the worker sums (float64) the tensors bound for the parameters of
`vllm_names.probe_plan` (every RMSNorm weight; with one worker also layer 0's projections,
fused ones and the stacked MoE experts included); after `load_weights` it sums the live
parameters. A sum cannot see a re-layout, so expert 0 of the first MoE layer is also compared
element by element (`vllm_names.layout_problems`): some MoE kernels re-lay out expert weights in
`process_weights_after_loading` at startup, which a swap through `load_weights` would not redo;
such a kernel is refused with that reason. The reply carries all of it; the driver refuses
the point unless everything agrees. No vLLM import at module level.
"""
from __future__ import annotations

import time

import torch

from evals.backends.vllm_names import expected_sums, layout_problems, layout_witnesses, probe_plan
from evals.backends.vllm_worker import SpectrumWorkerExtension
from merging.checkpoint import open_checkpoint
from merging.feed import TensorMerger, cache_bytes
from merging.parents import ParentTensors, parent_tensors


def _tensor_parallel_size() -> int:
    try:
        from vllm.distributed import get_tensor_model_parallel_world_size

        return int(get_tensor_model_parallel_world_size())
    except Exception:  # not inside an initialised vLLM worker (unit use): no sharding
        return 1


class SpectrumMergeExtension(SpectrumWorkerExtension):
    def _spectrum_model(self):
        """The live model: `model_runner.model` (vLLM's RLHF examples), or the worker's
        `get_model()` where a wrapper (CUDA graphs, compilation) hides `load_weights`."""
        model = self.model_runner.model
        if not hasattr(model, "load_weights") and hasattr(self, "get_model"):
            model = self.get_model()
        return model

    def spectrum_open_parents(self, sources: dict, resident: str = "auto") -> dict:
        model = self._spectrum_model()
        device = next(model.parameters()).device
        if resident == "auto":
            need = sum(i.nbytes for src in sources.values() for i in open_checkpoint(src).tensors.values())
            free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else 0
            resident = "device" if need < 0.85 * free else "host"
        self._spectrum_parents = ParentTensors(sources, device=device, resident=resident)
        self._spectrum_merger = None
        self._spectrum_key = None
        return {"resident": resident, "bytes": self._spectrum_parents.nbytes(), "device": str(device),
                "tensors": len(self._spectrum_parents.names)}

    def _spectrum_feed(self, point: dict):
        parents = self._spectrum_parents
        dtype = next(self._spectrum_model().parameters()).dtype
        if "role" in point:
            return parent_tensors(parents, point["role"], dtype), {}
        key = (point["method"], repr(sorted(point.get("params", {}).items())), point.get("seed", 0))
        if self._spectrum_key != key:
            self._spectrum_merger = None  # one method's prepared states at a time
            if parents.device.type == "cuda":
                torch.cuda.empty_cache()
            method, params, seed = point["method"], point.get("params"), point.get("seed", 0)
            cache = point.get("cache")
            if cache is None:
                free = torch.cuda.mem_get_info(parents.device)[0] if parents.device.type == "cuda" else float("inf")
                cache = cache_bytes(parents, method, params, seed) < 0.5 * free
            merger = TensorMerger(parents, method, params, seed=seed, cache=bool(cache))
            self._spectrum_merger, self._spectrum_key = merger, key
        merger = self._spectrum_merger
        return merger.tensors(point["lam"], dtype), {"cache": merger.cache, "stats": merger.run.stats_record()}

    def spectrum_apply(self, point: dict) -> dict:
        """Write one sweep point into the live model; returns the probe's sums."""
        t0 = time.perf_counter()
        model = self._spectrum_model()
        feed, info = self._spectrum_feed(point)
        names, tp = self._spectrum_parents.names, _tensor_parallel_size()
        plan, witnesses = probe_plan(names, tensor_parallel=tp), layout_witnesses(names, tensor_parallel=tp)
        watched = {n for parts in plan.values() for n in parts}
        fed: dict[str, float] = {}
        kept: dict[str, torch.Tensor] = {}   # one expert's tensors (MB): the layout check
        count = 0

        def tapped():
            nonlocal count
            for name, tensor in feed:
                if name in watched:
                    fed[name] = float(tensor.double().sum())
                if name in witnesses:
                    kept[name] = tensor.detach().clone()
                count += 1
                yield name, tensor

        with torch.no_grad():
            model.load_weights(weights=tapped())
        params = dict(model.named_parameters())
        live = {p: float(params[p].double().sum()) for p in plan if p in params}
        return {"sent": count, "expected": expected_sums(plan, fed), "live": live,
                "layout": layout_problems(params, kept, witnesses), "seconds": time.perf_counter() - t0, **info}
