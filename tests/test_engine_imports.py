"""Dependency rules: the engine never imports Textual; spec and frames never import torch."""

import subprocess
import sys

import pytest


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_engine_does_not_import_textual():
    modules = imported_after("import tuigrad.engine, tuigrad.engine.stats, tuigrad.engine.runner")
    assert "torch" in modules and "textual" not in modules


@pytest.mark.parametrize(
    "module", ["tuigrad.spec", "tuigrad.frames", "tuigrad.codec", "tuigrad.sources.live"]
)
def test_data_modules_do_not_import_torch(module):
    assert "torch" not in imported_after(f"import {module}")
