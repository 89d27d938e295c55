"""A CPU rehearsal of the real study: the README's `pytest -m gpu` command, run as a new user
would (another directory, absolute paths, space-separated values), on the stand-in trios in the
real formats (fixtures/standins.py: the real Qwen3 tokenizer, 2507-style chat templates, bf16
sharded safetensors; a tied dense trio as qwen3-4b, an untied Qwen3-MoE trio as qwen3-30b-a3b),
with two problems of each real benchmark in its hub schema, 16 new tokens, lams 0, 0.5, 1 and
two methods, to a report.

    cd /anywhere && pytest --pyargs test_spectrum.test_claims -m gpu --device cpu --pair qwen3-30b-a3b \\
        --direct D --think T --base B --data aime24=/abs/a.jsonl ...

With no test path inside the checkout and option values outside it, pytest picks its rootdir
from those values and reads no ini (nor the root conftest.py): the plugin comes from the
`pytest11` entry point (here also `-p test_spectrum.plugin`, so an uninstalled checkout on
PYTHONPATH works too) and registers the `fast`/`gpu` markers itself, so `-m gpu` under
--strict-markers works with any rootdir. `--device cpu` is the explicit opt-in that runs the gpu-marked cases on CPU.
Two problems decide nothing: the verdicts may be inconclusive; what is checked is that every
case ran on CPU (none skipped for want of CUDA, none errored) and the report holds the pair.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.store import ResultsStore
from fixtures import standins

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = ("aime24", "aime25", "hmmt25", "gpqa_diamond")
METHODS = ("linear", "ties(density=0.5)")
LAMS = (0.0, 0.5, 1.0)
# two rows of each benchmark in its hub dataset's own columns (the problems are made up)
ROWS = {
    "aime24": [  # HuggingFaceH4/aime_2024
        {"id": 60, "problem": "Find the remainder when 7^{2024} is divided by 100.", "solution": "Cycle of 4.",
         "answer": "1", "url": "https://example.org/aime24/1", "year": "2024"},
        {"id": 61, "problem": "How many positive divisors does 720 have?", "solution": "2^4 3^2 5.",
         "answer": "30", "url": "https://example.org/aime24/2", "year": "2024"},
    ],
    "aime25": [  # math-ai/aime25
        {"problem": "Find the sum of all positive integers n < 20 with n^2 + 1 prime.", "answer": "40", "id": "0"},
        {"problem": "A square has diagonal 14. Find its area.", "answer": "98", "id": "1"},
    ],
    "hmmt25": [  # MathArena/hmmt_feb_2025
        {"problem_idx": 1, "problem": "Compute \\frac{3}{4} + \\frac{5}{12}.", "answer": "\\frac{7}{6}",
         "problem_type": ["Algebra"]},
        {"problem_idx": 2, "problem": "Compute the number of subsets of a 5-element set.", "answer": "32",
         "problem_type": ["Combinatorics"]},
    ],
    "gpqa_diamond": [  # Idavidrein/gpqa, gpqa_diamond
        {"Question": "Which particle mediates the electromagnetic force?", "Correct Answer": "photon",
         "Incorrect Answer 1": "gluon", "Incorrect Answer 2": "W boson", "Incorrect Answer 3": "graviton",
         "Record ID": "recA1", "High-level domain": "Physics"},
        {"Question": "What is the hybridisation of carbon in methane?", "Correct Answer": "sp3",
         "Incorrect Answer 1": "sp2", "Incorrect Answer 2": "sp", "Incorrect Answer 3": "dsp2",
         "Record ID": "recB2", "High-level domain": "Chemistry"},
    ],
}
PAIRS = [("dense", "qwen3-4b"), ("moe", "qwen3-30b-a3b")]


def _data(root: Path) -> list[str]:
    args = []
    for name, rows in ROWS.items():
        path = root / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        args += ["--data", f"{name}={path}"]
    return args


def rehearsal_command(trio: dict[str, Path], pair: str, root: Path) -> list[str]:
    """The README's gpu command with --device cpu and the rehearsal's small settings."""
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "test_spectrum.plugin", "--strict-markers",
            "--pyargs", "test_spectrum.test_claims", "-m", "gpu", "--device", "cpu", "--pair", pair,
            "--direct", str(trio["direct"]), "--think", str(trio["think"]), "--base", str(trio["base"]),
            "--benchmarks", ",".join(BENCHMARKS), *_data(root), "--samples", "1", "--max-new-tokens", "16",
            "--lams", ",".join(map(str, LAMS)), "--methods", ",".join(METHODS),
            "--results", str(root / "results.jsonl"), "--report-dir", str(root / "reports"), "--n-boot", "50",
            "-rs"]


@pytest.fixture(scope="module")
def rehearsals(tmp_path_factory):
    """Both pairs' runs, started together (one CPU thread each): kind -> (root, finished process)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    runs = {}
    for kind, pair in PAIRS:
        root = tmp_path_factory.mktemp(f"rehearsal-{kind}")   # outside the checkout: pytest's rootdir moves
        trio = standins.trio(kind, root / "models")
        (root / "cwd").mkdir()
        runs[kind] = (root, subprocess.Popen(rehearsal_command(trio, pair, root), cwd=root / "cwd", env=env,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    done = {}
    for kind, (root, proc) in runs.items():
        out, _ = proc.communicate(timeout=900)
        done[kind] = (root, proc.returncode, out)
    return done


@pytest.mark.parametrize("kind, pair", PAIRS)
def test_the_gpu_suite_rehearses_on_cpu_to_a_report(rehearsals, kind, pair):
    root, returncode, out = rehearsals[kind]
    assert returncode in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), out[-3000:]
    assert f"rootdir: {REPO}" not in out and "configfile" not in out   # no ini: the plugin's markers serve
    assert "PytestUnknownMarkWarning" not in out and "needs a CUDA device" not in out, out[-3000:]
    assert " error" not in out.splitlines()[-1], out[-3000:]
    assert "thinking-spectrum claim verdicts" in out, out[-3000:]
    claims = json.loads((root / "reports" / "latest" / "claims.json").read_text())
    pairs = {v["pair"] for v in claims["verdicts"]}
    assert pairs == {pair} and {v["method"] for v in claims["verdicts"]} >= set(METHODS)
    records = list(ResultsStore(root / "results.jsonl").records())
    assert {r.benchmark for r in records} == set(BENCHMARKS) and {r.pair for r in records} == {pair}
    per_point = {(r.method, r.lam, r.benchmark) for r in records}
    assert len(per_point) == len({(r.method, r.lam) for r in records}) * len(BENCHMARKS)
    assert all(1 <= r.generated_tokens <= 16 for r in records)
    assert len(records) == len(per_point) * 2                  # two problems, one sample each
