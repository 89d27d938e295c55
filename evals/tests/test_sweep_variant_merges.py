"""A tiny-pair sweep with a strength schedule and with paper_compat: distinct records (their
own fingerprints and meta, resumed without mixing with the plain method's), and the weights
the sweep evaluates are exactly what the merging side writes for the same schedule and mode."""
from __future__ import annotations

import pytest
import torch

from evals.backends.base import SamplingParams
from evals.cli import main
from evals.records import MERGE_META
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep
from evals.sweep.plan import SweepPlan
from evals.sweep.ray_driver import JobStore
from evals.sweep.variants import describe_variants, method_entries, recorded_variants
from evals.sweep.worker import PairWorker
from evals.tests.test_sweep_jobs import tiny_pair
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.schedule import Schedule

pytestmark = pytest.mark.fast

METHOD = "ties(density=0.5)"
# attention at the scale itself, the rest of each layer on a curve, embeddings and norms at half
SCHED = {"self_attn": 1.0, "lam_layers": "linear(0.2, 0.8)", "default": 0.5}
LAM = 0.6


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    torch.set_num_threads(1)
    pair = tiny_pair(tmp_path_factory.mktemp("pair"))
    labels, schedules = method_entries([METHOD, {"method": METHOD, "schedule": SCHED},
                                        {"method": METHOD, "paper_compat": True}], False, "test")
    cfg = SweepConfig(pairs=(pair,), methods=labels, lams=(LAM,), benchmarks=("synthetic",),
                      sampling=SamplingParams(max_new_tokens=8), limit=2, threads=1, schedules=schedules,
                      results=str(tmp_path_factory.mktemp("res") / "r.jsonl"))
    return pair, cfg, run_sweep(cfg, progress=False)


def test_each_variant_writes_its_own_records(swept):
    _, cfg, records = swept
    plain, sched, paper = cfg.methods
    by = {m: [r for r in records if r.method == m] for m in cfg.methods}
    assert all(len(v) == 2 for v in by.values())
    fps = {m: {r.model_fingerprint for r in v} for m, v in by.items()}
    assert all(len(v) == 1 for v in fps.values()) and len(set.union(*fps.values())) == 3
    assert all(MERGE_META not in r.meta for r in by[plain])
    fp = Schedule.parse(SCHED).fingerprint()
    assert {r.meta[MERGE_META]["schedule"]["fingerprint"] for r in by[sched]} == {fp}
    assert {r.meta[MERGE_META]["paper_compat"] for r in by[paper]} == {True}
    stored = ResultsStore(cfg.results)
    assert stored.records() == records  # the meta is what was written, not only what was returned
    assert run_sweep(cfg, progress=False) == records and len(ResultsStore(cfg.results)) == len(records)


def test_a_plain_config_over_the_same_store_sees_only_plain_records(swept):
    _, cfg, records = swept
    plain = SweepConfig(**{**cfg.__dict__, "methods": cfg.methods[:1], "schedules": {}})
    plan = SweepPlan(plain)
    assert plan.pending(ResultsStore(cfg.results)) == []
    got = plan.records(ResultsStore(cfg.results))
    assert {r.method for r in got} == {None, cfg.methods[0]}
    assert len(got) == len([r for r in records if r.method in (None, cfg.methods[0])])


def test_the_sweeps_weights_are_the_merging_sides(swept, tmp_path):
    pair, cfg, _ = swept
    worker = PairWorker(cfg, pair)
    model = worker.loaded.backend.model
    wanted = {  # label -> (strength, paper_compat) as `spectrum merge` takes them
        cfg.methods[0]: (None, False),
        cfg.methods[1]: (Schedule.parse(SCHED, num_layers=3), False),
        cfg.methods[2]: (None, True),
    }
    written = {}
    for i, (label, (strength, paper)) in enumerate(wanted.items()):
        (out,) = merge("ties", pair.direct, pair.think, pair.base, lams=[LAM], outs=[tmp_path / f"m{i}"],
                       params={"density": 0.5}, seed=cfg.seed, strength=strength, paper_compat=paper,
                       progress=False)
        written[label] = load_state_dict(out)
        job = next(j for j in SweepPlan(cfg).jobs if j.method == label)
        worker.run(job, JobStore([]))  # generates, so the point is written into the live model
        live = model.state_dict()
        for name, tensor in written[label].items():
            assert torch.equal(live[name], tensor), (label, name)
    worker.close()
    plain, sched, paper = (written[m] for m in cfg.methods)
    # the variants really merged differently (so the equalities above can tell them apart)
    assert not torch.equal(plain["model.layers.0.mlp.up_proj.weight"], sched["model.layers.0.mlp.up_proj.weight"])
    assert not torch.equal(plain["model.embed_tokens.weight"], paper["model.embed_tokens.weight"])  # tied: twice


def test_a_report_rebuilt_from_the_store_lists_the_variants_as_the_sweeps_does(swept, tmp_path):
    _, cfg, records = swept
    assert recorded_variants(ResultsStore(cfg.results).records()) == describe_variants(cfg)
    assert main(["report", cfg.results, "--report-dir", str(tmp_path), "--run-id", "r", "--no-plots",
                 "--n-boot", "20"]) == 0
    text = (tmp_path / "r" / "claims.md").read_text()
    fp = Schedule.parse(SCHED).fingerprint()
    assert f"schedule {fp}" in text and Schedule.parse(SCHED).label in text
    assert "paper_compat" in text and f"{METHOD}[paper]" in text
