"""vLLM backend: pure parts always; the engine itself only where vLLM and CUDA exist."""
import importlib.util

import pytest

from evals.backends.base import SamplingParams
from evals.backends.vllm_backend import VLLMBackend, vllm_sampling_kwargs
from evals.tests.tiny_lm import char_tokenizer

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


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_VLLM, reason="needs vLLM and a CUDA GPU: pip install 'thinking-spectrum[gpu]'")
def test_swap_weights_takes_effect(tmp_path):
    """Swap a tiny Qwen3's norm weights in a live engine; the probe and greedy output follow."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tok = char_tokenizer()
    cfg = Qwen3Config(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=64, max_position_embeddings=512,
                      tie_word_embeddings=True, eos_token_id=tok.eos_token_id, initializer_range=0.3)
    torch.manual_seed(0)
    Qwen3ForCausalLM(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    be = VLLMBackend(str(tmp_path), dtype="float32", gpu_memory_utilization=0.3, max_model_len=512)
    p = SamplingParams(max_new_tokens=16)
    before = be.generate(["hello"], p)[0][0].token_ids
    torch.manual_seed(1)
    other = Qwen3ForCausalLM(cfg).state_dict()
    other["model.norm.weight"] = torch.full_like(other["model.norm.weight"], 3.0)
    be.swap_weights(other)  # raises if the probe disagrees
    (sums,) = be.probe_checksums(["model.norm.weight"])
    assert sums["model.norm.weight"][0] == pytest.approx(3.0 * 128)
    assert be.generate(["hello"], p)[0][0].token_ids != before
