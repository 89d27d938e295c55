"""vLLM worker extension: runs INSIDE each vLLM worker process (pass its qualified name as
`worker_extension_cls`). Methods are called from the driver through
`LLM.collective_rpc(name, args=...)` and act on `self.model_runner.model`, the live model.
In-place merging adds its own methods (`evals.backends.vllm_merge_worker`).
No vLLM import here: the module must import cleanly in the driver too.
"""
from __future__ import annotations


class SpectrumWorkerExtension:
    def spectrum_checksums(self, names: list[str]) -> dict:
        """name -> (float64 sum, dtype, shape) for the named parameters this worker holds."""
        params = dict(self.model_runner.model.named_parameters())
        return {n: (float(params[n].double().sum()), str(params[n].dtype).replace("torch.", ""), list(params[n].shape))
                for n in names if n in params}
