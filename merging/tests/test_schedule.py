"""Strength schedules (merging/schedule.py): rules by hand, layer curves in closed form,
labels and fingerprints, bad input, and every method merged at each tensor's own strength."""
from __future__ import annotations

import argparse
import hashlib
import json

import pytest
import torch

from merging.checkpoint import load_state_dict
from merging.cli import add_parser
from merging.engine import merge
from merging.registry import get_method, list_methods
from merging.schedule import Schedule

pytestmark = pytest.mark.fast

NAMES = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight",
         "model.layers.2.self_attn.o_proj.weight", "model.layers.3.mlp.down_proj.weight", "model.norm.weight"]
EXAMPLE = {"default": 0.5, "self_attn": 0.8, "layers\\.(0|1|2)\\.": 0.2}


def test_first_matching_rule_wins_else_default():
    s = Schedule.parse(EXAMPLE)
    got = {n: s.value(n) for n in NAMES}
    assert got[NAMES[0]] == (0.5, "default")
    assert got[NAMES[1]] == (0.8, "rule 'self_attn'")  # layer 0, but self_attn comes first
    assert got[NAMES[2]] == (0.2, "rule 'layers\\\\.(0|1|2)\\\\.'")
    assert got[NAMES[3]][0] == 0.8 and got[NAMES[4]] == (0.5, "default")
    assert s.strength(NAMES[2], 0.5) == 0.1 and s(NAMES[0], 1.0) == 0.5  # lam scales v(name)


@pytest.mark.parametrize("text", [
    json.dumps(EXAMPLE),
    'default: 0.5\nrules:\n  - self_attn: 0.8\n  - "layers\\\\.(0|1|2)\\\\.": 0.2\n',
    '{default: 0.5, "self_attn": 0.8, "layers\\\\.(0|1|2)\\\\.": 0.2}',  # YAML flow, as the issue writes it
])
def test_every_form_parses_to_the_same_schedule(text, tmp_path):
    ref = Schedule.parse(EXAMPLE)
    assert Schedule.parse(text) == ref
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert Schedule.parse(str(path)) == ref and Schedule.parse(path).fingerprint() == ref.fingerprint()
    assert Schedule.parse(ref.describe()) == ref


@pytest.mark.parametrize("layer,expect", [(0, 0.3), (1, 0.45), (2, 0.6), (4, 0.9)])
def test_linear_layer_curve(layer, expect):
    s = Schedule.parse({"lam_layers": "linear(0.3, 0.9)", "default": 1.0}, num_layers=5)
    v, rule = s.value(f"model.layers.{layer}.mlp.up_proj.weight")
    assert v == pytest.approx(expect, abs=1e-15) and rule == f"lam_layers at layer {layer}"
    assert s.value("model.embed_tokens.weight") == (1.0, "default")
    assert s.value("model.layers.40.mlp.gate.weight")[0] == pytest.approx(0.3 + 0.6 * 10)  # past the end: the line


def test_rules_before_curve_and_listed_values():
    s = Schedule.parse({"mlp": 0.0, "lam_layers": [0.1, 0.2, 0.3]})
    assert s.value("model.layers.1.mlp.up_proj.weight") == (0.0, "rule 'mlp'")
    assert s.value("model.layers.2.self_attn.k_proj.weight") == (0.3, "lam_layers at layer 2")
    assert s.value("lm_head.weight") == (1.0, "default")  # default unwritten: follow lam


def test_label_and_fingerprint_are_stable_and_distinguish():
    s = Schedule.parse(EXAMPLE)
    assert s.label == "sched(self_attn=0.8; layers\\.(0|1|2)\\.=0.2; default=0.5)"
    blob = json.dumps([1, {"rules": [{"self_attn": 0.8}, {"layers\\.(0|1|2)\\.": 0.2}], "default": 0.5}],
                      sort_keys=True, separators=(",", ":"))
    assert s.fingerprint() == hashlib.sha256(blob.encode()).hexdigest()[:12]
    changed = [Schedule.parse({**EXAMPLE, "default": 0.6}),
               Schedule.parse({"default": 0.5, "layers\\.(0|1|2)\\.": 0.2, "self_attn": 0.8}),  # order matters
               Schedule.parse({**EXAMPLE, "lam_layers": "linear(0.3, 0.9)"}, num_layers=28)]
    assert len({s.fingerprint(), *(c.fingerprint() for c in changed)}) == 4
    curve = Schedule.parse({"lam_layers": "linear(0.3, 0.9)"}, num_layers=28)
    assert curve.label == "sched(layers=linear(0.3,0.9); default=1)"
    assert curve.fingerprint() != curve.with_layers(36).fingerprint()


