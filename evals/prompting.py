"""Turn a benchmark problem into the exact prompt string a backend receives.

Modes (recorded in every SampleRecord as `prompt_mode`):
- "chat_template" (default): the model's own chat template with the problem's user
  message (plus the benchmark's system prompt, if it has one) and the generation prompt.
  Qwen3 Thinking-2507's template opens `<think>` itself.
- "chatml_system": the paper's raw ChatML prompt, as its code (`thulanxc/ThinkingSpectrum`,
  Reasoning_Benchmarks/utils.py, prompt type "qwen25-no-cot", used for every benchmark)
  builds it: a fixed system message, the bare question as user message, no template.
  The system wording is copied verbatim, including its typo "anwser". The user turn is
  `problem.meta["question"]`, which each benchmark fills with the harness's question text
  (GPQA: the question, then `\nAnswer Choices: (A) .. (B) .. (C) .. (D) ..` in the file's
  option order); tests/test_paper_prompts.py compares every benchmark with a literal.
  Thinking models get no `<think>` here and often never write `</think>`: their split is
  recorded as unknown (see evals.grading.thinking).
- "raw": the problem's prompt text as it is (synthetic fixtures trained without a template).
"""
from __future__ import annotations

from evals.benchmarks.base import Benchmark, Problem

PROMPT_MODES = ("chat_template", "chatml_system", "raw")

PAPER_SYSTEM_PROMPT = "Please anwser the question and put your final answer within \\boxed{}."
_CHATML = "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def render_prompt(tokenizer, problem: Problem, benchmark: Benchmark, mode: str = "chat_template") -> str:
    if mode == "chat_template":
        if getattr(tokenizer, "chat_template", None) is None:
            raise ValueError(
                f"tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template; "
                "use --prompt-mode chatml_system (paper's raw ChatML) or raw"
            )
        messages = []
        if benchmark.system_prompt:
            messages.append({"role": "system", "content": benchmark.system_prompt})
        messages.append({"role": "user", "content": problem.prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if mode == "chatml_system":
        # the paper's user turn is the bare question: its system message carries the instruction
        return _CHATML.format(system=PAPER_SYSTEM_PROMPT, user=problem.meta.get("question", problem.prompt))
    if mode == "raw":
        return problem.prompt
    raise ValueError(f"unknown prompt mode {mode!r}; choose one of {', '.join(PROMPT_MODES)}")
