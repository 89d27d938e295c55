"""vLLM engine settings: parsing, defaults, pass-through and the KV-cache check, against hand
computations on the published Qwen3-4B config (36 layers, 8 KV heads, head_dim 128)."""
import pytest

from evals.backends.vllm_settings import (ACTIVATION_RESERVE, check_kv_fits, engine_settings, kv_bytes_per_token,
                                          parse_engine_options)

pytestmark = pytest.mark.fast

QWEN3_4B = {"num_hidden_layers": 36, "num_key_value_heads": 8, "num_attention_heads": 32, "head_dim": 128,
            "hidden_size": 2560}


@pytest.mark.parametrize("items, want", [
    (["tensor_parallel_size=2"], {"tensor_parallel_size": 2}),
    (["enforce_eager=true", "gpu_memory_utilization=0.85"], {"enforce_eager": True, "gpu_memory_utilization": 0.85}),
    (["enforce_eager=0", "parents=host"], {"enforce_eager": False, "parents": "host"}),
    (["kv_cache_dtype=fp8"], {"kv_cache_dtype": "fp8"}),       # unknown keys pass through as given
])
def test_engine_options_parse_to_typed_values(items, want):
    assert parse_engine_options(items) == want


@pytest.mark.parametrize("items, words", [
    (["max_model_len"], "expected KEY=VALUE"), (["=3"], "expected KEY=VALUE"),
    (["tensor_parallel_size=two"], "is not an integer; e.g. tensor_parallel_size=8"),
    (["max_model_len=4.5"], "is not an integer"), (["gpu_memory_utilization=high"], "is not a number"),
    (["enforce_eager=maybe"], "is not true or false"),
])
def test_bad_engine_options_are_one_line(items, words):
    with pytest.raises(ValueError, match=words) as err:
        parse_engine_options(items)
    assert "\n" not in str(err.value) and "--engine" in str(err.value)


def test_max_model_len_defaults_to_longest_prompt_plus_new_tokens_and_options_win():
    s = engine_settings({"gpu_memory_utilization": 0.8, "enforce_eager": "true"}, ["gpu_memory_utilization=0.7"],
                        longest_prompt=1000, max_new_tokens=39512)
    assert s == {"gpu_memory_utilization": 0.7, "enforce_eager": True, "max_model_len": 40512}


@pytest.mark.parametrize("engine, words", [
    ({"max_model_len": 100}, "shorter than the longest prompt \\(50\\) plus max_new_tokens \\(64\\) = 114"),
    ({"gpu_memory_utilization": 1.5}, "must lie in \\(0, 1\\]"),
    ({"parents": "gpu"}, "choose one of"),
])
def test_bad_settings_are_refused(engine, words):
    with pytest.raises(ValueError, match=words):
        engine_settings(engine, longest_prompt=50, max_new_tokens=64)


@pytest.mark.parametrize("tp, want", [(1, 2 * 36 * 8 * 128 * 2), (2, 2 * 36 * 4 * 128 * 2), (16, 2 * 36 * 1 * 128 * 2)])
def test_kv_bytes_per_token_by_hand(tp, want):
    assert kv_bytes_per_token(QWEN3_4B, 2, tp) == want    # 147,456 B per token on one worker


def test_the_model_default_length_does_not_fit_and_the_message_says_what_to_change():
    # 262,144 tokens x 147,456 B = 38.7 GB; 0.9 x 40 GB - 8 GB - 2 GiB leaves 25.9 GB
    with pytest.raises(ValueError) as err:
        check_kv_fits(QWEN3_4B, {"max_model_len": 262144}, gpu_bytes=40e9, weight_bytes=8e9)
    fits = int((0.9 * 40e9 - 8e9 - ACTIVATION_RESERVE) // 147456)
    assert f"at most {fits}" in str(err.value) and "38.7 GB" in str(err.value) and "tensor_parallel_size" in str(err.value)


def test_sequences_that_fit_by_hand():
    n = check_kv_fits(QWEN3_4B, {"max_model_len": 40512}, gpu_bytes=80e9, weight_bytes=8e9)
    assert n == int((0.9 * 80e9 - 8e9 - ACTIVATION_RESERVE) // (147456 * 40512))   # 10 on an 80 GB GPU
