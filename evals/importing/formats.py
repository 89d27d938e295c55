"""Readers of outside per-sample result files, one problem per `OutsideProblem`.

- "harness": the Qwen2.5-Math evaluation harness (the paper's) JSONL, one line per problem:
  `idx`, `question` (as rendered, GPQA with `\\nAnswer Choices: (A) ..`), `gt`, `code` (list
  of k completions), `score` (list of k grades), plus `pred`, `report`, the data's fields;
- "lm_eval": lm-evaluation-harness `samples_<task>_<time>.jsonl`, one line per doc:
  `doc_id`, `doc`, `target`, `resps` ([[k texts]]), `filtered_resps`, and one field per
  metric (e.g. `exact_match`: one grade for the doc; it stands for each of its k
  completions only when it is 0 or 1, or k is 1);
- "lighteval": lighteval details parquet, one row per doc: `doc` (query, choices,
  gold_index, id), `model_response` (text: k texts, output_tokens: k id lists) and
  `metric` (dict); older versions: `example`/`full_prompt`, `predictions`, `gold`, `metrics`.
A file in none of these gets one line naming the fields found and the fields wanted.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from evals.benchmarks.loading import read_jsonl

FORMATS = {
    "harness": "idx, question, gt, code (list of completions), score (list of grades)",
    "lm_eval": "doc_id, doc, target, resps (list of lists of completions)",
    "lighteval": "doc, model_response (text), metric; or predictions, gold, metrics",
}


@dataclass(frozen=True)
class OutsideProblem:
    id: str
    question: str
    gold: str
    completions: list[str]
    outside: list[float | None]  # the outside grade of each completion (None: not given)
    options: list[str] | None = None  # multiple choice, in displayed order
    token_ids: list[list[int]] | None = None  # generated ids where the file has them
    extra: dict = field(default_factory=dict)


def _rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path).to_dict("records")
    return read_jsonl(path)


def detect(row: dict) -> str | None:
    if {"question", "gt", "code"} <= set(row):
        return "harness"
    if {"doc_id", "resps"} <= set(row):
        return "lm_eval"
    if "model_response" in row or {"predictions", "gold"} <= set(row):
        return "lighteval"
    return None


_CHOICES = re.compile(r"\nAnswer Choices:\s*(\(A\).*)$", re.DOTALL)


def _options_from_question(question: str) -> list[str] | None:
    m = _CHOICES.search(question)
    if not m:
        return None
    parts = re.split(r"\s*\(([A-J])\)\s*", " " + m.group(1))
    return [p.strip() for p in parts[2::2]] or None


def _grade(v) -> float | None:
    if v is None or isinstance(v, str):
        return None
    return float(v)


def _per_completion(doc_metric, k: int) -> list[float | None]:
    """A doc-level grade as per-completion grades: exact when it is 0 or 1 (all wrong / all
    right) or k == 1; a mean over k > 1 completions says nothing about each one (None)."""
    g = _grade(doc_metric)
    return [g] * k if g is not None and (k == 1 or g in (0.0, 1.0)) else [None] * k


def _harness(row: dict, i: int) -> OutsideProblem:
    code = list(row["code"])
    score = list(row.get("score") or [None] * len(code))
    if len(score) != len(code):
        raise ValueError(f"harness line {i + 1}: {len(code)} completions in code but {len(score)} grades in score")
    q = str(row["question"])
    opts = [str(c) for c in row["choices"]] if isinstance(row.get("choices"), list) else _options_from_question(q)
    return OutsideProblem(id=str(row.get("idx", i)), question=q, gold=str(row["gt"]), completions=[str(c) for c in code],
                          outside=[_grade(s) for s in score], options=opts)


def _lm_eval(row: dict, i: int) -> OutsideProblem:
    resps = row["resps"]
    texts = [str(t) for t in (resps[0] if resps and isinstance(resps[0], list) else resps)]
    metric = next((row[k] for k in ("exact_match", "acc", "pass@1", "score") if k in row), None)
    doc = row.get("doc") or {}
    question = str(doc.get("question") or doc.get("problem") or doc.get("Question") or "")
    options = [str(c) for c in doc["choices"]] if isinstance(doc.get("choices"), list) else (
        [str(doc[f"choice{k}"]) for k in range(1, 5)] if all(f"choice{k}" in doc for k in range(1, 5)) else None)
    return OutsideProblem(id=str(row["doc_id"]), question=question, gold=str(row.get("target", "")).strip(),
                          completions=texts, outside=_per_completion(metric, len(texts)), options=options)


def _list(v) -> list:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def _lighteval(row: dict, i: int) -> OutsideProblem:
    if "model_response" in row:
        doc, resp = row.get("doc") or {}, row["model_response"] or {}
        texts = [str(t) for t in _list(resp.get("text"))]
        ids = [list(map(int, t)) for t in _list(resp.get("output_tokens"))] or None
        choices = [str(c) for c in _list(doc.get("choices"))]
        gold_idx = _list(doc.get("gold_index"))
        gold = choices[int(gold_idx[0])] if choices and gold_idx else ""
        metric = row.get("metric") or {}
        question, pid = str(doc.get("query", "")), str(doc.get("id") or i)
    else:
        texts = [str(t) for t in _list(row["predictions"])]
        ids, gold, question, pid = None, str(_list(row["gold"])[0]), str(row.get("example") or row.get("full_prompt", "")), str(i)
        metric = row.get("metrics") or {}
    if isinstance(metric, str):
        metric = json.loads(metric)
    value = next((v for v in metric.values() if isinstance(v, (int, float))), None) if isinstance(metric, dict) else None
    if ids is not None and len(ids) != len(texts):
        ids = None
    extra = {"gold_index": int(gold_idx[0])} if "model_response" in row and gold_idx else {}
    return OutsideProblem(id=pid, question=question, gold=gold, completions=texts, outside=_per_completion(value, len(texts)),
                          options=(choices or None) if "model_response" in row else None, token_ids=ids, extra=extra)


_READERS = {"harness": _harness, "lm_eval": _lm_eval, "lighteval": _lighteval}


def read_outside(path: str | Path, fmt: str = "auto") -> tuple[str, list[OutsideProblem]]:
    """(format, problems) of one outside results file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such results file")
    rows = _rows(p)
    if not rows:
        raise ValueError(f"{p}: no rows")
    if fmt == "auto":
        fmt = detect(rows[0]) or ""
    if fmt not in _READERS:
        wanted = "; or ".join(f"{k}: {{{v}}}" for k, v in FORMATS.items())
        raise ValueError(f"{p}: not an outside results file we can read; fields found: {', '.join(rows[0])}; "
                         f"wanted {wanted}")
    return fmt, [_READERS[fmt](row, i) for i, row in enumerate(rows)]
