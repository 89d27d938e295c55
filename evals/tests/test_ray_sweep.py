"""The tiny pair through a local Ray cluster of two CPU workers: the records equal the
single-process sweep's (same keys, texts, token counts, verdicts), and jobs already in the
store are not run again (a killed cluster run resumes)."""
from __future__ import annotations

import pytest

from evals.store import ResultsStore
from evals.sweep.local import run_sweep
from evals.sweep.plan import SweepPlan
from evals.tests.test_sweep_jobs import small_config, tiny_pair
from evals.sweep.ray_driver import run_ray_sweep

pytestmark = pytest.mark.fast


def test_two_ray_workers_match_the_single_process_sweep(tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'thinking-spectrum[ray]'")
    import torch

    torch.set_num_threads(1)  # the actors run one thread each, like this reference run
    pair = tiny_pair(tmp_path / "pair")
    single = run_sweep(small_config(pair, tmp_path / "single.jsonl"), progress=False)

    cfg = small_config(pair, tmp_path / "ray.jsonl")
    plan = SweepPlan(cfg)
    first = plan.jobs[:3]  # both parents and linear@0.3 finished before the "crash"
    head = {k for job in first for k in plan.keys(job)}
    ResultsStore(cfg.results).extend(r for r in single if r.key() in head)

    ran: list[tuple[str, int, int]] = []
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        records = run_ray_sweep(cfg, workers=2, progress=False,
                                on_job=lambda job, actor, new: ran.append((str(job), actor, len(new))))
    finally:
        ray.shutdown()

    assert sorted(j for j, _, _ in ran) == sorted(str(j) for j in plan.jobs[3:])  # stored jobs skipped
    assert {a for _, a, _ in ran} == {0, 1} and all(n == 10 for _, _, n in ran)
    assert records == single  # same order, fingerprints, texts, tokens, verdicts
    by_key = {r.key(): (r.text, r.generated_tokens, r.correct) for r in ResultsStore(cfg.results).records()}
    assert by_key == {r.key(): (r.text, r.generated_tokens, r.correct) for r in single}
    assert len(ResultsStore(cfg.results)) == len(single) == 8 * 10
