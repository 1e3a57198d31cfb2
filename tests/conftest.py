"""Fixtures shared across test modules."""

from tests.preset_runs import preset_runs  # noqa: F401  (the session's preset runs)
