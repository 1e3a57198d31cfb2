"""The examples run as a user would run them, and leave a run file tuigrad can read."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tuigrad.runs import RunReader

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(args: list[str], tmp_path: Path) -> None:
    # NOTE: gloo talks over loopback here, whatever interface the host name resolves to.
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "GLOO_SOCKET_IFNAME": "lo",
    }
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]


def recorded(path: Path, steps: int, every: int) -> RunReader:
    reader = RunReader(path)
    assert reader.is_finished
    assert reader.steps == list(range(0, steps, every))
    return reader


def load(script: str):
    spec = importlib.util.spec_from_file_location(script.removesuffix(".py"), EXAMPLES / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["plain_loop.py", "amp_loop.py"])
def test_single_process_examples(tmp_path, script):
    out = tmp_path / "run.tuigrad"
    load(script).main(["--out", str(out), "--steps", "12", "--every", "4"])
    with recorded(out, 12, 4) as reader:
        assert reader.frame(-1).layers[0].weight_grad_norm > 0
        assert reader.meta["skipped_steps"].isdigit()


@pytest.mark.slow
def test_ddp_example_under_torchrun(tmp_path):
    out = tmp_path / "runs" / "ddp.tuigrad"
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    run(
        [
            *torchrun,
            str(EXAMPLES / "ddp_loop.py"),
            "--out",
            str(out),
            "--steps",
            "6",
            "--every",
            "3",
        ],
        tmp_path,
    )
    with recorded(out, 6, 3) as reader:
        assert reader.meta["world_size"] == "2"
        assert [info.name for info in reader.layers] == ["0", "2", "3"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["ddp.tuigrad"]
