"""Rubric judging for Creative Writing v3 (EQ-Bench `creative-writing-bench`).

A judge is anything with `complete(prompt: str) -> str`: an OpenAI-compatible endpoint
(`OpenAIJudge`, stdlib urllib, no extra dependency) or a local model through the same
backends as generation (`BackendJudge`). The rubric (criteria, the "lower is better"
criteria and the judging prompt template with placeholders {writing_prompt},
{test_model_response}, {creative_writing_criteria}, {lower_is_better_criteria}) comes
from the creative-writing-bench data folder: `Rubric.from_dir(DIR)`.

Score of one piece (as EQ-Bench computes it): parse "Criterion: score" lines (0-20,
values above 20 dropped), invert the negative criteria (20 - x), average; the benchmark
score is the mean over pieces x 5 (0-100).
"""
from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from evals.backends.base import SamplingParams
from evals.grading.thinking import split_text

SCORE_MAX = 20.0
_SCORE_LINE = re.compile(r"^\s*\**([^:\n]+?)\**\s*:\s*\[?\s*(?:Score\s+)?(-?\d+(?:\.\d+)?)\s*\]?", re.MULTILINE)


class Judge(Protocol):
    def complete(self, prompt: str) -> str: ...


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[str, ...]
    negative: tuple[str, ...]
    template: str

    @classmethod
    def from_dir(cls, path: str | Path) -> "Rubric":
        d = Path(path)
        names = ("creative_writing_criteria.txt", "negative_criteria.txt", "creative_writing_judging_prompt.txt")
        missing = [n for n in names if not (d / n).is_file()]
        if missing:
            raise FileNotFoundError(
                f"{d}: missing {', '.join(missing)}; copy the data/ folder of EQ-Bench's "
                "creative-writing-bench repository there"
            )

        def lines(name: str) -> tuple[str, ...]:
            return tuple(x.strip() for x in (d / name).read_text(encoding="utf-8").splitlines() if x.strip())

        return cls(lines(names[0]), lines(names[1]), (d / names[2]).read_text(encoding="utf-8"))

    def prompt(self, writing_prompt: str, response: str) -> str:
        return self.template.format(
            writing_prompt=writing_prompt,
            test_model_response=response,
            creative_writing_criteria="\n".join("- " + c for c in self.criteria),
            lower_is_better_criteria=", ".join(self.negative),
        )


def parse_scores(judge_text: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for m in _SCORE_LINE.finditer(judge_text):
        value = float(m.group(2))
        if 0 <= value <= SCORE_MAX:
            scores[m.group(1).strip()] = value
    return scores


def piece_score(scores: dict[str, float], negative: Sequence[str]) -> float | None:
    """Mean rubric score on 0-20 with negative criteria inverted; None if nothing parsed."""
    neg = set(negative)
    vals = [SCORE_MAX - v if k in neg else v for k, v in scores.items()]
    return sum(vals) / len(vals) if vals else None


@dataclass(frozen=True)
class JudgedPiece:
    scores: dict
    score_0_20: float | None
    raw: str


def judge_piece(judge: Judge, rubric: Rubric, writing_prompt: str, response: str) -> JudgedPiece:
    raw = judge.complete(rubric.prompt(writing_prompt, response))
    scores = parse_scores(raw)
    return JudgedPiece(scores=scores, score_0_20=piece_score(scores, rubric.negative), raw=raw)


def benchmark_score(pieces: Sequence[JudgedPiece]) -> float | None:
    """EQ-Bench creative score on 0-100: mean piece score x 5 (unparsed pieces skipped)."""
    vals = [p.score_0_20 for p in pieces if p.score_0_20 is not None]
    return 5.0 * sum(vals) / len(vals) if vals else None


class OpenAIJudge:
    """A chat model behind an OpenAI-compatible `/v1/chat/completions` endpoint."""

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY",
                 temperature: float = 0.0, max_tokens: int = 1000, timeout_s: float = 300.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key_env = model, api_key_env
        self.temperature, self.max_tokens, self.timeout_s = temperature, max_tokens, timeout_s

    def complete(self, prompt: str) -> str:
        body = json.dumps({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            data = json.loads(resp.read().decode("utf-8"))
        return data["choices"][0]["message"]["content"]


class BackendJudge:
    """A local judge model through any generation backend (greedy by default)."""

    def __init__(self, backend, tokenizer, *, max_new_tokens: int = 1000):
        self.backend, self.tokenizer = backend, tokenizer
        self.params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens)

    def complete(self, prompt: str) -> str:
        rendered = self.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        text = self.backend.generate([rendered], self.params)[0][0].text
        return split_text(text).answer  # a thinking judge's verdict follows its </think>
