"""vLLM worker extension: runs INSIDE each vLLM worker process (pass its qualified name as
`worker_extension_cls`). Methods are called from the driver through
`LLM.collective_rpc(name, args=...)` and act on `self.model_runner.model`, the live model.

Weights travel as safetensors files (a path is the only argument), which works with
every executor (in-process, multiprocess, Ray) and keeps tensors out of the RPC channel.
`load_weights` goes through the model's own loader, so HF names map onto vLLM's fused
layers (qkv_proj, gate_up_proj, MoE experts) and tensor-parallel shards as at startup.
No vLLM import here: the module must import cleanly in the driver too.
"""
from __future__ import annotations


class SpectrumWorkerExtension:
    def spectrum_load_file(self, path: str) -> int:
        from safetensors.torch import load_file

        weights = load_file(path)
        self.model_runner.model.load_weights(weights=list(weights.items()))
        return len(weights)

    def spectrum_checksums(self, names: list[str]) -> dict:
        """name -> (float64 sum, dtype, shape) for the named parameters this worker holds."""
        params = dict(self.model_runner.model.named_parameters())
        return {n: (float(params[n].double().sum()), str(params[n].dtype).replace("torch.", ""), list(params[n].shape))
                for n in names if n in params}
