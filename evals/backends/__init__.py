"""Generation backends: transformers (CPU/CUDA), vLLM (optional), and a scripted fake."""
from evals.backends.base import Backend, Completion, SamplingParams

__all__ = ["Backend", "Completion", "SamplingParams"]
