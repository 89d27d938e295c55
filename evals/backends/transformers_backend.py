"""Generation with a transformers causal LM on CPU or CUDA: batched, left-padded, KV-cached.

    backend = TransformersBackend.from_pretrained("path/to/model", device="cpu")
    completions = backend.generate(prompts, SamplingParams(n=4, temperature=0.6, max_new_tokens=512))

Weights in place: `backend.model` is the live nn.Module. A lam sweep may write merged
weights into it between `generate()` calls (`backend.load_weights(named_tensors)` or any
in-place copy into its parameters); every call builds a fresh KV cache, so nothing
computed with the old weights survives. Pass the merge's own fingerprint to the runner,
since the model directory no longer describes the weights.

Token accounting: `token_ids` are the generated ids only: no prompt, no padding, nothing
after the end. The EOS token that ended a sample IS included (it was generated and paid
for; vLLM counts it the same way) but is not part of `text`. A stop string ends the
sample after the token that completed it; `text` stops before the stop string.
finish_reason is "stop" for EOS or a stop string and "length" when `max_new_tokens` ran out.

Determinism: each sample draws from its own torch.Generator seeded by
(params.seed, sample index, prompt) (`evals.backends.seeding`), so results do not depend
on batch composition or batch size (up to floating-point differences of padded batches).
"""
from __future__ import annotations

from pathlib import Path
import inspect
from typing import Mapping, Sequence

import torch

from evals.backends.base import Completion, SamplingParams
from merging.expert_layout import LiveTensors, copy_into
from evals.backends.seeding import resolve_indices, sample_seed
from merging.checkpoint import open_checkpoint


def _as_list(x) -> list[int]:
    if x is None:
        return []
    return [int(v) for v in x] if isinstance(x, (list, tuple)) else [int(x)]


