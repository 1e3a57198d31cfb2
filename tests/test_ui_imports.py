"""The app's engine-free parts never import torch: frames arrive ready-made."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
sys.path.insert(0, ".")
import tuigrad.ui
from tuigrad.cli import build_parser
from tests.ui_frames import scripted
app = tuigrad.ui.TuigradApp(scripted(steps=2))
build_parser()
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_ui_imports_and_builds_the_app_without_torch():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
