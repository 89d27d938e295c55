"""The one benchmark registry. Built-in benchmark modules are listed here, imported lazily,
and each calls `register` once; a duplicate name is refused."""
from __future__ import annotations

from evals.benchmarks.base import Benchmark
from merging.named_registry import NamedRegistry

# Filled in one place: every built-in benchmark module.
_BUILTIN_MODULES: list[str] = [
    "evals.benchmarks.aime24",
    "evals.benchmarks.aime25",
    "evals.benchmarks.hmmt25",
    "evals.benchmarks.gpqa_diamond",
    "evals.benchmarks.creative_writing",
    "evals.benchmarks.synthetic",
]

_BENCHMARKS: NamedRegistry[Benchmark] = NamedRegistry("benchmark", _BUILTIN_MODULES, sort=True)


def register(benchmark: Benchmark) -> Benchmark:
    return _BENCHMARKS.register(benchmark)


def get_benchmark(name: str) -> Benchmark:
    return _BENCHMARKS.get(name)


def list_benchmarks() -> list[str]:
    """Benchmark names, sorted."""
    return _BENCHMARKS.names()
