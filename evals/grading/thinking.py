"""Split a generation into its reasoning and its answer, in text and in tokens.

Qwen3 thinking models (and merges of them) write `...reasoning...</think>answer`; the
chat template already opened `<think>`, so only the closing tag appears. Everything up
to and including the LAST closing marker is reasoning; what follows is the answer.

Token accounting (counted from generated token ids, never by re-encoding text):
- marker found: reasoning = tokens up to and including the last marker, answer = the rest;
- no marker, finish_reason "length": the model was still thinking when the cap hit, so all
  tokens are reasoning and the sample is truncated (graded wrong);
- no marker, stopped normally: a direct answer, all tokens are answer tokens.
- no marker, and the prompt never opened a think block (prompt_mode "chatml_system", the
  paper's raw ChatML: a thinking model there reasons without `<think>` and often never
  writes `</think>`): the split is UNKNOWN, not "all answer". `known` is False and both
  counts are 0; generated_tokens stays exact, and every figure built on the split
  (thinking share, reasoning tokens) reports unknown for such samples.
Any finish_reason "length" is flagged truncated (the answer may be cut mid-way), and the
runner counts truncated samples wrong.

The marker is `</think>` by default (Qwen3: one special token, id 151668); a benchmark may
name another (`Benchmark.think_end`), e.g. a synthetic fixture's own separator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

THINK_END = "</think>"
THINK_TAGS = ("<think>", "</think>")


@dataclass(frozen=True)
class TextSplit:
    reasoning: str  # up to and including the last marker ("" when there is none)
    answer: str
    thought: bool  # the marker was present


@dataclass(frozen=True)
class TokenSplit:
    reasoning_tokens: int
    answer_tokens: int
    thought: bool  # the marker token(s) occur in the generated ids
    truncated: bool  # finish_reason == "length"
    known: bool = True  # False: no marker and no opened think block, the split cannot be told


def split_text(text: str, marker: str = THINK_END) -> TextSplit:
    """Split at the LAST occurrence of `marker` (earlier ones belong to the reasoning)."""
    idx = text.rfind(marker)
    if idx < 0:
        return TextSplit(reasoning="", answer=text, thought=False)
    cut = idx + len(marker)
    return TextSplit(reasoning=text[:cut], answer=text[cut:], thought=True)


def reasoned(split: TextSplit, marker: str = THINK_END, *, truncated: bool = False) -> bool:
    """Whether an output reasoned: non-blank text before the last marker. An empty think
    block (`</think>` straight away, as Qwen3 and the tiny direct parent write it) is no
    reasoning; an output cut off at the cap before any marker is all reasoning."""
    if not split.thought:
        return truncated and bool(split.answer.strip())
    return bool(split.reasoning[: -len(marker)].replace("<think>", "").strip())


def _last_subsequence_end(ids: Sequence[int], pattern: Sequence[int]) -> int:
    """Index one past the end of the last occurrence of `pattern` in `ids`, or -1."""
    m = len(pattern)
    if m == 0:
        return -1
    first = pattern[0]
    for start in range(len(ids) - m, -1, -1):
        if ids[start] == first and list(ids[start : start + m]) == list(pattern):
            return start + m
    return -1


def split_tokens(
    token_ids: Sequence[int], marker_ids: Sequence[int] | int | None, finish_reason: str, *, opened: bool = True
) -> TokenSplit:
    """Count reasoning vs answer tokens. `marker_ids`: the id of `</think>` (or the id
    sequence of a multi-token marker); None means the vocabulary has no marker. `opened`:
    whether the prompt opened a think block (False for the paper's raw ChatML prompt)."""
    if isinstance(marker_ids, int):
        marker_ids = (marker_ids,)
    n = len(token_ids)
    truncated = finish_reason == "length"
    end = _last_subsequence_end(token_ids, marker_ids) if marker_ids else -1
    if end >= 0:
        return TokenSplit(reasoning_tokens=end, answer_tokens=n - end, thought=True, truncated=truncated)
    if not opened:
        return TokenSplit(reasoning_tokens=0, answer_tokens=0, thought=False, truncated=truncated, known=False)
    if truncated:
        return TokenSplit(reasoning_tokens=n, answer_tokens=0, thought=False, truncated=True)
    return TokenSplit(reasoning_tokens=0, answer_tokens=n, thought=False, truncated=False)


def prompt_opens_think(prompt_mode: str) -> bool:
    """Whether a prompt mode lets the model's template open `<think>` (all but the paper's
    raw ChatML, which has no template)."""
    return prompt_mode != "chatml_system"


def marker_token_ids(tokenizer, marker: str = THINK_END) -> tuple[int, ...] | None:
    """The generated-id form of `marker`: its single token id when the vocabulary has it
    (Qwen3: `tokenizer.convert_tokens_to_ids("</think>") == 151668`), else its encoding
    without special tokens (exact for character-level vocabularies), else None."""
    if tokenizer is None:
        return None
    tid = tokenizer.convert_tokens_to_ids(marker)
    unk = getattr(tokenizer, "unk_token_id", None)
    if isinstance(tid, int) and tid >= 0 and tid != unk:
        return (tid,)
    ids = tokenizer.encode(marker, add_special_tokens=False)
    if not ids or (unk is not None and unk in ids):
        return None
    return tuple(ids)
