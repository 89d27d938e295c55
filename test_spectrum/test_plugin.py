"""The claim-suite plugin end to end through pytester, on a constructed results store:
report files appear, the verdict table prints, a failing claim fails its test, and
missing resources skip with a reason that names what to provide."""
import fnmatch
import json
import os
from pathlib import Path

import numpy as np
import pytest

from evals.records import SampleRecord

LAMS = [round(i / 10, 1) for i in range(11)]
INI = """[pytest]
addopts = --strict-markers -p no:cacheprovider
markers =
    fast: tiny
    gpu: real
    bench: perf
"""


def _records(method, accs, tokens, malformed=None, n=120, pair="tiny"):
    """Per-problem records: problem p is correct at a point iff u[p] < accuracy (common draws)."""
    u = np.random.default_rng(0).random(n)
    out = []
    for lam, acc, tok, bad in zip(LAMS if method else [0.0, 1.0], accs, tokens, malformed or [0.0] * len(accs)):
        for p in range(n):
            ok = bool(u[p] < acc)
            is_bad = bool(u[p] > 1 - bad)
            out.append(SampleRecord(
                model=f"{pair}/{method}@{lam}", model_fingerprint=f"{method}{lam}", pair=pair, method=method,
                lam=lam, benchmark="synthetic", benchmark_version="1", problem_id=f"p{p:03d}", sample_index=0,
                prompt_mode="chat_template", sampling={}, seed=0, text="x", generated_tokens=int(tok),
                reasoning_tokens=int(tok) - 2, answer_tokens=2, finish_reason="stop", truncated=False,
                malformed=is_bad, correct=ok and not is_bad, extracted="1", meta={"thought": tok > 5}))
    return out


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _importable_suite(monkeypatch):
    """The inner pytest runs in a subprocess from a temporary folder: let it import test_spectrum."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


@pytest.fixture
def suite_dir(pytester):
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["test_spectrum.plugin"]\n')
    pytester.makepyfile(test_inner="from test_spectrum.test_claims import test_claim  # noqa: F401\n")
    step = [0.5 if lam < 0.6 else 1.0 for lam in LAMS]
    recs = (_records(None, [0.5, 1.0], [4, 15])
            + _records("linear", step, [4 if lam < 0.6 else 15 for lam in LAMS])
            + _records("ties(density=0.2)", [0.5, 0.5, 0.4, 0.1, 0.0, 0.0, 0.0, 0.1, 0.5, 0.9, 1.0],
                       [4 + 11 * lam for lam in LAMS], malformed=[0, 0, .2, .6, .9, .9, .9, .6, .3, 0, 0]))
    path = pytester.path / "results.jsonl"
    path.write_text("".join(r.to_json() + "\n" for r in recs))
    return pytester, path


@pytest.mark.fast
def test_plugin_judges_reports_and_fails_a_false_claim(suite_dir):
    pytester, results = suite_dir
    res = pytester.runpytest_subprocess("-m", "fast", "--pair", "tiny", "--judge-only", "--results", str(results),
                             "--methods", "linear,ties(density=0.2)", "--lams", ",".join(map(str, LAMS)),
                             "--report-dir", str(pytester.path / "rep"), "--n-boot", "200",
                             "--ignore-known-findings", "-rA")
    out = res.stdout.str()
    assert "thinking-spectrum claim verdicts" in out
    res.stdout.fnmatch_lines(["*PASSED*phase_transition*tiny-linear-synthetic*"])
    res.stdout.fnmatch_lines(["*test_claim[[]no_collapse-tiny-ties(density=0.2)-synthetic[]]*",
                              "No collapse: merges collapse*malformed output reaches*"])
    res.stdout.fnmatch_lines(["FAILED*no_collapse-tiny-ties(density=0.2)-synthetic*"])
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    latest = pytester.path / "rep" / "latest"
    for name in ("claims.md", "claims.json", "claims.html"):
        assert (latest / name).is_file(), name
    data = json.loads((latest / "claims.json").read_text())
    statuses = {(v["claim"], v["method"]): v["status"] for v in data["verdicts"]}
    assert statuses[("no_collapse", "ties(density=0.2)")] == "fails"
    assert statuses[("phase_transition", "linear")] == "holds"
    assert list(latest.glob("*.png")), "plots missing"


@pytest.mark.fast
@pytest.mark.parametrize("allow, ret", [(False, pytest.ExitCode.TESTS_FAILED), (True, pytest.ExitCode.OK)])
def test_gpu_pair_skips_naming_what_is_missing(pytester, allow, ret):
    """An explicit selection that judges nothing (every case skips) fails the run, unless
    --allow-skips; the skip reasons name what to provide either way."""
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["test_spectrum.plugin"]\n')
    pytester.makepyfile(test_inner="from test_spectrum.test_claims import test_claim  # noqa: F401\n")
    res = pytester.runpytest_inprocess("-m", "gpu", "--pair", "qwen3-4b", "--methods", "linear",
                                       "--benchmarks", "aime25", "--device", "cpu",
                                       "--direct", str(pytester.path / "nope"), "-rs", *(["--allow-skips"] * allow))
    res.stdout.fnmatch_lines(["*SKIPPED*missing direct weights*nope*--direct/--think/--base*"])
    if not allow:
        res.stdout.fnmatch_lines(["FAILED: the selection (--pair, --benchmarks, --methods, --direct) judged no claim:"
                                  " all 5 claim cases skipped (pair qwen3-4b: missing direct weights*"
                                  "pass --allow-skips"])
    assert res.ret == ret


@pytest.mark.fast
@pytest.mark.parametrize("opts, match", [
    (["--samples", "0"], "--samples: samples 0 must be >= 1"),
    (["--limit", "-238"], "--limit: limit -238 must be >= 1"),
    (["--lams", "0.5,0.5"], "--lams: lam 0.5 given twice"),
    (["--lams", "0.5,nan"], "--lams: lam #2 must be finite"),
    (["--benchmarks", "aime2025"], "unknown benchmark 'aime2025'; known: aime24"),
    (["--benchmarks", "aime25", "--data", "aime25=/nope/aime25.jsonl"], "--data aime25: /nope/* does not exist"),
    (["--data", "aime25"], "--data 'aime25': expected BENCH=PATH"),
    (["--data", "hmmt25=DIR"], "--data 'hmmt25=*': hmmt25 is not among the selected benchmarks (synthetic)"),
    (["--methods", "ties(density=0.2,density=0.9)"], "parameter 'density' is given twice"),
    (["--methods", "linaer"], "linaer"),
    (["--pair", "tinyy"], "--pair: unknown pair 'tinyy'"),
    (["--max-new-tokens", "0"], "--max-new-tokens: max_new_tokens 0 must be >= 1"),
])
def test_option_errors_are_one_usage_line(pytester, opts, match):
    """A bad claim-suite option stops the run before collection: pytest's usage error, one line."""
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["test_spectrum.plugin"]\n')
    opts = [o.replace("DIR", str(pytester.path)) for o in opts]
    res = pytester.runpytest_inprocess(*opts if "--benchmarks" in opts else ["--benchmarks", "synthetic", *opts])
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in res.errlines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: "), errors
    assert fnmatch.fnmatch(errors[0], f"*{match}*"), errors[0]
