"""vLLM settings wired into the engine's construction, on CPU with a fake `vllm` module: the
config's `engine:` and `--engine` options reach vllm.LLM, max_model_len defaults to the longest
prompt plus max_new_tokens, the KV check runs before any engine starts, finish reasons are
recorded as vLLM gives them, and a refused prefix-cache reset stops the sweep."""
from __future__ import annotations

import argparse
import sys
import types

import pytest

from evals.backends.base import SamplingParams
from evals.backends.vllm_backend import VLLMBackend, prepare_engine
from evals.backends.vllm_inplace import VLLMMergeBackend
from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.runner import grade_completion
from evals.sweep.cli import add_parser
from evals.sweep.config import SweepConfig
from evals.sweep.loading import load_pair
from evals.sweep.presets import get_preset, tiny_dir
from evals.sweep.worker import prompt_sizing
from test_spectrum.options import sweep_config

pytestmark = pytest.mark.fast
GB = 10**9


class FakeLLM:
    instances: list = []
    finish = "stop"
    reset_returns = True

    def __init__(self, **kwargs):
        self.kwargs, self.rpcs = kwargs, []
        FakeLLM.instances.append(self)

    def get_tokenizer(self):
        return None

    def generate(self, prompts, params, use_tqdm=False):
        out = types.SimpleNamespace(text="so</think>\\boxed{2}", token_ids=[5, 6, 7], finish_reason=FakeLLM.finish)
        return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    def reset_prefix_cache(self):
        return FakeLLM.reset_returns

    def collective_rpc(self, method, args=()):
        self.rpcs.append((method, args))
        if method == "spectrum_open_parents":
            return [{"resident": args[1]}]
        return [{"sent": 3, "expected": {"w": 1.0}, "live": {"w": 1.0}}]


@pytest.fixture()
def fake_vllm(monkeypatch):
    mod = types.ModuleType("vllm")
    mod.LLM = FakeLLM
    mod.SamplingParams = lambda **kw: kw
    platforms = types.ModuleType("vllm.platforms")
    platforms.current_platform = types.SimpleNamespace(get_device_total_memory=lambda i: FakeLLM.gpu_bytes)
    monkeypatch.setitem(sys.modules, "vllm", mod)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    FakeLLM.instances, FakeLLM.finish, FakeLLM.reset_returns, FakeLLM.gpu_bytes = [], "stop", True, 80 * GB
    return FakeLLM


def _tiny_config(**engine) -> SweepConfig:
    return SweepConfig.from_preset("tiny", backend="vllm", limit=3, engine=engine)


@pytest.mark.parametrize("engine,want", [
    ({}, {"gpu_memory_utilization": None}),
    ({"tensor_parallel_size": 2, "enforce_eager": True, "gpu_memory_utilization": 0.5, "parents": "host"},
     {"tensor_parallel_size": 2, "enforce_eager": True, "gpu_memory_utilization": 0.5}),
    ({"max_model_len": 4096, "max_num_seqs": 16, "parents": "device"}, {"max_model_len": 4096, "max_num_seqs": 16}),
])
def test_engine_settings_reach_vllm_llm(fake_vllm, char_tok, engine, want):
    cfg = _tiny_config(**engine)
    problems = {"synthetic": get_benchmark("synthetic").load(None)[:3]}
    sizing = prompt_sizing(cfg, problems)
    loaded = load_pair(cfg.pairs[0], backend="vllm", dtype=None, batch_size=8, engine=dict(cfg.engine),
                       sizing=sizing)
    (llm,) = fake_vllm.instances
    longest, new = sizing(loaded.tokenizers)
    assert new == cfg.sampling.max_new_tokens == 48 and 0 < longest < 200
    assert llm.kwargs["max_model_len"] == engine.get("max_model_len", longest + new)
    assert llm.kwargs["enable_prefix_caching"] is True and "parents" not in llm.kwargs
    for key, value in want.items():
        if value is None:  # planned from the GPU's size and the parents' bytes
            assert 0 < llm.kwargs[key] <= 0.9
        else:
            assert llm.kwargs[key] == value
    assert llm.rpcs[0][0] == "spectrum_open_parents"
    assert llm.rpcs[0][1][1] == engine.get("parents", "device")  # auto -> device when they fit


def test_kv_check_runs_before_the_engine_starts(fake_vllm):
    fake_vllm.gpu_bytes = int(2.5 * GB)  # 0.9 x 2.5 GB minus the 2 GiB activation reserve: ~0.1 GB left
    with pytest.raises(ValueError, match=r"lower max_model_len to at most \d+"):
        prepare_engine(tiny_dir() / "think", {"max_model_len": 262144, "gpu_memory_utilization": 0.9},
                       longest_prompt=100, max_new_tokens=48, dtype=None)
    assert fake_vllm.instances == []
    ok = prepare_engine(tiny_dir() / "think", {}, ["enforce_eager=true"], longest_prompt=100, max_new_tokens=48,
                        dtype=None, gpu_bytes=80 * GB)
    assert ok == {"max_model_len": 148, "enforce_eager": True}


@pytest.mark.parametrize("reason,truncated,correct", [("stop", False, True), ("length", True, False),
                                                      ("abort", False, False)])
def test_finish_reasons_are_recorded_as_vllm_gives_them(fake_vllm, reason, truncated, correct):
    fake_vllm.finish = reason
    backend = VLLMBackend("m", max_model_len=64)
    (comp,) = backend.generate(["p"], SamplingParams(max_new_tokens=8))[0]
    assert comp.finish_reason == reason
    fields = grade_completion(get_benchmark("aime24"), Problem("1", "1+1?", "2"), comp, None)
    assert (fields["finish_reason"], fields["truncated"], fields["correct"]) == (reason, truncated, correct)


@pytest.mark.parametrize("returns,fails", [(True, False), (None, False), (False, True)])
def test_a_refused_prefix_cache_reset_stops_the_swap(fake_vllm, returns, fails):
    fake_vllm.reset_returns = returns
    backend = VLLMMergeBackend("m", max_model_len=64)
    if fails:
        with pytest.raises(RuntimeError, match="refused to reset its prefix cache"):
            backend.apply_point({"role": "think"}, "think parent")
    else:
        assert backend.apply_point({"role": "think"}, "think parent")[0]["sent"] == 3


def test_sweep_cli_and_pytest_take_engine_options():
    sub = argparse.ArgumentParser().add_subparsers()
    add_parser(sub)
    args = sub.choices["sweep"].parse_args(["c.yaml", "--engine", "max_model_len=40960", "--engine",
                                            "tensor_parallel_size=2"])
    assert args.engine == ["max_model_len=40960", "tensor_parallel_size=2"]

    opts = {"--engine": ["enforce_eager=true", "gpu_memory_utilization=0.8"], "--data": []}
    pytest_config = types.SimpleNamespace(getoption=lambda name: opts.get(name))
    cfg = sweep_config(pytest_config, "tiny")
    assert dict(cfg.engine) == {"enforce_eager": True, "gpu_memory_utilization": 0.8}
    opts["--engine"] = ["enforce_eager=maybe"]
    with pytest.raises(pytest.UsageError, match="enforce_eager='maybe' is not true or false"):
        sweep_config(pytest_config, "tiny")
    assert get_preset("tiny").pair.name == "tiny"
