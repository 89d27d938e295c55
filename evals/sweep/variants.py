"""Method entries of a sweep config: a label, or a mapping with a strength schedule and the
paper's code's quirks (paper_compat), each turned into one tagged label.

    paper_compat: false                          # top level: the default of every entry below
    methods:
      - linear                                   # a label, as ever
      - method: linear                           # per-tensor strengths (merging.schedule),
        schedule: {default: 0.5, self_attn: 0.8} #   scaled by the sweep's lam
      - method: ties(density=0.2)
        schedule: schedules/attn.yaml            # or a YAML/JSON file (relative to the working directory)
        paper_compat: true                       # this entry only

An entry becomes the label 'linear[sched:3f2a9c1b7d0e]' or 'ties(density=0.2)[sched:...,paper]'
(evals.method_labels), and the config keeps fingerprint -> Schedule. The sweep's lams are
then the schedule's SCALE: tensor `name` is merged at lam * v(name), so the lam axis scans the
schedule with its shape kept (lam 1 = the strengths as written). A tagged label is its own
curve, its own model fingerprint (never sharing records with the plain method) and carries
`meta["merge"]` in its records (evals.records). Only the transformers backend merges them:
the vLLM workers' merge takes neither, and a config asking for it is refused.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from merging.schedule import Schedule

from evals.method_labels import method_variant, parse_method_label, variant_label
from evals.records import MERGE_META
from evals.sweep.weights import think_layout


def method_entries(entries: Sequence, paper_compat: bool, where: str) -> tuple[tuple[str, ...], dict[str, Schedule]]:
    """(labels, fingerprint -> Schedule) of a config's `methods:` list; ValueError naming the entry."""
    labels: list[str] = []
    schedules: dict[str, Schedule] = {}
    for i, entry in enumerate(entries):
        at = f"{where}: methods[{i}]"
        if not isinstance(entry, Mapping):
            labels.append(variant_label(str(entry), paper_compat=paper_compat))
            continue
        label = str(entry["method"])
        schedule = None
        if entry.get("schedule") is not None:
            try:
                schedule = Schedule.parse(entry["schedule"])
            except ValueError as exc:
                raise ValueError(f"{at}.schedule: {' '.join(str(exc).split())}") from None
            schedules[schedule.fingerprint()] = schedule
        labels.append(variant_label(label, schedule.fingerprint() if schedule else None,
                                    bool(entry.get("paper_compat", paper_compat))))
    return tuple(labels), schedules


def check_variants(methods: Sequence[str], schedules: Mapping[str, Schedule], backend: str) -> None:
    """Every label valid, every schedule it names defined, and no variant on the vLLM backend."""
    for label in methods:
        parse_method_label(label)
        v = method_variant(label)
        if v.schedule is not None and v.schedule not in schedules:
            raise ValueError(f"method {label!r} names schedule {v.schedule}, which the config does not define; "
                             "give the method as {method: NAME, schedule: {...}}")
        if not v.plain and backend != "transformers":
            raise ValueError(f"method {label!r}: schedules and paper_compat merge only on the transformers "
                             f"backend (the {backend} workers' merge takes neither); use backend: transformers")


def pair_schedules(config, pair) -> dict[str, Schedule]:
    """The config's schedules for `pair` (its layer count), each checked against the thinking
    parent's tensors at every lam of the sweep: every rule matches a tensor, every strength in
    [0, 1]. ValueError naming the schedule, the rule or tensor and the fix."""
    used = {method_variant(m).schedule for m in config.methods} - {None}
    if not used:
        return {}
    floats, layers = think_layout(pair)
    out = {}
    for fp in sorted(used):
        schedule = config.schedules[fp].with_layers(layers)
        try:
            schedule.check(floats, config.lams, where=f"pair {pair.name}'s thinking parent")
        except ValueError as exc:
            raise ValueError(f"schedule {fp} ({config.schedules[fp].label}): {exc}") from None
        out[fp] = schedule
    return out


def merge_meta(config, label: str) -> dict | None:
    """What a merged record carries in `meta["merge"]` beyond its label (None: a plain method)."""
    v = method_variant(label)
    if v.plain:
        return None
    out: dict = {"paper_compat": v.paper_compat}
    if v.schedule is not None:
        s = config.schedules[v.schedule]
        out["schedule"] = {"fingerprint": v.schedule, "label": s.label}
    return out


def describe_variants(config) -> dict:
    """For a report's settings: paper_compat and each schedule's fingerprint with its definition."""
    out: dict = {}
    tagged = [m for m in config.methods if method_variant(m).paper_compat]
    if tagged or config.paper_compat:
        out["paper_compat"] = ", ".join(tagged) or "-"
    used = sorted({method_variant(m).schedule for m in config.methods} - {None})
    for fp in used:
        out[f"schedule {fp}"] = config.schedules[fp].label
    return out


def recorded_variants(records) -> dict:
    """`describe_variants`'s entries read back from merged records' `meta["merge"]` (a report
    rebuilt from a results store): the paper_compat labels and each schedule's definition."""
    paper: dict[str, None] = {}
    schedules: dict[str, str] = {}
    for r in records:
        merge = r.meta.get(MERGE_META) if r.method is not None else None
        if not isinstance(merge, Mapping):
            continue
        if merge.get("paper_compat"):
            paper[r.method] = None
        schedule = merge.get("schedule")
        if isinstance(schedule, Mapping) and schedule.get("fingerprint"):
            schedules[str(schedule["fingerprint"])] = str(schedule.get("label", "-"))
    out: dict = {"paper_compat": ", ".join(paper)} if paper else {}
    for fp in sorted(schedules):
        out[f"schedule {fp}"] = schedules[fp]
    return out
