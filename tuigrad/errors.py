"""The exceptions tuigrad raises; the CLI and the app turn them into one-line messages."""

from __future__ import annotations


class TuigradError(Exception):
    """Base class: a problem the user can fix, stated in one line."""


class SpecError(TuigradError):
    """An experiment spec that cannot be loaded or is not valid."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        shown = repr(value) if isinstance(value, str) else value
        super().__init__(f"{key} = {shown}: {allowed}")


class SpecFileError(TuigradError):
    """A spec file that is missing or is not valid TOML."""


class RunFileError(TuigradError):
    """A run file that cannot be opened, read or written."""


class TrainingError(TuigradError):
    """Training could not start or continue (device, memory, data)."""
