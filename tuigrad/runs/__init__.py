"""Run files: SQLite recordings of a run's frames, for replay, follow, inspect and export.

This package imports frames, codec, spec and the standard library only: never torch or Textual.
"""

from __future__ import annotations

from tuigrad.errors import RunFileError
from tuigrad.runs.reader import FINISHED, QUIET_AFTER, STOPPED, WRITING, RunReader
from tuigrad.runs.recorder import Recorder
from tuigrad.runs.schema import SCHEMA_VERSION
from tuigrad.runs.writer import SUFFIX, RunWriter, check_writable, default_path

__all__ = [
    "FINISHED",
    "QUIET_AFTER",
    "SCHEMA_VERSION",
    "STOPPED",
    "SUFFIX",
    "WRITING",
    "Recorder",
    "RunFileError",
    "RunReader",
    "RunWriter",
    "check_writable",
    "default_path",
]
