"""vLLM engine settings from a config's `engine:` mapping and `--engine KEY=VALUE` options,
with the defaults the study needs and a check, before any engine starts, that the KV cache
holds at least one full-length sequence.

Without `max_model_len` vLLM sizes everything for the model's own limit (262,144 tokens for
the 2507 checkpoints), whose KV cache alone can exceed the GPU; the study never needs more than
its longest prompt plus `max_new_tokens`, so that is the default here. Pure functions, no vLLM
import: the CLI, the pytest options and the CPU tests use this module.

    settings = engine_settings(config_engine, ["gpu_memory_utilization=0.8"],
                               longest_prompt=900, max_new_tokens=32768)
    check_kv_fits(model_config, settings, gpu_bytes=80e9, weight_bytes=8.0e9)
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
# the keys this project sets or passes through, with their types; other vllm.LLM keys pass as given
KEYS: dict[str, type] = {"max_model_len": int, "gpu_memory_utilization": float, "tensor_parallel_size": int,
                         "enforce_eager": bool, "max_num_seqs": int, "parents": str}
PARENTS = ("device", "host", "auto")
ACTIVATION_RESERVE = 2 << 30   # bytes vLLM's profiling run typically keeps for activations and graphs


def _convert(key: str, value: Any, source: str) -> Any:
    want = KEYS.get(key)
    if want is None or isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    text = str(value).strip().lower()
    try:
        if want is bool:
            return _BOOL[text]
        if want is int and isinstance(value, float) or want is int and "." in text:
            raise ValueError
        return want(text)
    except (KeyError, ValueError):
        kind, example = {bool: ("true or false", "true"), int: ("an integer", "8"), float: ("a number", "0.85")}[want]
        raise ValueError(f"{source}: {key}={value!r} is not {kind}; e.g. {key}={example}") from None


def parse_engine_options(items: Sequence[str], source: str = "--engine") -> dict[str, Any]:
    """`["tensor_parallel_size=2", "enforce_eager=true"]` -> typed dict (unknown keys as strings)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{source} {item!r}: expected KEY=VALUE, e.g. {source} max_model_len=40960")
        out[key] = _convert(key, value, source)
    return out


def engine_settings(config_engine: Mapping[str, Any] | None, options: Sequence[str] = (), *,
                    longest_prompt: int, max_new_tokens: int, source: str = "engine") -> dict[str, Any]:
    """The engine's keyword arguments: the config's `engine:`, overridden by `--engine` options,
    with `max_model_len` defaulting to longest_prompt + max_new_tokens."""
    settings = {k: _convert(k, v, source) for k, v in dict(config_engine or {}).items()}
    settings.update(parse_engine_options(options))
    settings.setdefault("max_model_len", int(longest_prompt) + int(max_new_tokens))
    need = int(longest_prompt) + int(max_new_tokens)
    if settings["max_model_len"] < need:
        raise ValueError(f"{source}: max_model_len={settings['max_model_len']} is shorter than the longest prompt "
                         f"({longest_prompt}) plus max_new_tokens ({max_new_tokens}) = {need}; raise it or drop it")
    util = settings.get("gpu_memory_utilization")
    if util is not None and not 0 < util <= 1:
        raise ValueError(f"{source}: gpu_memory_utilization={util} must lie in (0, 1], e.g. 0.9")
    if settings.get("parents", "auto") not in PARENTS:
        raise ValueError(f"{source}: parents={settings['parents']!r}; choose one of {PARENTS}")
    return settings


def kv_bytes_per_token(model_config: Mapping[str, Any], dtype_bytes: int = 2, tensor_parallel: int = 1) -> int:
    """K and V of every layer for one token on one worker: 2 x layers x KV heads x head_dim x bytes.
    KV heads are split over the workers (replicated when there are fewer heads than workers)."""
    heads = model_config["num_key_value_heads"]
    head_dim = model_config.get("head_dim") or model_config["hidden_size"] // model_config["num_attention_heads"]
    per_worker = max(1, heads // tensor_parallel)
    return 2 * model_config["num_hidden_layers"] * per_worker * head_dim * dtype_bytes


def check_kv_fits(model_config: Mapping[str, Any], settings: Mapping[str, Any], *, gpu_bytes: float,
                  weight_bytes: float, extra_bytes: float = 0.0, dtype_bytes: int = 2) -> int:
    """Sequences of full length (max_model_len) whose KV cache fits on each worker; ValueError
    naming the setting to change when not even one does. `weight_bytes`: the whole model's
    weights (split over tensor_parallel_size); `extra_bytes`: per-worker extras (parents)."""
    tp = int(settings.get("tensor_parallel_size", 1))
    util = float(settings.get("gpu_memory_utilization", 0.9))
    length = int(settings["max_model_len"])
    per_token = kv_bytes_per_token(model_config, dtype_bytes, tp)
    free = util * gpu_bytes - weight_bytes / tp - extra_bytes - ACTIVATION_RESERVE
    need = per_token * length
    if free >= need:
        return int(free // need)
    fits = int(max(free, 0) // per_token)
    gb = 1e9
    raise ValueError(
        f"engine: the KV cache of one {length}-token sequence needs {need / gb:.1f} GB per worker but "
        f"{max(free, 0) / gb:.1f} GB are left (gpu_memory_utilization={util} of {gpu_bytes / gb:.0f} GB, minus "
        f"{weight_bytes / tp / gb:.1f} GB weights, {extra_bytes / gb:.1f} GB parents, "
        f"{ACTIVATION_RESERVE / gb:.1f} GB activations); lower max_model_len to at most {fits}, raise "
        f"gpu_memory_utilization, put the parents on the host (parents=host) or raise tensor_parallel_size")


DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2}


def kv_dtype_bytes(dtype: str | None, model_config: Mapping[str, Any]) -> int:
    """Bytes per KV element: the engine's dtype, or for "auto" the checkpoint's own (2 if unsaid)."""
    name = dtype if dtype and dtype != "auto" else (model_config.get("torch_dtype") or model_config.get("dtype"))
    return DTYPE_BYTES.get(str(name).removeprefix("torch."), 2)


def longest_prompt_tokens(tokenizer, prompts) -> int:
    """Tokens of the longest rendered prompt (0 when there are none)."""
    return max((len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts), default=0)


def engine_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The vllm.LLM keyword arguments of `settings` (everything but this project's `parents`)."""
    return {k: v for k, v in settings.items() if k != "parents"}
