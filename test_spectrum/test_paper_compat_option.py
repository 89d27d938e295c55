"""`pytest --paper-compat`: the claim suite's sweep config tags every method [paper] (so the
sweep merges as the paper's code does and its records are another model's), the cases and
the report name the tagged methods, and the report's settings record the option."""
import json
import os
from pathlib import Path

import pytest

from evals.records import SampleRecord
from evals.sweep.config import SweepConfig

LAMS = [0.0, 0.5, 1.0]
INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n    fast: tiny\n    gpu: real\n"
REPO = Path(__file__).resolve().parents[1]


def _records(method, accs, n=12):
    out = []
    for lam, acc in zip(LAMS if method else [0.0, 1.0], accs):
        for p in range(n):
            out.append(SampleRecord(
                model=f"tiny/{method}@{lam}", model_fingerprint=f"{method}{lam}", pair="tiny", method=method,
                lam=lam, benchmark="synthetic", benchmark_version="1", problem_id=f"p{p:02d}", sample_index=0,
                prompt_mode="chat_template", sampling={}, seed=0, text="x", generated_tokens=10,
                reasoning_tokens=8, answer_tokens=2, finish_reason="stop", truncated=False, malformed=False,
                correct=p < acc * n, extracted="1", meta={"thought": True}))
    return out


@pytest.mark.fast
@pytest.mark.parametrize("flag, method", [(True, "linear[paper]"), (False, "linear")])
def test_paper_compat_option_reaches_the_sweep_and_the_report(pytester, monkeypatch, flag, method):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["test_spectrum.plugin"]\n')
    pytester.makepyfile(test_inner="from test_spectrum.test_claims import test_claim  # noqa: F401\n"
                                   "import pytest\n"
                                   "from test_spectrum.options import sweep_config\n\n"
                                   "@pytest.mark.fast\n"
                                   "def test_config(request):\n"
                                   "    cfg = sweep_config(request.config, 'tiny')\n"
                                   "    print('SWEEP', cfg.paper_compat, ','.join(cfg.methods))\n")
    results = pytester.path / "results.jsonl"
    recs = _records(None, [0.5, 1.0]) + _records("linear", [0.5, 0.5, 1.0]) + _records("linear[paper]", [0.5, 1.0, 1.0])
    results.write_text("".join(r.to_json() + "\n" for r in recs))
    res = pytester.runpytest_inprocess("-m", "fast", "--pair", "tiny", "--judge-only", "--results", str(results),
                                       "--methods", "linear", "--lams", "0,0.5,1", "--n-boot", "50", "-s", "-v",
                                       "--report-dir", str(pytester.path / "rep"), *(["--paper-compat"] * flag))
    assert f"SWEEP {flag} {method}" in res.stdout.str()
    ids = [line for line in res.stdout.lines if "test_claim[" in line]
    assert ids and all(f"-tiny-{method}-synthetic" in line for line in ids), ids
    data = json.loads((pytester.path / "rep" / "latest" / "claims.json").read_text())
    assert {v["method"] for v in data["verdicts"]} == {method}
    assert data["meta"]["tiny paper_compat"] is flag and data["meta"]["tiny methods"] == [method]


@pytest.mark.fast
def test_the_suite_config_is_tagged_like_a_sweep_configs():
    """The option and `paper_compat: true` in a sweep config give the same labels."""
    assert (SweepConfig.from_preset("tiny", paper_compat=True).methods
            == SweepConfig.from_mapping({"pair": "tiny", "paper_compat": True}).methods)
