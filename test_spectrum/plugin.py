"""The claim suite's pytest plugin: options, parametrization, the cached sweep, the report.

Loaded from the root conftest.py. Each (claim, pair, method, benchmark) case is one test
(`test_spectrum/test_claims.py`), marked `fast` for the tiny fixture pair and `gpu` for the
real Qwen3 pairs; the case list comes from `evals.claims.catalog.plan_claims`, so it is
known before anything runs. The first test of a pair runs (or resumes) that pair's sweep
through the results store and judges every case at once; at session end the verdicts and
curves become a report in `--report-dir/<run-id>/` (and `latest`), and the verdict table
prints in the terminal summary.

    pytest -m fast                                   # tiny pair, CPU, a few minutes
    pytest -m gpu --benchmarks aime25 --samples 4    # Qwen3-4B trio from the hub cache
    pytest -m gpu --pair qwen3-30b-a3b --direct /models/instruct --think /models/thinking --base /models/base
    pytest -m fast --paper-compat                    # the merges as the paper's code does them
"""
from __future__ import annotations

from pathlib import Path

import pytest

from evals.claims.catalog import plan_claims
from evals.claims.verdicts import multiplicity_note
from evals.report.tables import format_verdict_table
from evals.sweep.presets import get_preset, presets
from test_spectrum.expected import expected_failure
from test_spectrum.options import DEFAULT_PAIRS, selected_pairs, sweep_config
from test_spectrum.suite import SuiteState

