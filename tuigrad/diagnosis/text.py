"""Findings as text for the command line: plain lines, or a rich Table for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuigrad.diagnosis.finding import Finding
from tuigrad.diagnosis.table import layer_label

if TYPE_CHECKING:
    from rich.table import Table

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def where(finding: Finding) -> str:
    """`L1-L4, since step 0`, or `whole net, since step 0` for whole-run findings."""
    layers = layer_label(finding.layers) if finding.layers else "whole net"
    return f"{layers}, since step {finding.since_step}"


def finding_lines(findings: Sequence[Finding], explain: bool = False) -> list[str]:
    """Plain text, three lines a finding (four with the explanation); one line when none."""
    if not findings:
        return ["Diagnosis: no problems found."]
    lines = [f"Diagnosis: {len(findings)} finding{'s' if len(findings) > 1 else ''}"]
    for f in findings:
        lines.append(f"  {f.severity.upper():<8}{f.kind} ({where(f)})")
        lines.append(f"          {f.message}")
        if explain and f.explanation:
            lines.append(f"          why: {f.explanation}")
        if f.fix:
            lines.append(f"          try: {' '.join(f'--set {kv}' for kv in f.fix_text().split())}")
    return lines


def findings_table(findings: Sequence[Finding], explain: bool = False) -> Table:
    """A rich Table of the findings, most severe first as given."""
    from rich.table import Table

    table = Table(title="Diagnosis", title_justify="left", expand=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("where", no_wrap=True)
    table.add_column("what" + (" and why" if explain else ""))
    table.add_column("try", no_wrap=True)
    for f in findings:
        what = (
            f"{f.message}\n[dim]{f.explanation}[/dim]" if explain and f.explanation else f.message
        )
        table.add_row(
            f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
            f.kind,
            where(f),
            what,
            "\n".join(f"{k}={v}" for k, v in (kv.split("=", 1) for kv in f.fix_text().split())),
        )
    return table
