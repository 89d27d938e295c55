"""Sweep configs: a config naming its own pair gets the real study's defaults (never the tiny
preset by accident), presets are named, and a typo or wrong type at any depth is one line."""
from pathlib import Path

import pytest

from evals.sweep.config import SweepConfig
from evals.sweep.presets import STUDY, get_preset

pytestmark = pytest.mark.fast

OWN = {"name": "mine", "direct": "/m/instruct", "think": "/m/thinking", "base": "/m/base"}


def test_own_pair_gets_the_real_study_defaults():
    cfg = SweepConfig.from_mapping({"pairs": [OWN]})
    paper = get_preset("qwen3-4b")
    assert cfg.defaults == STUDY and cfg.pairs[0].name == "mine"
    assert cfg.benchmarks == ("aime24", "aime25", "hmmt25", "gpqa_diamond")
    s = cfg.sampling
    assert (s.temperature, s.top_p, s.top_k, s.max_new_tokens) == (0.6, 0.95, 20, 39512)
    assert [cfg.params_for(b).n for b in cfg.benchmarks] == [10, 10, 10, 2]
    assert (cfg.device, cfg.dtype, cfg.threads, cfg.results) == ("cuda", "bfloat16", None, "results/mine.jsonl")
    assert cfg.methods == paper.methods and cfg.lams == paper.lams
    line = cfg.describe_defaults()
    assert line.startswith("defaults: the real study's (mine)") and "max_new_tokens=39512" in line


@pytest.mark.parametrize("path,defaults,threads,results", [
    ("configs/qwen3-4b.yaml", STUDY, None, "results/qwen3-4b.jsonl"),
    ("configs/qwen3-30b-a3b.yaml", STUDY, None, "results/qwen3-30b-a3b.jsonl"),
    ("configs/tiny.yaml", "tiny", 1, "results/tiny.jsonl"),
])
def test_shipped_configs(path, defaults, threads, results):
    cfg = SweepConfig.from_yaml(path)
    assert (cfg.defaults, cfg.threads, cfg.results) == (defaults, threads, results)
    assert (cfg.device == "cpu") == (defaults == "tiny")


def test_a_single_own_pair_under_pair():
    cfg = SweepConfig.from_mapping({"pair": OWN})
    assert cfg.defaults == STUDY and cfg.results == "results/mine.jsonl"
    with pytest.raises(ValueError, match=r"unknown key pair\.thnik; known keys of pair: base, direct"):
        SweepConfig.from_mapping({"pair": {**OWN, "thnik": "/t"}})


def test_a_named_preset_gives_its_defaults_to_an_own_pair():
    cfg = SweepConfig.from_mapping({"pairs": [OWN], "preset": "tiny"})
    assert cfg.defaults == "tiny" and cfg.benchmarks == ("synthetic",) and cfg.sampling.max_new_tokens == 48
    assert cfg.results == "results/mine.jsonl"  # named after the pair, not the preset


def test_pair_preset_name_keeps_its_preset():
    cfg = SweepConfig.from_mapping({"pair": "qwen3-4b", "device": "cpu"})
    assert cfg.defaults == "qwen3-4b" and cfg.device == "cpu" and cfg.results == "results/qwen3-4b.jsonl"


@pytest.mark.parametrize("raw,message", [
    ({"pairs": [OWN], "sampling": {"temprature": 0.6}},
     "unknown key sampling.temprature; known keys of sampling: max_new_tokens, n, seed, stop, temperature"),
    ({"pairs": [OWN], "sampling": {"temperature": "hot"}}, "sampling.temperature must be a number, got 'hot'"),
    ({"pairs": [OWN], "sampling": {"max_new_tokens": 1.5}}, "sampling.max_new_tokens must be an integer"),
    ({"pairs": [OWN], "samples": {"aime24": "ten"}}, "samples.aime24 must be an integer, got 'ten'"),
    ({"pairs": [OWN], "lams": [0.1, "x"]}, "lams[1] must be a number"),
    ({"pairs": [OWN], "batch_size": True}, "batch_size must be an integer, got True (bool)"),
    ({"pairs": [OWN], "limit": "5"}, "limit must be an integer or null"),
    ({"pairs": [OWN], "merge_cache": "yes"}, "merge_cache must be true or false or null"),
    ({"pairs": [OWN], "engine": {"enforce_eager": "maybe"}}, "engine.enforce_eager must be true or false"),
    ({"pairs": [{**OWN, "bsae": "/m/b"}]}, "unknown key pairs[0].bsae; known keys of pairs[0]: base, direct"),
    ({"pairs": [{"name": "x", "direct": "/d"}]}, "pairs[0] lacks think"),
    ({"pairs": [OWN], "devcie": "cpu"}, "unknown key devcie; known keys: adaptive, backend, batch_size"),
    ({"pairs": [OWN], "preset": "qwen3"}, "preset 'qwen3' unknown; choose study"),
    ({"methods": ["linear"]}, "no pair; give pair: NAME (a preset: tiny, overthink"),
])
def test_typos_and_wrong_types_are_one_line(raw, message):
    with pytest.raises(ValueError) as err:
        SweepConfig.from_mapping(raw, where="c.yaml")
    text = str(err.value)
    assert text.startswith("c.yaml: ") and message in text and "\n" not in text


@pytest.mark.parametrize("path", sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")))
def test_every_shipped_config_reads(path):
    cfg = SweepConfig.from_yaml(path)
    assert cfg.methods and cfg.lams and cfg.benchmarks
    if Path(path).name == "tiny-adaptive.yaml":  # the budget the README and docs/adaptive.md quote
        assert cfg.adaptive.max_tokens == 131877 and cfg.lams == (0.25, 0.5)
