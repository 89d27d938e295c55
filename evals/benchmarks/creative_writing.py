"""Creative Writing v3 (EQ-Bench creative-writing-bench): 32 prompts x 3 seed modifiers.

Not on the hub: pass `--data` pointing at the bench's `data/` folder (or directly at
`creative_writing_prompts_v3.json`: {id: {"writing_prompt", "seed_modifiers", ...}}).
Iteration i of a prompt replaces `<SEED>` with seed_modifiers[(i-1) % len] (as the
bench does). There is no gold answer: `grade` only records offline style-bleed
measures; the score comes from a rubric judge afterwards (`evals.grading.judge`), which
needs the bench's criteria files from the same folder.
Prompt: the paper ran this bench through EQ-Bench's own pipeline, not the Qwen2.5-Math
harness, so there is no harness prompt to reproduce; chatml_system sends the filled-in
writing prompt as the user turn under the harness's system message.
Version history: 1 - first version.
"""
from __future__ import annotations

from pathlib import Path

from evals.benchmarks.base import Benchmark, Grade, Problem
from evals.benchmarks.loading import load_rows
from evals.benchmarks.registry import register

NAME = "creative_writing"
PROMPTS_FILE = "creative_writing_prompts_v3.json"
ITERATIONS = 3


def load(path: str | None, iterations: int = ITERATIONS) -> list[Problem]:
    if path is None:
        raise ValueError(
            f"benchmark {NAME!r} is not on the Hugging Face hub; pass --data DIR, the data/ folder of "
            f"EQ-Bench's creative-writing-bench repository (with {PROMPTS_FILE})"
        )
    p = Path(path)
    rows = load_rows(p / PROMPTS_FILE if p.is_dir() else p, hub_id=None, name=NAME,
                     fields_hint="writing_prompt, seed_modifiers")
    problems = []
    for row in rows:
        base, mods = row.get("writing_prompt"), row.get("seed_modifiers") or []
        if not base or not mods:
            raise ValueError(f"{p}: prompt {row.get('id')!r} needs writing_prompt and a non-empty seed_modifiers list")
        for it in range(1, iterations + 1):
            problems.append(Problem(
                id=f"{row['id']}/{it}", prompt=base.replace("<SEED>", mods[(it - 1) % len(mods)]), gold="",
                meta={"base_prompt": base, "category": row.get("category", ""), "iteration": it},
            ))
    return problems


def grade(problem: Problem, answer_text: str) -> Grade:
    """No gold: never 'correct'; an empty answer is malformed. Judge scores come later."""
    return Grade(correct=False, extracted=None, malformed=not answer_text.strip())


BENCHMARK = register(Benchmark(
    name=NAME, version="1", kind="creative", hub_id=None, load=load, grade=grade, default_samples=1,
    description="Creative Writing v3, rubric-judged (0-100); style-bleed measured offline",
))
