"""A scripted backend for tests: `script(prompt, sample_index) -> text` (or a Completion).

With a tokenizer the token ids are the real encoding of the text (so token accounting
and the `</think>` split are exercised for real); without one each character is one
token (its code point) - enough for tests that never count tokens. Text longer than
`max_new_tokens` is cut there with finish_reason "length"; a stop string ends the text
before it with finish_reason "stop". `delay_s` slows each sample (kill/resume tests);
`calls` logs every (prompt, sample_index) generated; `batch_size` is how many samples
the runner asks for per call.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

from evals.backends.base import Completion, SamplingParams
from evals.backends.seeding import resolve_indices


class FakeBackend:
    name = "fake"
    supports_sample_indices = True

    def __init__(self, script: Callable[[str, int], "str | Completion"], tokenizer=None, *, delay_s: float = 0.0,
                 batch_size: int = 16):
        self.script, self.tokenizer, self.delay_s, self.batch_size = script, tokenizer, delay_s, batch_size
        self.calls: list[tuple[str, int]] = []

    def _encode(self, text: str) -> list[int]:
        if self.tokenizer is None:
            return [ord(c) for c in text]
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _decode(self, ids: Sequence[int]) -> str:
        if self.tokenizer is None:
            return "".join(chr(i) for i in ids)
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def _complete(self, text: str, params: SamplingParams) -> Completion:
        finish = "stop"
        cut = [(text.find(s), s) for s in params.stop if s and s in text]
        if cut:
            idx, s = min(cut)
            ids = self._encode(text[: idx + len(s)])
            text = text[:idx]
        else:
            ids = self._encode(text)
        if len(ids) > params.max_new_tokens:
            ids, finish = ids[: params.max_new_tokens], "length"
            text = self._decode(ids)
        return Completion(text=text, token_ids=tuple(ids), finish_reason=finish)

    def generate(self, prompts: Sequence[str], params: SamplingParams, *, sample_indices=None) -> list[list[Completion]]:
        out = []
        for prompt, indices in zip(prompts, resolve_indices(len(prompts), params.n, sample_indices)):
            row = []
            for i in indices:
                if self.delay_s:
                    time.sleep(self.delay_s)
                self.calls.append((prompt, i))
                result = self.script(prompt, i)
                row.append(result if isinstance(result, Completion) else self._complete(result, params))
            out.append(row)
        return out
