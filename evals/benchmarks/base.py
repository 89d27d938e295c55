"""What a benchmark is: where its data comes from, how a prompt is built, how an answer is graded.

Every benchmark module defines one `Benchmark` instance and registers it with
`evals.benchmarks.registry.register`. Bump `version` whenever data source, prompt or
grading changes: stored results carry it and are not reused across versions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Problem:
    """One benchmark item. `gold` is what the grader compares against."""

    id: str
    prompt: str  # user message text (no chat template applied)
    gold: str
    meta: dict = field(default_factory=dict, compare=False)  # e.g. difficulty, options


@dataclass(frozen=True)
class Grade:
    """The verdict on one completion."""

    correct: bool
    extracted: str | None  # the answer the grader read, or None if none was found
    malformed: bool = False  # output not in any recognisable format (gibberish)


@dataclass(frozen=True)
class Benchmark:
    name: str
    version: str
    kind: str  # "math" | "multiple_choice" | "creative" | "synthetic"
    hub_id: str | None  # None when the data only comes from a local file
    load: Callable[[str | None], list[Problem]]  # data path (file/dir) or None for hub
    grade: Callable[[Problem, str], Grade]  # grades the ANSWER part (after </think>)
    system_prompt: str | None = None
    default_samples: int = 1
    description: str = ""
    # reasoning ends at the LAST occurrence of this marker (see evals.grading.thinking)
    think_end: str = "</think>"
