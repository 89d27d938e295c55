"""The claim suite's command-line options turned into sweep configs (one per pair).

    cfg = sweep_config(pytest_config, "tiny")    # the preset, overridden by --methods, --lams, ...

`--paper-compat` tags every method [paper] (evals.method_labels): the sweep merges with the
paper's code's quirks, its records are another model's (never the plain run's) and the
report's method names and settings say so.

Used by the plugin (parametrization) and the session state (running the sweep).
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from evals.backends.vllm_settings import parse_engine_options
from evals.benchmarks.registry import get_benchmark
from evals.sweep.config import SweepConfig
from evals.sweep.presets import get_preset
from evals.validation import check_count, check_data_file, check_lams, check_limit, check_samples

DEFAULT_PAIRS = ("tiny", "qwen3-4b")


def _csv(value: str | None) -> tuple[str, ...] | None:
    """'linear,ties(density=0.2,k=1)' -> ('linear', 'ties(density=0.2,k=1)'): commas inside () and
    [] (a label's variant tags, 'ties[sched:...,paper]') stay."""
    return tuple(s.strip() for s in re.split(r",(?![^()]*\))(?![^\[\]]*\])", value) if s.strip()) if value else None


def selected_pairs(config: pytest.Config) -> tuple[str, ...]:
    return tuple(config.getoption("--pair") or DEFAULT_PAIRS)


def sweep_config(config: pytest.Config, pair_name: str):
    """The SweepConfig of one pair: its preset, overridden by the command-line options.
    A bad option is a pytest.UsageError: one line, exit code 4, before anything runs."""
    try:
        return _sweep_config(config, pair_name)
    except ValueError as exc:
        raise pytest.UsageError(f"claim suite options for pair {pair_name!r}: {exc}") from None


def _sweep_config(config: pytest.Config, pair_name: str):
    preset = get_preset(pair_name)
    opt = config.getoption
    pair = preset.pair
    if preset.marker == "gpu":
        pair = pair.with_paths(opt("--direct"), opt("--think"), opt("--base"))
    benchmarks = _csv(opt("--benchmarks")) or preset.benchmarks
    for name in benchmarks:
        get_benchmark(name)  # an unknown (misspelt) name is refused here, naming the known ones
    data = {}
    for item in opt("--data"):
        bench, sep, path = item.partition("=")
        if not sep:
            raise ValueError(f"--data {item!r}: expected BENCH=PATH")
        get_benchmark(bench)  # --data for a misspelt benchmark is refused too
        if not Path(path).is_dir():
            check_data_file(path, f"--data {bench}")
        data[bench] = path
    sampling = preset.sampling
    if opt("--max-new-tokens") is not None:
        sampling = replace(sampling, max_new_tokens=check_count(opt("--max-new-tokens"), "max_new_tokens",
                                                                 "--max-new-tokens"))
    samples = dict(preset.samples_by_benchmark)
    if opt("--samples") is not None:
        n = check_samples(opt("--samples"), "--samples")
        samples = {b: n for b in benchmarks}
        sampling = replace(sampling, n=n)
    lams = _csv(opt("--lams"))
    try:
        engine = parse_engine_options(opt("--engine"))
        return SweepConfig.from_preset(
            pair_name, pairs=(pair,), methods=_csv(opt("--methods")),
            lams=check_lams(lams, "--lams") if lams else None, benchmarks=benchmarks,
            sampling=sampling, samples=samples, data=data, limit=check_limit(opt("--limit"), "--limit"),
            backend=opt("--backend"), device=opt("--device"), results=opt("--results"), engine=engine or None,
            paper_compat=opt("--paper-compat"))
    except ValueError as exc:
        raise pytest.UsageError(f"claim suite options for pair {pair_name!r}: {exc}") from None