@pytest.mark.parametrize("value,message", [
    ({"self_attn(": 0.5}, "not a valid regular expression"),
    ({"lam_layers": "cubic(1, 2)"}, "not linear(a, b)"),
    ({"self_attn": "high"}, "rule 'self_attn' must be a number"),
    ({"default": float("nan")}, "finite"),
    ({"rules": {"a": 1}}, "rules must be a list"),
    ({"num_layers": 0, "lam_layers": "linear(0, 1)"}, "num_layers must be a positive integer"),
    ("[1, 2]", "a schedule is a mapping"),
    ("no/such/file.yaml", "no such file"),
])
def test_bad_schedules_say_what_to_fix(value, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        Schedule.parse(value)


def test_check_refuses_dead_rules_curves_without_layers_and_extrapolation():
    with pytest.raises(ValueError, match="rule 'self_atn' matches no tensor"):
        Schedule.parse({"self_atn": 0.5}).check(NAMES)
    with pytest.raises(ValueError, match="needs the model's layer count"):
        Schedule.parse({"lam_layers": "linear(0, 1)"}).check(NAMES)
    with pytest.raises(ValueError, match="strength 1.6 at lam 2"):
        Schedule.parse(EXAMPLE).check(NAMES, lams=[0.5, 2.0])
    Schedule.parse(EXAMPLE).check(NAMES, lams=[2.0], allow_extrapolation=True)
    with pytest.raises(ValueError, match="lists 3 values but the model has 4 layers"):
        Schedule.parse({"lam_layers": [0.1, 0.2, 0.3]}, num_layers=4)


@pytest.mark.parametrize("method", list_methods())
def test_every_method_merges_each_tensor_at_its_own_strength(tied_bf16, tmp_path, method):
    """attention stays at lam 0 (the direct side of the method), the rest at the point's lam:
    tensor for tensor, the plain merges at those two strengths."""
    base = tied_bf16["base"] if get_method(method).needs_base else None
    d, t = tied_bf16["direct"], tied_bf16["think"]
    schedule = Schedule.parse({"self_attn": 0.0})
    (scheduled,) = merge(method, d, t, base, lams=[0.6], outs=[tmp_path / "s"], strength=schedule, progress=False)
    plain = [load_state_dict(merge(method, d, t, base, lams=[lam], outs=[tmp_path / str(lam)], progress=False)[0])
             for lam in (0.0, 0.6)]
    merged = load_state_dict(scheduled)
    assert any("self_attn" in n for n in merged)
    for name, tensor in merged.items():
        assert torch.equal(tensor, plain[0 if "self_attn" in name else 1][name]), name
    record = json.loads((scheduled / "merge_provenance.json").read_text())["strength"]
    assert record["label"] == schedule.label and record["fingerprint"] == schedule.fingerprint()
    q = record["tensors"]["model.layers.0.self_attn.q_proj.weight"]
    assert q == {"rule": "rule 'self_attn'", "strength": 0.0}
    assert record["tensors"]["model.norm.weight"] == {"rule": "default", "strength": 0.6}


def test_cli_lam_schedule_reads_the_layer_count_from_the_config(tied_bf16, tmp_path):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    out = tmp_path / "m"
    args = parser.parse_args(["merge", "--method", "linear", "--direct", str(tied_bf16["direct"]), "--think",
                              str(tied_bf16["think"]), "--lam", "1", "--out", str(out), "--no-progress",
                              "--lam-schedule", '{"lam_layers": "linear(0.25, 0.75)", "default": 0}'])
    assert args.func(args) == 0
    tensors = json.loads((out / "merge_provenance.json").read_text())["strength"]["tensors"]
    assert tensors["model.layers.0.mlp.up_proj.weight"]["strength"] == 0.25  # 2 layers: first and last
    assert tensors["model.layers.1.mlp.up_proj.weight"]["strength"] == 0.75
    assert tensors["model.embed_tokens.weight"] == {"rule": "default", "strength": 0.0}
    merged, direct = load_state_dict(out), load_state_dict(tied_bf16["direct"])
    assert torch.equal(merged["model.embed_tokens.weight"], direct["model.embed_tokens.weight"])
    bad = parser.parse_args(["merge", "--method", "linear", "--direct", str(tied_bf16["direct"]), "--think",
                             str(tied_bf16["think"]), "--lam", "1", "--out", str(tmp_path / "x"),
                             "--lam-schedule", '{"self_atn": 0.5}'])
    with pytest.raises(ValueError, match="matches no tensor of --think"):
        bad.func(bad)
    assert not (tmp_path / "x").exists()


def test_config_file_takes_a_schedule_mapping(tied_bf16, tmp_path):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    config = tmp_path / "merge.yaml"
    out = tmp_path / "m"
    config.write_text(f"method: linear\ndirect: {tied_bf16['direct']}\nthink: {tied_bf16['think']}\n"
                      f"lam: 0.8\nout: {out}\nlam_schedule:\n  mlp: 1.5\n  default: 0.5\n")
    args = parser.parse_args(["merge", "--config", str(config), "--no-progress"])
    with pytest.raises(ValueError, match=r"\(rule 'mlp'\) gets strength 1.2 at lam 0.8.*--allow-extrapolation"):
        args.func(args)
    assert not out.exists()
    args = parser.parse_args(["merge", "--config", str(config), "--no-progress", "--allow-extrapolation"])
    assert args.func(args) == 0
    tensors = json.loads((out / "merge_provenance.json").read_text())["strength"]["tensors"]
    assert tensors["model.layers.1.mlp.down_proj.weight"] == {"rule": "rule 'mlp'", "strength": 0.8 * 1.5}
    assert tensors["model.embed_tokens.weight"] == {"rule": "default", "strength": 0.8 * 0.5}
