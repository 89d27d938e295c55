"""The one benchmark registry. Built-in benchmark modules are listed here, imported lazily,
and each calls `register` once; a duplicate name is refused."""
from __future__ import annotations

import importlib

from evals.benchmarks.base import Benchmark

# Filled in one place: every built-in benchmark module.
_BUILTIN_MODULES: list[str] = [
    "evals.benchmarks.aime24",
    "evals.benchmarks.aime25",
    "evals.benchmarks.hmmt25",
    "evals.benchmarks.gpqa_diamond",
    "evals.benchmarks.creative_writing",
    "evals.benchmarks.synthetic",
]

_REGISTRY: dict[str, Benchmark] = {}
_loaded = False


def register(benchmark: Benchmark) -> Benchmark:
    if benchmark.name in _REGISTRY:
        raise ValueError(f"benchmark {benchmark.name!r} is registered twice")
    _REGISTRY[benchmark.name] = benchmark
    return benchmark


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _BUILTIN_MODULES:
            importlib.import_module(mod)


def get_benchmark(name: str) -> Benchmark:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown benchmark {name!r}; known: {', '.join(sorted(_REGISTRY)) or '(none)'}"
        ) from None


def list_benchmarks() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)
