"""A finding: one problem seen in the frames, why it happens, and the spec change that cures it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The kinds, in the order a tie in severity is listed (root causes first). Part of the JSON contract.
KINDS = (
    "nonfinite",
    "symmetry",
    "exploding",
    "vanishing",
    "collapse",
    "saturation",
    "dead_units",
    "update_ratio",
    "no_progress",
)
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One diagnosed problem.

    kind: one of KINDS. severity: one of SEVERITIES. layers: the layer names concerned (empty
    for whole-run findings such as no_progress). since_step: the first sampled step from which
    the problem holds without interruption. message: one line with the numbers. explanation:
    the mechanism in plain words. fix: dotted spec keys and the values that cure it, ready for
    `Spec.with_values`.
    """

    kind: str
    severity: str
    layers: tuple[str, ...]
    since_step: int
    message: str
    explanation: str = ""
    fix: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # NOTE: rules pick names out of numpy arrays; plain str keeps equality and JSON simple.
        object.__setattr__(self, "layers", tuple(str(name) for name in self.layers))
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r}: valid kinds: {', '.join(KINDS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r}: valid: {', '.join(SEVERITIES)}")

    def __hash__(self) -> int:
        return hash((self.kind, self.severity, self.layers, self.since_step, self.message))

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error: sort by it, most severe first."""
        return SEVERITIES.index(self.severity)

    @property
    def is_warning(self) -> bool:
        """True for warnings and errors: what a healthy run must never show."""
        return self.rank >= SEVERITIES.index("warning")

    def fix_text(self) -> str:
        """The fix as `key=value` pairs, in the form `--set` accepts."""
        return " ".join(f"{k}={_toml(v)}" for k, v in self.fix.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "layers": list(self.layers),
            "since_step": self.since_step,
            "message": self.message,
            "explanation": self.explanation,
            "fix": dict(self.fix),
        }


def from_json(data: dict[str, Any]) -> Finding | None:
    """A finding from `Finding.to_json`'s object (as a run file records it); None if unusable."""
    try:
        return Finding(
            kind=str(data["kind"]),
            severity=str(data.get("severity", "warning")),
            layers=tuple(str(n) for n in data.get("layers", ())),
            since_step=int(data.get("since_step", 0)),
            message=str(data.get("message", "")),
            explanation=str(data.get("explanation", "")),
            fix=dict(data.get("fix", {})),
        )
    except (KeyError, TypeError, ValueError):
        return None


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first; among equals, root causes (nonfinite, symmetry...) before symptoms."""
    return sorted(findings, key=lambda f: (-f.rank, KINDS.index(f.kind), f.since_step))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