_STATE = pytest.StashKey["SuiteState"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("spectrum", "thinking-spectrum claim suite")
    g.addoption("--pair", action="append", default=None,
                help=f"pair preset(s) to judge (repeatable; default: {', '.join(DEFAULT_PAIRS)}; "
                     f"known: {', '.join(presets())}); -m fast/-m gpu picks among them")
    g.addoption("--direct", help="direct parent (local dir or hub id) for the real (gpu) pairs")
    g.addoption("--think", help="thinking parent (local dir or hub id) for the real (gpu) pairs")
    g.addoption("--base", help="shared base (local dir or hub id) for the real (gpu) pairs")
    g.addoption("--methods", help="comma list of method labels, e.g. linear,slerp,ties(density=0.2)")
    g.addoption("--lams", help="comma list of thinking weights in [0, 1]")
    g.addoption("--paper-compat", action="store_true", default=False,
                help="merge as the paper's code does (tied embedding counted twice in ties, emr and the top-share "
                     "merges; int() counting): every method label gets [paper], recorded in the report")
    g.addoption("--benchmarks", help="comma list of benchmark names")
    g.addoption("--data", action="append", default=[], metavar="BENCH=PATH",
                help="local file/dir for a benchmark (repeatable)")
    g.addoption("--samples", type=int, help="samples per problem on every benchmark (avg@k)")
    g.addoption("--max-new-tokens", type=int, help="generation cap (an output hitting it counts as wrong)")
    g.addoption("--limit", type=int, help="first N problems of each benchmark (smoke runs)")
    g.addoption("--backend", choices=("transformers", "vllm"), help="generation backend")
    g.addoption("--device", help="cpu or cuda (default: the pair preset's)")
    g.addoption("--engine", action="append", default=[], metavar="KEY=VALUE",
                help="vLLM engine setting (repeatable): max_model_len, gpu_memory_utilization, "
                     "tensor_parallel_size, enforce_eager, parents=device|host|auto")
    g.addoption("--report-dir", default="reports", help="where reports/<run-id>/ is written")
    g.addoption("--results", help="results store (JSONL) to resume from; default results/<pair>.jsonl")
    g.addoption("--judge-only", action="store_true",
                help="generate nothing: judge what --results already holds")
    g.addoption("--n-boot", type=int, default=1000, help="bootstrap resamples per verdict")
    g.addoption("--ignore-known-findings", action="store_true",
                help="run the cases listed in test_spectrum/expected.py as ordinary tests (no xfail)")
    g.addoption("--allow-skips", action="store_true",
                help="pass a run whose explicit selection (--pair, --benchmarks, --data, ...) judged no "
                     "claim because every case skipped (default: such a run fails; it tested nothing)")


# Options that select what to judge: a run given one of them that judges nothing fails.
SELECTION_OPTIONS = ("--pair", "--benchmarks", "--methods", "--lams", "--data", "--direct", "--think", "--base",
                     "--results", "--judge-only")


# Registered here as well as in pyproject.toml: when option values are absolute paths outside
# the checkout, pytest picks its rootdir (and ini) from them, and `-m gpu` under --strict-markers
# must still know the markers the cases carry.
MARKERS = (
    "fast: CPU-only, tiny models; the CI suite (pytest -m fast)",
    "gpu: real Qwen3 pairs on a CUDA device (or the CPU with --device cpu); skips with a reason when "
    "weights, data or CUDA are missing",
)


def pytest_configure(config: pytest.Config) -> None:
    """Registers the markers (so `-m gpu` works whatever rootdir pytest picks) and checks every
    claim-suite option before collection: a bad one is one usage-error line."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    selected: set[str] = set()
    for pair_name in selected_pairs(config):
        try:
            get_preset(pair_name)
        except ValueError as exc:
            raise pytest.UsageError(f"--pair: {exc}") from None
        selected.update(sweep_config(config, pair_name).benchmarks)
    for item in config.getoption("--data"):
        bench = item.partition("=")[0]
        if bench not in selected:
            raise pytest.UsageError(f"--data {item!r}: {bench} is not among the selected benchmarks "
                                    f"({', '.join(sorted(selected))}); add it to --benchmarks or drop --data")
    config.stash[_STATE] = SuiteState(config)


def explicit_selection(config: pytest.Config) -> list[str]:
    """The selection options given on the command line (not left at their defaults)."""
    return [o for o in SELECTION_OPTIONS if config.getoption(o) not in (None, False, [])]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "claim_case" not in metafunc.fixturenames:
        return
    params = []
    for pair_name in selected_pairs(metafunc.config):
        cfg = sweep_config(metafunc.config, pair_name)
        marker = getattr(pytest.mark, get_preset(pair_name).marker)
        for case in plan_claims([pair_name], cfg.methods, cfg.benchmarks):
            marks = [marker]
            reason = None if metafunc.config.getoption("--ignore-known-findings") else expected_failure(case)
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            params.append(pytest.param(case, marks=marks, id=f"{case.claim}-{case.pair}-{case.method}-{case.benchmark}"))
    metafunc.parametrize("claim_case", params)


@pytest.fixture(scope="session")
def spectrum_suite(request: pytest.FixtureRequest):
    return request.config.stash[_STATE]


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    state.write_report()
    given = explicit_selection(session.config)
    everything_skipped = state.cases_run and state.cases_skipped == state.cases_run
    if everything_skipped and given and not session.config.getoption("--allow-skips"):
        reasons = "; ".join(sorted(state.skip_reasons))
        state.notes.append(f"FAILED: the selection ({', '.join(given)}) judged no claim: all {state.cases_run} "
                           f"claim cases skipped ({reasons}); fix the selection or pass --allow-skips")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    tr = terminalreporter
    if not state.verdicts_seen:
        for line in state.notes:
            tr.write_line(line, red=line.startswith("FAILED"))
        return
    tr.write_sep("=", "thinking-spectrum claim verdicts")
    tr.write_line(format_verdict_table(state.verdicts_seen))
    tr.write_line(multiplicity_note(state.verdicts_seen))
    if state.report_path is not None:
        tr.write_line(f"report: {Path(state.report_path) / 'claims.md'} (also claims.json, claims.html, plots)")
    for line in state.notes:
        tr.write_line(line)
