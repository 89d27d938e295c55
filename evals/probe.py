"""Prefill-only transition probe: predict where along lam a merge starts to think, without generating.

For every strength lam on a grid the merged weights are written into one live model
(merging.inplace.InPlaceMerger) and, with teacher forcing only, each sampled problem gets

    score(lam, problem) = log p_lam(T | prompt) - log p_lam(D | prompt)

where T is how the thinking parent starts its output (its greedy first `ref_tokens`
tokens after the generation prompt, which opens the think block) and D how the direct
parent starts (its own first tokens, or `</think>` closing the block at once). Under
greedy decoding the merge's first token is the decision between thinking and answering,
so score > 0 predicts that the merge thinks on that problem (exactly so for one-token
references, unless a third token beats both).

From the per-problem decisions the probe predicts, at each lam,
- the thinking share (prefill only), and
- when the parents' own per-problem results are known (one generation pass per parent,
  which any sweep makes anyway), the accuracy and tokens of a merge that, on every
  problem, behaves like the parent whose start it prefers.
These predicted points are ordinary analysis Points, so the transition is fitted by the
same code as measured curves (evals.analysis.transition.analyze_transition: the grid
logistic, paired bootstrap over problems for the centre's CI).

Cost: one forward pass per batch of problems per lam (one per reference when the two
references are longer than one token), plus `ref_tokens` passes per parent for the
references; `ProbeResult.cost` counts passes and tokens processed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from evals.analysis.points import Curve, Point
from evals.analysis.transition import Transition, analyze_transition
from merging.expert_layout import LiveTensors, copy_into
from evals.benchmarks.base import Benchmark, Problem
from evals.prompting import render_prompt

THINK_CLOSE = "</think>"


@dataclass
class Cost:
    forward_passes: int = 0  # model calls (one batch each)
    tokens: int = 0  # tokens processed by those calls (padding excluded)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"forward_passes": self.forward_passes, "tokens": self.tokens, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class ProbeResult:
    lams: tuple[float, ...]
    problem_ids: tuple[str, ...]  # sorted
    scores: np.ndarray  # [L, P] log p(think start) - log p(direct start)
    think_ref: tuple[tuple[int, ...], ...]  # per problem
    direct_ref: tuple[tuple[int, ...], ...]
    cost: Cost = field(default_factory=Cost)

    @property
    def thinks(self) -> np.ndarray:
        """[L, P] bool: the merge is predicted to think."""
        return self.scores > 0

    def think_share(self) -> np.ndarray:
        return self.thinks.mean(axis=1)


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


@torch.no_grad()
def continuation_logprobs(model, seqs: list[list[int]], conts: list[list[int]], pad_id: int,
                          batch: int, cost: Cost) -> np.ndarray:
    """log p(cont | seq) under teacher forcing, one float per row; left-padded batches with
    position ids from the attention mask (as `generate` computes them)."""
    out = np.empty(len(seqs))
    for sl in _batches(len(seqs), batch):
        rows = [s + c for s, c in zip(seqs[sl], conts[sl])]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        dev = next(model.parameters()).device
        # rows are right-aligned: every scored position lies in the last `keep` (a real
        # vocabulary times the whole prompt would not fit in memory)
        keep = min(width, max(len(c) for c in conts[sl]) + 1)
        logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                       logits_to_keep=keep).logits
        logp = torch.log_softmax(logits.float(), dim=-1).cpu()
        cost.forward_passes += 1
        cost.tokens += int(mask.sum())
        for i, c in enumerate(conts[sl]):
            # token c[j] sits at width - len(c) + j and is predicted one position earlier
            out[sl.start + i] = sum(float(logp[i, keep - len(c) + j - 1, tok]) for j, tok in enumerate(c))
    return out


@torch.no_grad()
def greedy_start(model, seqs: list[list[int]], n_tokens: int, pad_id: int, batch: int,
                 cost: Cost) -> list[list[int]]:
    """The first `n_tokens` greedy tokens after each sequence, by repeated prefill (no cache)."""
    out = [[] for _ in seqs]
    for _ in range(n_tokens):
        cur = [s + o for s, o in zip(seqs, out)]
        for sl in _batches(len(cur), batch):
            rows = cur[sl]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, r in enumerate(rows):
                ids[i, width - len(r):] = torch.tensor(r)
                mask[i, width - len(r):] = 1
            pos = (mask.cumsum(1) - 1).clamp(min=0)
            dev = next(model.parameters()).device
            logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                           logits_to_keep=1).logits
            nxt = logits[:, -1].argmax(-1).tolist()
            cost.forward_passes += 1
            cost.tokens += int(mask.sum())
            for i, t in enumerate(nxt):
                out[sl.start + i].append(int(t))
    return out


def encode_prompts(tokenizer, problems: list[Problem], benchmark: Benchmark, prompt_mode: str) -> list[list[int]]:
    return [tokenizer(render_prompt(tokenizer, p, benchmark, prompt_mode), add_special_tokens=False)["input_ids"]
            for p in problems]


def _load_parent(model, merger, role: str) -> None:
    live = LiveTensors(model)  # checkpoint names, MoE experts included
    for name, tensor in merger.parents[role].items():
        copy_into(live.find, name, tensor)


def run_probe(model, tokenizer, merger, problems: list[Problem], benchmark: Benchmark, lams, *,
              ref_tokens: int = 1, direct_ref: str = "parent", prompt_mode: str = "chat_template",
              batch: int = 256) -> ProbeResult:
    """Scores of every problem at every lam (model's weights are left at the last lam).

    direct_ref: "parent" (the direct parent's first `ref_tokens` greedy tokens) or "close"
    (the `</think>` token alone, for direct models that never open a think block)."""
    if ref_tokens < 1:
        raise ValueError(f"probe: ref_tokens must be >= 1, got {ref_tokens}")
    if direct_ref not in ("parent", "close"):
        raise ValueError(f"probe: direct_ref must be 'parent' or 'close', got {direct_ref!r}")
    problems = sorted(problems, key=lambda p: p.id)
    if len({p.id for p in problems}) != len(problems) or not problems:
        raise ValueError("probe: needs at least one problem and unique problem ids")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    cost, t0 = Cost(), time.perf_counter()
    seqs = encode_prompts(tokenizer, problems, benchmark, prompt_mode)
    _load_parent(model, merger, "think")
    think = greedy_start(model, seqs, ref_tokens, pad, batch, cost)
    if direct_ref == "close":
        close = tokenizer.convert_tokens_to_ids(THINK_CLOSE)
        if close is None or close == tokenizer.unk_token_id:
            raise ValueError(f"probe: the tokenizer has no single {THINK_CLOSE!r} token; use direct_ref='parent'")
        direct = [[int(close)] for _ in seqs]
    else:
        _load_parent(model, merger, "direct")
        direct = greedy_start(model, seqs, ref_tokens, pad, batch, cost)
    same = sum(t == d for t, d in zip(think, direct))
    scores = np.empty((len(lams), len(problems)))
    for li, lam in enumerate(lams):
        merger.apply(float(lam))
        scores[li] = (continuation_logprobs(model, seqs, think, pad, batch, cost)
                      - continuation_logprobs(model, seqs, direct, pad, batch, cost))
    cost.seconds = time.perf_counter() - t0
    if same == len(problems):
        raise ValueError("probe: the two parents start every sampled problem the same way; nothing to score "
                         "(raise ref_tokens or use direct_ref='close')")
    return ProbeResult(tuple(float(x) for x in lams), tuple(p.id for p in problems), scores,
                       tuple(map(tuple, think)), tuple(map(tuple, direct)), cost)


@dataclass(frozen=True)
class ParentOutcomes:
    """Per-problem results of one parent (mean over its samples): correct and tokens, by problem id."""
    correct: dict[str, float]
    tokens: dict[str, float]


def predicted_points(result: ProbeResult, pair: str, benchmark: str, direct: ParentOutcomes | None = None,
                     think: ParentOutcomes | None = None, method: str = "probe") -> list[Point]:
    """One Point per lam. With both parents' outcomes: correct/tokens of the parent whose start
    the merge prefers on each problem; without: correct = the thinking decision itself
    (the fitted curve is then the thinking share)."""
    ids = result.problem_ids
    pts = []
    for li, lam in enumerate(result.lams):
        th = result.thinks[li].astype(float)
        if direct is not None and think is not None:
            missing = [i for i in ids if i not in direct.correct or i not in think.correct]
            if missing:
                raise ValueError(f"probe: parents' results lack problem(s) {missing[:3]}; evaluate the parents "
                                 "on the probe's sample")
            c = np.array([think.correct[i] if t else direct.correct[i] for i, t in zip(ids, th)])
            tok = np.array([think.tokens[i] if t else direct.tokens[i] for i, t in zip(ids, th)])
            pts.append(Point(pair, method, lam, benchmark, ids, c[:, None], tokens=tok[:, None],
                             thought=th[:, None]))
        else:
            pts.append(Point(pair, method, lam, benchmark, ids, th[:, None], thought=th[:, None]))
    return pts


def predict_transition(result: ProbeResult, pair: str, benchmark: str, direct: ParentOutcomes | None = None,
                       think: ParentOutcomes | None = None, *, n_boot: int = 1000, seed: int = 0,
                       level: float = 0.95) -> Transition:
    """The transition analysis of the predicted curve (centre, 95% bootstrap CI over problems)."""
    pts = predicted_points(result, pair, benchmark, direct, think)
    return analyze_transition(Curve(pair, "probe", benchmark, tuple(pts)), n_boot=n_boot, seed=seed, level=level)
