"""vLLM backend: pure parts always; the engine itself only where vLLM and CUDA exist."""
import importlib.util

import pytest

from evals.backends.base import SamplingParams
from evals.backends.vllm_backend import VLLMBackend, vllm_sampling_kwargs

HAVE_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.fast
@pytest.mark.parametrize("top_k, expect", [(0, -1), (-1, -1), (20, 20)])
def test_sampling_kwargs(top_k, expect):
    kw = vllm_sampling_kwargs(SamplingParams(temperature=0.6, top_p=0.95, top_k=top_k, max_new_tokens=99,
                                             n=10, stop=("###",)), seed=42)
    assert kw == dict(n=1, temperature=0.6, top_p=0.95, top_k=expect, max_tokens=99, seed=42, stop=["###"])


@pytest.mark.fast
@pytest.mark.skipif(HAVE_VLLM, reason="vLLM is installed; the import error path cannot be exercised")
def test_missing_vllm_says_what_to_install():
    with pytest.raises(ImportError, match="pip install"):
        VLLMBackend("any/model")
