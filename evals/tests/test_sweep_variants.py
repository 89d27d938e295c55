"""Sweep configs with strength schedules and paper_compat: the YAML form, one-line errors for
bad input, tagged labels, and model fingerprints that never let a variant share records with
the plain method (while plain fingerprints stay what they were)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evals.backends.base import SamplingParams
from evals.method_labels import method_base, method_params, method_variant, parse_method_label, variant_label
from evals.sweep.config import SweepConfig
from evals.sweep.plan import SWEEP_VERSION, SweepJob, SweepPlan, job_fingerprint, merge_fingerprint
from evals.sweep.presets import get_preset
from evals.sweep.variants import describe_variants, merge_meta, pair_schedules
from merging import registry
from merging.schedule import Schedule

pytestmark = pytest.mark.fast

SCHED = {"default": 0.5, "self_attn": 0.8}
FP = Schedule.parse(SCHED).fingerprint()


def test_method_entries_become_tagged_labels(tmp_path):
    path = tmp_path / "attn.yaml"
    path.write_text("self_attn: 0.8\ndefault: 0.5\n")  # the same schedule, written in a file
    cfg = SweepConfig.from_mapping({"pair": "tiny", "paper_compat": True, "methods": [
        "linear", {"method": "linear", "schedule": SCHED},
        {"method": "ties(density=0.5)", "schedule": str(path), "paper_compat": False},
        {"method": "slerp", "paper_compat": False}]})
    assert cfg.methods == ("linear[paper]", f"linear[sched:{FP},paper]", f"ties(density=0.5)[sched:{FP}]", "slerp")
    assert set(cfg.schedules) == {FP} and cfg.schedules[FP].rules == (("self_attn", 0.8),)
    assert cfg.paper_compat
    assert describe_variants(cfg) == {"paper_compat": f"linear[paper], linear[sched:{FP},paper]",
                                      f"schedule {FP}": "sched(self_attn=0.8; default=0.5)"}
    assert merge_meta(cfg, "slerp") is None
    assert merge_meta(cfg, cfg.methods[2]) == {
        "paper_compat": False, "schedule": {"fingerprint": FP, "label": "sched(self_attn=0.8; default=0.5)"}}


def test_global_paper_compat_tags_the_presets_methods():
    plain = SweepConfig.from_mapping({"pair": "tiny"})
    tagged = SweepConfig.from_mapping({"pair": "tiny", "paper_compat": True})
    assert tagged.methods == tuple(f"{m}[paper]" for m in plain.methods)
    assert SweepConfig.from_preset("tiny", paper_compat=True).methods == tagged.methods
    assert SweepConfig.from_preset("tiny", paper_compat=False).methods == plain.methods


def test_yaml_file_form(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("pair: tiny\nmethods:\n  - linear\n  - method: ties(density=0.2)\n"
                    "    schedule: {default: 0.5, self_attn: 0.8}\n    paper_compat: true\n")
    assert SweepConfig.from_yaml(path).methods == ("linear", f"ties(density=0.2)[sched:{FP},paper]")


@pytest.mark.parametrize("methods, extra, message", [
    ([{"method": "linear", "shedule": SCHED}], {}, "unknown key methods[0].shedule; known keys of methods[0]: "
                                                   "method, paper_compat, schedule"),
    ([{"schedule": SCHED}], {}, "methods[0] lacks method"),
    ([{"method": "linear", "schedule": 0.5}], {}, "methods[0].schedule must be a mapping or a string, got 0.5"),
    ([{"method": "linear", "paper_compat": "yes"}], {}, "methods[0].paper_compat must be true or false"),
    ([{"method": "linear", "schedule": {"(": 0.5}}], {}, "methods[0].schedule: schedule: pattern '(' is not a "
                                                         "valid regular expression"),
    ([{"method": "linear", "schedule": "nope.yaml"}], {}, "methods[0].schedule: schedule 'nope.yaml': no such file"),
    ([{"method": "linear", "schedule": {"default": "high"}}], {}, "default must be a number, got 'high'"),
    ([{"method": "linaer", "schedule": SCHED}], {}, "linaer"),
    (["linear[pape]"], {}, "tag 'pape' is not sched:<12 hex digits> or paper"),
    (["linear[sched:000000000000]"], {}, "names schedule 000000000000, which the config does not define"),
    (["linear"], {"paper_compat": 1}, "paper_compat must be true or false, got 1"),
    ([{"method": "linear", "schedule": SCHED}], {"backend": "vllm"},
     "schedules and paper_compat merge only on the transformers backend"),
    (["linear[paper]"], {"backend": "vllm"}, "use backend: transformers"),
])
def test_bad_method_entries_are_one_line(tmp_path, methods, extra, message):
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps({"pair": "tiny", "methods": methods, **extra}))
    with pytest.raises(ValueError) as err:
        SweepConfig.from_yaml(path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path)) and message in text, text


def test_labels_split_and_join():
    label = f"ties(density=0.2)[sched:{FP},paper]"
    assert method_variant(label) == method_variant(variant_label("ties(density=0.2)", FP, True))
    assert variant_label(variant_label("ties", FP), paper_compat=True) == f"ties[sched:{FP},paper]"
    assert (method_base(label), method_params(label)) == ("ties", {"density": 0.2})
    assert parse_method_label(label) == parse_method_label("ties(density=0.2)")
    assert method_variant("linear").plain and not method_variant("linear[paper]").plain
    with pytest.raises(ValueError, match="give one"):
        variant_label(f"linear[sched:{FP}]", "0" * 12)


def test_variants_never_share_a_fingerprint_and_plain_ones_are_unchanged():
    parents = {"direct": "d" * 20, "think": "t" * 20, "base": "b" * 20}
    labels = ["ties(density=0.2)", "ties(density=0.2)[paper]", f"ties(density=0.2)[sched:{FP}]",
              f"ties(density=0.2)[sched:{FP},paper]", f"ties(density=0.2)[sched:{'1' * 12}]"]
    fps = [job_fingerprint(SweepJob("tiny", m, 0.5, "synthetic", 0), parents, 0) for m in labels]
    assert len(set(fps)) == len(fps)
    # the plain fingerprint by hand (the formula stores were written with): old records resume
    blob = json.dumps([SWEEP_VERSION, list(parents.values()), "ties", registry.get_method("ties").revision,
                       {"density": 0.2}, 0.5, 0], sort_keys=True)
    assert fps[0] == hashlib.sha256(blob.encode()).hexdigest()[:20]
    assert fps[2] == merge_fingerprint(list(parents.values()), "ties", {"density": 0.2}, 0.5, 0, FP, False)


def _plan(tmp_path: Path, schedule: dict, lams=(0.5, 1.0)):
    parsed = Schedule.parse(schedule)
    cfg = SweepConfig(pairs=(get_preset("tiny").pair,), methods=(f"linear[sched:{parsed.fingerprint()}]",),
                      lams=lams, benchmarks=("synthetic",), sampling=SamplingParams(max_new_tokens=4), limit=1,
                      results=str(tmp_path / "r.jsonl"), schedules={parsed.fingerprint(): parsed})
    return SweepPlan(cfg)


@pytest.mark.parametrize("schedule, message", [
    ({"cross_attn": 0.5}, "rule 'cross_attn' matches no tensor of pair tiny's thinking parent"),
    ({"default": 0.5, "mlp": 1.5}, "gets strength 1.5 at lam 1, outside [0, 1]"),
    ({"lam_layers": [0.1, 0.2]}, "lam_layers lists 2 values but the model has 3 layers"),
])
def test_a_schedule_is_checked_against_the_pair_before_any_work(tmp_path, schedule, message):
    with pytest.raises(ValueError) as err:
        _plan(tmp_path, schedule)
    assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_a_layer_curve_gets_the_pairs_layer_count(tmp_path):
    plan = _plan(tmp_path, {"default": 0.5, "lam_layers": "linear(0.2, 0.8)"})
    (schedule,) = pair_schedules(plan.config, plan.config.pairs[0]).values()
    assert schedule.num_layers == 3  # the tiny pair's config: layer i at 0.2 + 0.6 * i / 2
    values = [schedule.value(f"model.layers.{i}.mlp.up_proj.weight")[0] for i in range(3)]
    assert values == pytest.approx([0.2, 0.5, 0.8])
    assert schedule.value("model.norm.weight") == (0.5, "default")
