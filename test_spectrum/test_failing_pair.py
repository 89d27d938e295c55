"""A pair whose sweep fails is tried once: every test of that pair fails with the one message
(with real 30B weights a retry per test would read three 61 GB checkpoints 22 times).

The inner pytest counts the sweeps through a conftest that wraps the suite's `run_sweep`."""
import os
from pathlib import Path

import pytest

from fixtures import standins

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parents[1]
INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n    fast: tiny\n    gpu: real\n"
COUNTING = '''import test_spectrum.suite as suite
pytest_plugins = ["test_spectrum.plugin"]
_run = suite.run_sweep


def counting(cfg, **kwargs):
    with open("sweeps.log", "a") as log:
        log.write(cfg.pairs[0].name + "\\n")
    return _run(cfg, **kwargs)


suite.run_sweep = counting
'''


@pytest.fixture
def broken_trio(tmp_path):
    """The dense stand-in trio with the thinking parent's first shard cut short."""
    dirs = {}
    for role, src in standins.trio("dense").items():
        dirs[role] = tmp_path / "models" / role
        dirs[role].mkdir(parents=True)
        for f in src.iterdir():
            (dirs[role] / f.name).symlink_to(f)
    shard = sorted(dirs["think"].glob("model-*.safetensors"))[0]
    data = shard.read_bytes()[:1000]
    shard.unlink()
    shard.write_bytes(data)
    return dirs


def test_a_failing_pair_is_loaded_once_and_fails_every_test(pytester, monkeypatch, broken_trio, tmp_path):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makeini(INI)
    pytester.makeconftest(COUNTING)
    pytester.makepyfile(test_inner="from test_spectrum.test_claims import test_claim  # noqa: F401\n")
    data = pytester.path / "aime25.jsonl"
    data.write_text('{"problem": "Find 1+1.", "answer": "2", "id": 0}\n')
    res = pytester.runpytest_subprocess(
        "-m", "gpu", "--pair", "qwen3-4b", "--device", "cpu", "--methods", "linear,ties(density=0.5)",
        "--benchmarks", "aime25", "--data", f"aime25={data}", "--lams", "0,0.5,1", "--samples", "1",
        "--max-new-tokens", "4", "--results", str(tmp_path / "r.jsonl"), "--report-dir", str(tmp_path / "rep"), "--tb=short",
        *[a for role in ("direct", "think", "base") for a in (f"--{role}", str(broken_trio[role]))])
    outcomes = res.parseoutcomes()
    assert outcomes.get("failed", 0) >= 4 and set(outcomes) <= {"failed", "warnings"}, outcomes
    messages = [ln for ln in res.stdout.lines if ln.startswith("pair qwen3-4b: ")]
    assert len(messages) == outcomes["failed"] and len(set(messages)) == 1, messages
    assert messages[0].startswith("pair qwen3-4b: the sweep failed") and "model-00001" in messages[0]
    assert (pytester.path / "sweeps.log").read_text() == "qwen3-4b\n"
    assert res.ret == pytest.ExitCode.TESTS_FAILED
