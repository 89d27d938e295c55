"""Offline style-bleed measures for free-form answers (no judge needed).

A merge between a direct and a thinking model can leak the thinking style into what
should be a direct answer. Two cheap signals, computed on the answer text:
- `tag_bleed`: reasoning tags (`<think>`, `</think>`) appear inside the answer;
- `repetition_rate`: share of word n-grams (n=4) that repeat an earlier n-gram, the usual
  symptom of a degenerate, looping generation (0 for fresh text, near 1 for a loop).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from evals.grading.thinking import THINK_TAGS


@dataclass(frozen=True)
class StyleBleed:
    tag_bleed: bool
    repetition_rate: float
    words: int

    def to_dict(self) -> dict:
        return asdict(self)


def repetition_rate(text: str, n: int = 4) -> float:
    """Fraction of word n-grams that already occurred earlier in the text."""
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def style_bleed(answer: str, n: int = 4) -> StyleBleed:
    return StyleBleed(
        tag_bleed=any(tag in answer for tag in THINK_TAGS),
        repetition_rate=repetition_rate(answer, n),
        words=len(re.findall(r"\w+", answer)),
    )
