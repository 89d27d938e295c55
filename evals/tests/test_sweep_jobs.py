"""Sweep jobs: planning order and fingerprints, store-based skipping, a worker's records equal the
single-process sweep's, and the affinity queue's hand-out order."""
from __future__ import annotations

from pathlib import Path

import pytest

from evals.backends.base import SamplingParams
from evals.sweep.presets import PairSpec, get_preset
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep
from evals.sweep.plan import SweepJob, SweepPlan, job_fingerprint, merge_fingerprint, plan_jobs
from evals.sweep.ray_driver import AffinityQueue
from evals.sweep.worker import PairWorker
from fixtures.tokenizer import build_tokenizer
from fixtures.train import new_model
from merging import registry

pytestmark = pytest.mark.fast


def tiny_pair(root: Path) -> PairSpec:
    """The shipped tiny pair when it is built (fixtures/tiny/think), else a random trio under root
    (base = init seed 0; direct and think = base + 2% noise, seeds 1 and 2)."""
    shipped = get_preset("tiny").pair
    if all(Path(p, "config.json").is_file() for p in (shipped.direct, shipped.think, shipped.base)):
        return shipped
    import torch

    tok = build_tokenizer()
    for role, seed in (("base", 0), ("direct", 1), ("think", 2)):
        if (root / role / "config.json").is_file():
            continue
        model = new_model(0)
        if seed:
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(torch.randn(p.shape, generator=gen) * 0.02)
        model.save_pretrained(root / role)
        tok.save_pretrained(root / role)
    return PairSpec("tiny-random", str(root / "direct"), str(root / "think"), str(root / "base"))


def small_config(pair: PairSpec, results: Path, **over) -> SweepConfig:
    kw = dict(pairs=(pair,), methods=("linear", "ties(density=0.5)"), lams=(0.3, 0.5, 0.8),
              benchmarks=("synthetic",), sampling=SamplingParams(max_new_tokens=20), limit=10,
              batch_size=64, results=str(results))
    kw.update(over)
    return SweepConfig(**kw)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    return tiny_pair(tmp_path_factory.mktemp("tiny_pair"))


@pytest.fixture(scope="module")
def single(pair, tmp_path_factory):
    """The single-process sweep's records (and its config)."""
    cfg = small_config(pair, tmp_path_factory.mktemp("single") / "r.jsonl")
    return cfg, run_sweep(cfg, progress=False)


def test_plan_order_matches_the_single_process_sweep(pair, tmp_path):
    cfg = small_config(pair, tmp_path / "r.jsonl", benchmarks=("synthetic", "aime25"),
                       sampling=SamplingParams(seed=7))
    jobs = plan_jobs(cfg)
    # 2 parents + 2 methods x 3 lams = 8 points, x 2 benchmarks
    assert len(jobs) == 16
    assert [(j.method, j.lam, j.benchmark) for j in jobs[:4]] == [
        (None, 0.0, "synthetic"), (None, 0.0, "aime25"), (None, 1.0, "synthetic"), (None, 1.0, "aime25")]
    assert [j.role for j in jobs[:4]] == ["direct", "direct", "think", "think"]
    assert jobs[4] == SweepJob(pair.name, "linear", 0.3, "synthetic", 7)
    assert jobs[-1].model_label == f"{pair.name}/ties(density=0.5)@0.8"


def test_job_fingerprints():
    fps = {"direct": "d" * 20, "think": "t" * 20, "base": "b" * 20}
    assert job_fingerprint(SweepJob("p", None, 0.0, "x", 0), fps, 3) == "d" * 20
    assert job_fingerprint(SweepJob("p", None, 1.0, "x", 0), fps, 3) == "t" * 20
    got = job_fingerprint(SweepJob("p", "ties(density=0.5)", 0.3, "x", 0), fps, 3)
    assert got == merge_fingerprint(["d" * 20, "t" * 20, "b" * 20], "ties", {"density": 0.5}, 0.3, 3)
    assert got != job_fingerprint(SweepJob("p", "ties(density=0.5)", 0.3, "x", 0), fps, 4)


def test_merge_fingerprint_follows_the_methods_numerics_revision(monkeypatch):
    """A change that alters a method's bits bumps its revision: points stored before it are
    recomputed rather than mixed with new ones."""
    import dataclasses

    before = merge_fingerprint(["d" * 20, "t" * 20], "linear", {}, 0.3, 0)
    real = registry.get_method
    monkeypatch.setattr(registry, "get_method",
                        lambda name: dataclasses.replace(real(name), revision=real(name).revision + 1))
    assert merge_fingerprint(["d" * 20, "t" * 20], "linear", {}, 0.3, 0) != before


def test_plan_keys_are_the_stored_records_keys(single):
    cfg, records = single
    plan = SweepPlan(cfg)
    assert [k for job in plan.jobs for k in plan.keys(job)] == [r.key() for r in records]
    assert plan.pending(ResultsStore(cfg.results)) == []
    assert plan.records(ResultsStore(cfg.results)) == records


def test_a_job_is_pending_until_every_sample_is_stored(single):
    cfg, records = single
    plan = SweepPlan(cfg)
    job = plan.jobs[5]
    keys = set(plan.keys(job))
    done = {r.key() for r in records} - {sorted(keys)[0]}  # one sample of one job missing
    assert plan.pending(done) == [job]
    assert plan.missing(job, done) == 1
    assert len(plan.pending(set())) == len(plan.jobs) == 8


def test_worker_records_equal_the_single_process_sweep(pair, single, tmp_path):
    cfg, records = single
    store = ResultsStore(tmp_path / "w.jsonl")
    worker = PairWorker(cfg, pair, max_mergers=2)
    plan = SweepPlan(cfg)
    # a different order than the sweep's: methods interleaved, parents last
    order = sorted(plan.jobs, key=lambda j: (j.method is None, j.lam, j.method or ""))
    got = {r.key(): r for job in order for r in worker.run(job, store)}
    worker.close()
    assert got == {r.key(): r for r in records}
    assert len(store) == len(records)


def test_worker_refuses_a_job_of_another_pair(pair, single):
    cfg, _ = single
    worker = PairWorker(cfg, pair)
    with pytest.raises(ValueError, match="belongs to pair 'other'"):
        worker.run(SweepJob("other", None, 0.0, "synthetic", 0), store=None)
    worker.close()


def _jobs(spec: str) -> list[SweepJob]:
    """'a:1 a:2 b:1' -> jobs of methods a, b at lams 0.1, 0.2 (pair p, benchmark x)."""
    return [SweepJob("p", m, int(i) / 10, "x", 0) for m, i in (t.split(":") for t in spec.split())]


def test_affinity_queue_keeps_a_worker_on_its_method_then_steals():
    q = AffinityQueue(_jobs("a:1 a:2 a:3 a:4 b:1"))
    order = [(w, q.next_for(w)) for w in (0, 1, 0, 1, 0, 0, 1)]
    assert [(w, j and (j.method, j.lam)) for w, j in order] == [
        (0, ("a", 0.1)), (1, ("b", 0.1)),  # worker 1 opens the untouched group b
        (0, ("a", 0.2)), (1, ("a", 0.4)),  # b is drained and nothing is untouched: steal a's tail
        (0, ("a", 0.3)), (0, None), (1, None)]
    assert len(q) == 0
