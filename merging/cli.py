"""`spectrum merge`: merge a direct and a thinking model at strength lam, or a sweep.

    spectrum merge --method linear --direct D --think T --lam 0.6 --out merged/
    spectrum merge --method dare --direct D --think T --base B --lam 0.1,0.5,0.9 \\
        --param p=0.2 --seed 1 --out sweep/        # -> sweep/lam_0.10, sweep/lam_0.50, ...
    spectrum merge --config merge.yaml             # YAML keys = flag names (flags win)
    spectrum merge --method linear --direct D --think T --out m/ --lam 1 \
        --lam-schedule '{"default": 0.5, "self_attn": 0.8}'   # per-tensor strengths, scaled by lam
    spectrum merge --method surgical --direct D --think T --lam 0.05 --paper-compat --out m/

A schedule (`--lam-schedule FILE|JSON`, or `lam_schedule:` in --config) gives each tensor its
own strength, lam * v(name): see merging/schedule.py for the rules (first match wins, layer
curves) and how lam scales them.

`spectrum merge --help` lists every method with its parameters and paper.
"""
from __future__ import annotations

import argparse
import math
import textwrap
from pathlib import Path

import yaml

from merging.checkpoint import open_checkpoint
from merging.engine import merge
from merging.output import sweep_outs
from merging.registry import get_method, list_methods
from merging.schedule import Schedule

# flag -> default; YAML keys are the same names (dashes or underscores)
DEFAULTS = {
    "method": None, "direct": None, "think": None, "base": None, "lam": None, "out": None,
    "param": [], "params": {}, "seed": 0, "device": "cpu", "dtype": None, "max_shard_size": "5GB",
    "copy_from": "think", "force": False, "allow_extrapolation": False, "allow_nonfinite": False,
    "progress": True, "lam_schedule": None, "paper_compat": False,
}


def methods_help() -> str:
    lines = ["methods (lam = weight of the thinking parent: 0 = direct, 1 = thinking):"]
    for name in list_methods():
        spec = get_method(name)
        lines.append(f"  {name}{'  [needs --base]' if spec.needs_base else ''}")
        lines.extend(textwrap.wrap(spec.description, 88, initial_indent=" " * 6, subsequent_indent=" " * 6))
        for key, p in spec.params.items():
            choices = f" {{{'|'.join(map(str, p.choices))}}}" if p.choices else ""
            lines.append(f"      --param {key}={p.default}{choices}: {p.help}")
        lines.append(f"      paper: {spec.paper}")
    lines.append("")
    lines.append("Several lam values (--lam 0.1,0.2,0.3) write one directory per value under --out:")
    lines.append("OUT/lam_0.10, OUT/lam_0.20, ... (all from a single read of the parents).")
    return "\n".join(lines)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "merge", help="merge a direct and a thinking model at strength lam (or a sweep)",
        description="Merge a direct and a thinking checkpoint (HF directories or hub ids) at "
        "strength lam (0 = direct, 1 = thinking). Output: sharded safetensors with index, "
        "config.json, tokenizer/chat template/generation config copied from --copy-from, and "
        "merge_provenance.json, written to a temporary sibling and renamed at the end.",
        epilog=methods_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="YAML file whose keys stand in for the flags; flags win")
    p.add_argument("--method", help=f"one of: {', '.join(list_methods())}")
    p.add_argument("--direct", help="the direct (non-thinking) parent: directory or hub id")
    p.add_argument("--think", help="the thinking parent: directory or hub id")
    p.add_argument("--base", help="the shared base model (only for methods that need one)")
    p.add_argument("--lam", help="thinking weight, or a comma list for a sweep (0.1,0.5,0.9)")
    p.add_argument("--out", help="output directory (a sweep writes OUT/lam_0.10, ...)")
    p.add_argument("--lam-schedule", metavar="FILE|JSON",
                   help="per-tensor strengths: a YAML/JSON file or JSON text, e.g. '{\"default\": 0.5, "
                   "\"self_attn\": 0.8}' or '{\"lam_layers\": \"linear(0.3, 0.9)\"}'; each tensor is "
                   "merged at lam * its value (so --lam 1 gives the values as written)")
    p.add_argument("--param", action="append", metavar="K=V", help="method parameter (repeatable)")
    p.add_argument("--seed", type=int, help="seed for random methods (DARE), mixed with each tensor name")
    p.add_argument("--device", help="compute device: cpu (default) or cuda")
    p.add_argument("--dtype", help="output dtype: float32, bfloat16, float16 (default: the parents')")
    p.add_argument("--max-shard-size", help="largest output shard, e.g. 5GB (default), 500MB")
    p.add_argument("--copy-from", choices=["direct", "think", "base"],
                   help="parent whose tokenizer, chat template, generation and model config are "
                   "copied (default: think, whose chat template opens <think>)")
    p.add_argument("--force", action="store_true", default=None, help="replace existing outputs")
    p.add_argument("--allow-extrapolation", action="store_true", default=None, help="allow lam outside [0, 1]")
    p.add_argument("--allow-nonfinite", action="store_true", default=None, help="merge parents holding NaN/Inf")
    p.add_argument("--paper-compat", action="store_true", default=None,
                   help="reproduce the paper's code where it differs (tied embedding counted/added twice "
                   "in ties, emr and the top-share merges; int() counting); recorded in provenance")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    p.set_defaults(func=run)
    return p


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of flag names to values")
    out = {}
    for key, value in data.items():
        norm = str(key).replace("-", "_")
        if norm not in DEFAULTS:
            raise ValueError(f"{path}: unknown key {key!r}; valid: {', '.join(sorted(DEFAULTS))}")
        out[norm] = value
    return out


