"""Everything in a merged model directory besides the weights, and its safe publication.

A merge is written into a temporary sibling directory (`.NAME.tmp-XXXX`) and renamed onto
the destination only at the end, so a merge killed at any moment leaves nothing at the
destination. Copied from one parent (`copy_from`, default the thinking parent, whose chat
template opens the `<think>` block, so the reasoning/answer split works at every lam):
tokenizer files, chat template and generation_config.json; config.json too, with its
dtype updated. `merge_provenance.json` records what made the weights. `sweep_outs` names a sweep's outputs.
"""
from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

import merging

PROVENANCE = "merge_provenance.json"
# Files copied from the chosen parent (weights, config and model cards excluded).
COPY_PATTERNS = ("tokenizer*", "vocab*", "merges.txt", "special_tokens_map.json", "added_tokens.json",
                 "chat_template*", "*.jinja", "generation_config.json", "preprocessor_config.json",
                 "*.tiktoken", "*.model", "LICENSE*")


def make_temp_dir(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))


def copy_side_files(parent_dir: Path, dest: Path) -> list[str]:
    copied = []
    for src in sorted(parent_dir.iterdir()):
        if src.is_file() and any(fnmatch.fnmatch(src.name, p) for p in COPY_PATTERNS):
            shutil.copyfile(src, dest / src.name)
            copied.append(src.name)
    return copied


def write_config(config: dict | None, dest: Path, float_dtype: torch.dtype | None) -> None:
    if config is None:
        return
    config = dict(config)
    if float_dtype is not None:
        name = str(float_dtype).removeprefix("torch.")
        keys = [k for k in ("dtype", "torch_dtype") if k in config] or ["dtype", "torch_dtype"]
        for key in keys:
            config[key] = name
    (dest / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_provenance(dest: Path, record: dict) -> None:
    full = {
        "tool": "thinking-spectrum merging",
        "version": merging.__version__,
        "torch": torch.__version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **record,
    }
    (dest / PROVENANCE).write_text(json.dumps(full, indent=2) + "\n")


def publish(temp: Path, out: Path, force: bool) -> None:
    """Move a finished temp directory onto `out` (replacing it only when forced)."""
    if out.exists():
        if not force:
            raise ValueError(f"{out}: appeared during the merge; pass force=True (--force) to replace it")
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, trash / out.name)
        os.replace(temp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(temp, out)


def discard(temp: Path) -> None:
    shutil.rmtree(temp, ignore_errors=True)


def lam_dir_name(lam: float) -> str:
    """'lam_0.10' for 0.1; as many decimals as it takes to give the value back exactly."""
    for digits in range(2, 18):
        text = f"{lam:.{digits}f}"
        if float(text) == lam:
            return f"lam_{text}"
    return f"lam_{lam!r}"


def sweep_outs(out: str | Path, lams: Sequence[float]) -> list[Path]:
    """One lam: `out` itself. Several: `out/lam_0.10`, `out/lam_0.20`, ..."""
    out = Path(out)
    return [out] if len(lams) == 1 else [out / lam_dir_name(float(lam)) for lam in lams]
