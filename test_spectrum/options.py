"""The claim suite's command-line options turned into sweep configs (one per pair).

    cfg = sweep_config(pytest_config, "tiny")    # the preset, overridden by --methods, --lams, ...

Used by the plugin (parametrization) and the session state (running the sweep).
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from evals.backends.vllm_settings import parse_engine_options
from evals.sweep.config import SweepConfig
from evals.sweep.presets import get_preset

DEFAULT_PAIRS = ("tiny", "qwen3-4b")


def _csv(value: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in value.split(",") if s.strip()) if value else None


def selected_pairs(config: pytest.Config) -> tuple[str, ...]:
    return tuple(config.getoption("--pair") or DEFAULT_PAIRS)


def sweep_config(config: pytest.Config, pair_name: str):
    """The SweepConfig of one pair: its preset, overridden by the command-line options."""
    preset = get_preset(pair_name)
    opt = config.getoption
    pair = preset.pair
    if preset.marker == "gpu":
        pair = pair.with_paths(opt("--direct"), opt("--think"), opt("--base"))
    data = {}
    for item in opt("--data"):
        bench, sep, path = item.partition("=")
        if not sep:
            raise pytest.UsageError(f"--data {item!r}: expected BENCH=PATH")
        data[bench] = path
    sampling = preset.sampling
    if opt("--max-new-tokens"):
        sampling = replace(sampling, max_new_tokens=opt("--max-new-tokens"))
    samples = dict(preset.samples_by_benchmark)
    benchmarks = _csv(opt("--benchmarks")) or preset.benchmarks
    if opt("--samples"):
        samples = {b: opt("--samples") for b in benchmarks}
        sampling = replace(sampling, n=opt("--samples"))
    lams = _csv(opt("--lams"))
    try:
        engine = parse_engine_options(opt("--engine"))
        return SweepConfig.from_preset(
            pair_name, pairs=(pair,), methods=_csv(opt("--methods")),
            lams=tuple(float(x) for x in lams) if lams else None, benchmarks=benchmarks,
            sampling=sampling, samples=samples, data=data, limit=opt("--limit"),
            backend=opt("--backend"), device=opt("--device"), results=opt("--results"), engine=engine or None)
    except ValueError as exc:
        raise pytest.UsageError(f"claim suite options for pair {pair_name!r}: {exc}") from None