def _parse_lams(value) -> list[float]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    try:
        lams = [float(x) for x in items if str(x).strip() != ""]
    except ValueError:
        raise ValueError(f"--lam {value!r}: expected a number or a comma list like 0.1,0.5,0.9") from None
    if not lams or not all(math.isfinite(x) for x in lams):
        raise ValueError(f"--lam {value!r}: expected finite numbers, e.g. 0.1,0.5,0.9")
    repeated = sorted({x for x in lams if lams.count(x) > 1})
    if repeated:
        raise ValueError(f"--lam {value!r}: {', '.join(f'{x:g}' for x in repeated)} given twice; give each lam once")
    return lams


def resolve_args(args: argparse.Namespace) -> dict:
    """Defaults <- YAML (--config) <- command-line flags; checks the required ones."""
    merged = dict(DEFAULTS)
    if args.config is not None:
        merged.update(_load_yaml(args.config))
    merged.update({k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None})
    for key in ("method", "direct", "think", "lam", "out"):
        if merged[key] is None:
            raise ValueError(f"--{key} is required (or {key}: in --config)")
    if not isinstance(merged["params"], dict):
        raise ValueError("params: in --config must be a mapping of parameter names to values")
    params = dict(merged["params"])
    for item in merged["param"] or []:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise ValueError(f"--param {item!r}: expected K=V, e.g. --param p=0.2")
        if key.strip() in params:
            raise ValueError(f"--param {key.strip()} given twice ({key.strip()}={params[key.strip()]}, {item}); "
                             "give each parameter once")
        params[key.strip()] = value
    merged["params"] = get_method(merged["method"]).validate_params(params)
    merged["lam"] = _parse_lams(merged["lam"])
    return merged


def resolve_schedule(a: dict) -> Schedule | None:
    """The --lam-schedule for the thinking parent's tensors (its layer count from its config),
    checked: every rule matches a tensor, every strength in [0, 1] unless extrapolation."""
    if a["lam_schedule"] is None:
        return None
    think = open_checkpoint(a["think"])
    layers = (think.config or {}).get("num_hidden_layers")
    schedule = Schedule.parse(a["lam_schedule"], num_layers=layers if isinstance(layers, int) else None)
    floats = [n for n, info in think.tensors.items() if info.dtype.is_floating_point]
    schedule.check(floats, a["lam"], bool(a["allow_extrapolation"]), where=f"--think {a['think']}")
    return schedule


def run(args: argparse.Namespace) -> int:
    a = resolve_args(args)
    outs = sweep_outs(a["out"], a["lam"])
    schedule = resolve_schedule(a)
    written = merge(
        a["method"], a["direct"], a["think"], a["base"], lams=a["lam"], outs=outs, params=a["params"],
        seed=int(a["seed"]), dtype=a["dtype"], max_shard_size=a["max_shard_size"], force=bool(a["force"]),
        device=a["device"], copy_from=a["copy_from"], allow_nonfinite=bool(a["allow_nonfinite"]),
        allow_extrapolation=bool(a["allow_extrapolation"]), progress=bool(a["progress"]), strength=schedule,
        paper_compat=bool(a["paper_compat"]))
    for lam, out in zip(a["lam"], written):
        print(f"lam={lam:g}{'' if schedule is None else ' x ' + schedule.label}\t{out}")
    return 0
