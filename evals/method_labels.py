"""Method labels, read in one place: 'ties(density=0.2)' names a registry method and its
parameters. The sweep validates labels against the merge registry (`parse_method_label`);
the analysis reads the name and numeric parameters of any label, also of an outside table's
(`method_base`, `method_params`), and asks `is_sparse` which curves the sparse-degradation
claim judges.

A label may end in variant tags in square brackets, what the merge does beyond its method
and parameters (`method_variant`, `variant_label`):

    linear[sched:3f2a9c1b7d0e]          # strengths from a schedule (merging.schedule), its fingerprint
    ties(density=0.2)[paper]            # the paper's code's quirks (merging.apply, paper_compat)
    ties[sched:3f2a9c1b7d0e,paper]      # both; tags in this order

A tagged label is another curve and another model (its records never mix with the plain
method's: the tags are part of the model fingerprint, evals.sweep.plan.merge_fingerprint).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from merging import registry

_PARAM = re.compile(r"([A-Za-z_]\w*)\s*=\s*([-+0-9.eE]+)")
_TAGS = re.compile(r"\[([^\[\]]*)\]\s*$")
_SCHED = re.compile(r"^sched:([0-9a-f]{12})$")
PAPER = "paper"


@dataclass(frozen=True)
class MethodVariant:
    """A label split: the plain 'name(k=v)' part, the schedule fingerprint, paper_compat."""

    core: str
    schedule: str | None = None  # merging.schedule.Schedule.fingerprint()
    paper_compat: bool = False

    @property
    def plain(self) -> bool:
        return self.schedule is None and not self.paper_compat


def variant_label(core: str, schedule: str | None = None, paper_compat: bool = False) -> str:
    """'linear', 'abc123def456', True -> 'linear[sched:abc123def456,paper]' (no tags: `core`).
    Tags `core` already carries are kept (a schedule given twice must be the same one)."""
    have = method_variant(core)
    if have.schedule and schedule and have.schedule != schedule:
        raise ValueError(f"method label {core!r} names schedule {have.schedule}, not {schedule}; give one")
    core, schedule, paper_compat = have.core, schedule or have.schedule, paper_compat or have.paper_compat
    tags = ([f"sched:{schedule}"] if schedule else []) + ([PAPER] if paper_compat else [])
    return f"{core}[{','.join(tags)}]" if tags else core


def method_variant(label: str) -> MethodVariant:
    """'ties(density=0.2)[sched:abc123def456,paper]' -> MethodVariant('ties(density=0.2)',
    'abc123def456', True). ValueError naming the tag for an unknown one."""
    match = _TAGS.search(label)
    if not match:
        return MethodVariant(label.strip())
    schedule, paper = None, False
    for tag in (t.strip() for t in match[1].split(",")):
        sched = _SCHED.match(tag)
        if sched and schedule is None:
            schedule = sched[1]
        elif tag == PAPER and not paper:
            paper = True
        else:
            raise ValueError(f"method label {label!r}: tag {tag!r} is not sched:<12 hex digits> or {PAPER} "
                             "(each at most once), e.g. linear[sched:3f2a9c1b7d0e,paper]")
    return MethodVariant(label[:match.start()].strip(), schedule, paper)


def parse_method_label(label: str) -> tuple[str, dict]:
    """'ties(density=0.2)' -> ('ties', {'density': 0.2}), validated against the registry
    (variant tags are checked and left out: `method_variant` reads them)."""
    label = method_variant(label).core
    name, _, rest = label.partition("(")
    name = name.strip()
    items: list[str] = []
    if rest:
        if not rest.endswith(")"):
            raise ValueError(f"method label {label!r}: expected NAME or NAME(k=v, ...)")
        items = [s.strip() for s in rest[:-1].split(",") if s.strip()]
    return name, registry.get_method(name).validate_params(items)


def _core(label: str) -> str:
    """The label without its variant tags (lenient: an outside table's label is never refused)."""
    match = _TAGS.search(label)
    return label[:match.start()] if match else label


def method_base(label: str) -> str:
    """'dare(p=0.9)' -> 'dare'; 'Linear' -> 'linear'; 'linear[paper]' -> 'linear'."""
    return _core(label).split("(", 1)[0].strip().lower()


def method_params(label: str) -> dict[str, float]:
    """Numeric parameters written in a label: 'ties(density=0.2)' -> {'density': 0.2}."""
    core = _core(label)
    inner = core.split("(", 1)[1] if "(" in core else ""
    return {k: float(v) for k, v in _PARAM.findall(inner)}


def is_sparse(label: str) -> bool:
    """Whether the method of `label` drops entries at its parameters, as the merge registry's
    method spec declares it (`MethodSpec.is_sparse`: DARE when p > 0, TIES when density < 1;
    a parameter the label leaves out takes the registry's default, so bare `ties` at density 1
    is dense). A label naming no registered method (an outside table's) is dense."""
    base = method_base(label)
    if base not in registry.list_methods():
        return False
    return registry.get_method(base).is_sparse(method_params(label))


def method_family(label: str) -> str:
    """'sparse' when `is_sparse(label)`, else 'dense'."""
    return "sparse" if is_sparse(label) else "dense"
