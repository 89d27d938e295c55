"""A registry of named things filled by lazily imported built-in modules.

Shared by the merge methods (merging.registry) and the benchmarks (evals.benchmarks.registry):
each built-in module calls `register` once when imported; a duplicate name is refused; an
unknown name is answered with the known ones.
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    name: str


T = TypeVar("T", bound=Named)


class NamedRegistry(Generic[T]):
    def __init__(self, kind: str, builtin_modules: Sequence[str], *, sort: bool = False):
        self.kind = kind  # "merge method", "benchmark": used in error messages
        self._modules = list(builtin_modules)
        self._sort = sort  # list names sorted, or in registration order
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, item: T) -> T:
        if item.name in self._items:
            raise ValueError(f"{self.kind} {item.name!r} is registered twice")
        self._items[item.name] = item
        return item

    def _load_builtins(self) -> None:
        if not self._loaded:
            self._loaded = True
            for mod in self._modules:
                importlib.import_module(mod)

    def get(self, name: str) -> T:
        self._load_builtins()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise ValueError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load_builtins()
        return sorted(self._items) if self._sort else list(self._items)
