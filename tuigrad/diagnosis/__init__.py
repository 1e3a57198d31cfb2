"""Diagnosis: frames in, findings out, each with the numbers, the mechanism and a fix.

Imports frames and spec only (no torch, no Textual), so the UI and run-file tools can use it.
"""

from tuigrad.diagnosis.diagnose import Diagnoser, diagnose, evaluate
from tuigrad.diagnosis.finding import KINDS, SEVERITIES, Finding, sort_findings
from tuigrad.diagnosis.thresholds import THRESHOLDS, Thresholds

__all__ = [
    "KINDS",
    "SEVERITIES",
    "THRESHOLDS",
    "Diagnoser",
    "Finding",
    "Thresholds",
    "diagnose",
    "evaluate",
    "sort_findings",
]