def filter_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, top-k, top-p on float32 logits (b, V) -> filtered logits (b, V)."""
    logits = logits / params.temperature
    if params.top_k and params.top_k > 0 and params.top_k < logits.shape[-1]:
        top = torch.topk(logits, params.top_k, dim=-1)  # (b, k), descending
        kth = top.values[:, -1:]  # (b, 1)
        if params.top_p < 1.0:  # top-p among the few kept (ties at the k-th included), not all V
            m = int((logits >= kth).sum(-1).max())
            vals, order = (top.values, top.indices) if m == params.top_k else torch.topk(logits, m, dim=-1)
            vals = vals.masked_fill(vals < kth, float("-inf"))  # (b, m)
            probs = torch.softmax(vals, dim=-1)
            vals = vals.masked_fill((torch.cumsum(probs, dim=-1) - probs) >= params.top_p, float("-inf"))
            return torch.full_like(logits, float("-inf")).scatter_(-1, order, vals)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)  # (b, V)
        probs = torch.softmax(sorted_logits, dim=-1)
        # drop a token once the mass BEFORE it already reaches top_p (the first always stays)
        drop = (torch.cumsum(probs, dim=-1) - probs) >= params.top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.empty_like(logits).scatter_(-1, order, sorted_logits)
    return logits


# Any one of these makes a folder's tokenizer loadable (fast, slow sentencepiece, BPE vocab).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def load_tokenizer(path: str):
    """AutoTokenizer of a checkpoint folder or hub id; a folder without tokenizer files is
    refused by name (transformers would otherwise load some default and fail later as 'no
    chat template')."""
    from transformers import AutoTokenizer

    if Path(path).is_dir() and not any((Path(path) / f).is_file() for f in TOKENIZER_FILES):
        raise ValueError(f"{path}: no tokenizer ({', '.join(TOKENIZER_FILES)} all missing); copy the "
                         "tokenizer files of the parent in (spectrum merge copies them from --copy-from)")
    return AutoTokenizer.from_pretrained(path)


def cache_keyword(model) -> str:
    """The forward() keyword for the KV cache: `cache` on transformers 5.x (5.24 deprecates
    `past_key_values`, removed in 5.40), `past_key_values` on 4.x."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


class TransformersBackend:
    name = "transformers"
    supports_sample_indices = True

    def __init__(self, model, tokenizer, *, batch_size: int = 8, device: str | torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size
        if device is not None:
            self.model.to(device)
        self.device = next(self.model.parameters()).device
        self.model.eval()
        gen_cfg = getattr(self.model, "generation_config", None)
        self.eos_ids = set(_as_list(getattr(gen_cfg, "eos_token_id", None))) | set(_as_list(tokenizer.eos_token_id))
        if not self.eos_ids:
            raise ValueError("neither the tokenizer nor the model's generation_config names an eos token; set eos_token")
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else min(self.eos_ids)
        self.cache_kw = cache_keyword(self.model)

    @classmethod
    def from_pretrained(cls, path: str, device: str = "cpu", dtype: str | torch.dtype | None = None,
                        *, batch_size: int = 8) -> "TransformersBackend":
        from transformers import AutoModelForCausalLM

        if isinstance(dtype, str) and dtype != "auto":
            dtype = getattr(torch, dtype)
        if Path(path).is_dir():
            open_checkpoint(path)  # refuses pickle-only checkpoints, as merge and sweep do
        tokenizer = load_tokenizer(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32, use_safetensors=True)
        return cls(model, tokenizer, batch_size=batch_size, device=device)

    @torch.no_grad()
    def load_weights(self, named_tensors: Mapping[str, torch.Tensor] | Sequence[tuple[str, torch.Tensor]]) -> int:
        """Copy checkpoint tensors into the live model by checkpoint name (tied names work; MoE
        per-expert names land in transformers 5's fused experts: `expert_layout.LiveTensors`)."""
        items = named_tensors.items() if isinstance(named_tensors, Mapping) else named_tensors
        live = LiveTensors(self.model)
        count = 0
        for name, tensor in items:
            copy_into(live.find, name, tensor)
            count += 1
        return count

    def generate(self, prompts: Sequence[str], params: SamplingParams, *, sample_indices=None) -> list[list[Completion]]:
        indices = resolve_indices(len(prompts), params.n, sample_indices)
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        jobs = [(pi, si) for pi, ix in enumerate(indices) for si in ix]
        # longest prompts first: batches of similar length waste less padding
        jobs.sort(key=lambda j: -len(encoded[j[0]]))
        results: dict[tuple[int, int], Completion] = {}
        for start in range(0, len(jobs), self.batch_size):
            chunk = jobs[start : start + self.batch_size]
            seeds = [sample_seed(params.seed, prompts[pi], si) for pi, si in chunk]
            outs = self._generate_batch([encoded[pi] for pi, _ in chunk], seeds, params)
            results.update(zip(chunk, outs))
        return [[results[(pi, si)] for si in ix] for pi, ix in enumerate(indices)]

    def _sample(self, logits: torch.Tensor, gens: list[torch.Generator], params: SamplingParams) -> torch.Tensor:
        if params.greedy:
            return logits.argmax(dim=-1)
        probs = torch.softmax(filter_logits(logits, params), dim=-1)  # (b, V)
        return torch.cat([torch.multinomial(probs[j], 1, generator=g) for j, g in enumerate(gens)])

    def _stopped_by_string(self, ids: list[int], stops: tuple[str, ...], window: int) -> bool:
        tail = self.tokenizer.decode(ids[-window:], skip_special_tokens=False)
        return any(s in tail for s in stops)

    def _finish(self, ids: list[int], reason: str, stops: tuple[str, ...], seed: int) -> Completion:
        body = ids[:-1] if reason == "stop" and ids and ids[-1] in self.eos_ids else ids
        text = self.tokenizer.decode(body, skip_special_tokens=False)
        cuts = [text.find(s) for s in stops if s and s in text]
        if cuts:
            text = text[: min(cuts)]
        return Completion(text=text, token_ids=tuple(ids), finish_reason=reason, meta={"sample_seed": seed})

    def _generate_batch(self, token_lists: list[list[int]], seeds: list[int], params: SamplingParams) -> list[Completion]:
        from transformers import DynamicCache

        b, width = len(token_lists), max(len(t) for t in token_lists)
        if width == 0:
            raise ValueError("empty prompt: every prompt needs at least one token")
        input_ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((b, width), dtype=torch.long)
        for i, toks in enumerate(token_lists):  # left padding
            input_ids[i, width - len(toks) :] = torch.tensor(toks, dtype=torch.long)
            attn[i, width - len(toks) :] = 1
        input_ids, attn = input_ids.to(self.device), attn.to(self.device)
        pos = (attn.cumsum(-1) - 1).clamp(min=0)  # (b, width): padding does not shift positions
        gens = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        window = max((len(s) for s in params.stop), default=0) + 8
        generated: list[list[int]] = [[] for _ in range(b)]
        finish: list[str | None] = [None] * b
        active = list(range(b))
        cache = DynamicCache(config=self.model.config)  # fresh per call: no state outlives weights
        with torch.inference_mode():
            out = self.model(input_ids=input_ids, attention_mask=attn, position_ids=pos,
                             use_cache=True, logits_to_keep=1, **{self.cache_kw: cache})
            next_pos = pos[:, -1:] + 1  # (b, 1)
            for _ in range(params.max_new_tokens):
                tokens = self._sample(out.logits[:, -1, :].float(), [gens[r] for r in active], params)  # (a,)
                keep = []
                for j, (r, t) in enumerate(zip(active, tokens.tolist())):  # one device sync per step
                    generated[r].append(t)
                    if t in self.eos_ids:
                        finish[r] = "stop"
                    elif params.stop and self._stopped_by_string(generated[r], params.stop, window):
                        finish[r] = "stop"
                    elif len(generated[r]) >= params.max_new_tokens:
                        finish[r] = "length"
                    else:
                        keep.append(j)
                if not keep:
                    break
                if len(keep) < len(active):  # drop finished rows from the batch and the cache
                    sel = torch.tensor(keep, device=self.device)
                    cache.batch_select_indices(sel)
                    attn, next_pos, tokens = attn[sel], next_pos[sel], tokens[sel]
                    active = [active[j] for j in keep]
                attn = torch.cat([attn, attn.new_ones((len(active), 1))], dim=1)
                out = self.model(input_ids=tokens[:, None], attention_mask=attn, position_ids=next_pos,
                                 use_cache=True, **{self.cache_kw: cache})
                next_pos = next_pos + 1
        return [self._finish(generated[i], finish[i] or "length", params.stop, seeds[i]) for i in range(b)]
