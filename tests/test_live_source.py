"""Live frame sources: the buffer, resets, the memory bound, and the spawned trainer process."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from tests.specs import tiny
from tuigrad.engine.layout import layer_infos
from tuigrad.errors import SpecError
from tuigrad.sources.base import RunState
from tuigrad.sources.live import ThreadLiveSource
from tuigrad.spec import Spec

torch.set_num_threads(1)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.fixture
def source():
    sources = []

    def make(spec: Spec, **kw) -> ThreadLiveSource:
        src = ThreadLiveSource(spec, **kw)
        sources.append(src)
        return src

    yield make
    for src in sources:
        src.close()


def test_frames_arrive_with_versions_and_layers(source):
    spec = tiny()
    src = source(spec)
    assert src.layers == layer_infos(spec) and src.title == spec.title
    v0 = src.version()
    src.run_steps(4)
    wait_for(lambda: src.status().state is RunState.PAUSED)
    assert src.version() > v0
    frames = src.frames_since(0)
    assert [f.step for f in frames] == [0, 1, 2, 3]
    assert [f.step for f in src.frames_since(3)] == [3]
    assert src.frames_since(4) == []
    assert src.status().device == "cpu"


def test_reset_bumps_run_id_and_starts_over(source):
    src = source(tiny())
    src.run_steps(3)
    wait_for(lambda: len(src.frames_since(0)) == 3)
    first = src.frames_since(0)[0]
    src.reset()
    assert src.run_id == 1 and src.frames_since(0) == []
    src.run_steps(1)
    wait_for(lambda: len(src.frames_since(0)) == 1)
    assert src.frames_since(0)[0].loss == first.loss
    src.reset(reseed=True)
    assert src.spec.seed == 1 and src.run_id == 2


def test_reset_with_a_new_spec_changes_layers(source):
    src = source(tiny())
    new = tiny(**{"model.depth": 3, "title": "deeper"})
    src.reset(new)
    assert [layer.name for layer in src.layers] == ["L1", "L2", "L3", "head"]
    assert src.title == "deeper"
    src.run_steps(1)
    wait_for(lambda: len(src.frames_since(0)) == 1)
    assert len(src.frames_since(0)[0].layers) == 4


def test_memory_bound_drops_the_oldest_tenth_and_keeps_positions(source):
    src = source(tiny(), max_frames=10)
    src.run_steps(11)
    wait_for(lambda: src.frame_count == 11)
    held = src.frames_since(0)
    assert [f.step for f in held] == list(range(1, 11))  # step 0 dropped
    assert [f.step for f in src.frames_since(9)] == [9, 10]  # absolute positions
    assert [f.step for f in src.frames_since(0)] == [f.step for f in src.frames_since(1)]


def test_bad_lr_and_clip_are_refused_at_once(source):
    src = source(tiny())
    with pytest.raises(SpecError, match="optimizer.lr"):
        src.set_lr(0.0)
    with pytest.raises(SpecError, match="clip.max_norm"):
        src.set_clip("norm", -1.0)
    src.set_clip("norm", 0.5)
    assert src.spec.clip.mode == "norm" and src.spec.clip.max_norm == 0.5


def test_close_is_prompt(source):
    src = source(tiny(), autostart=True)
    wait_for(lambda: len(src.frames_since(0)) > 2)
    t0 = time.monotonic()
    src.close()
    assert time.monotonic() - t0 < 1.0


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from tuigrad.spec import Spec
    from tuigrad.sources.base import RunState
    from tuigrad.sources.live import LiveSource

    def main():
        spec = Spec().with_values({"device": "cpu", "data.samples": 96, "data.batch_size": 16,
                                   "model.depth": 2, "model.width": 8, "probe.bins": 8,
                                   "probe.every": 1})
        src = LiveSource(spec, max_steps=12, threads=1)
        src.start()
        deadline = time.monotonic() + 60
        while src.status().state is not RunState.FINISHED and time.monotonic() < deadline:
            time.sleep(0.02)
        steps = [f.step for f in src.frames_since(0)]
        src.reset()
        src.run_steps(2)
        while len(src.frames_since(0)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        again = [f.step for f in src.frames_since(0)]
        t0 = time.monotonic()
        src.close()
        print(steps, again, src.status().state.value, "torch" in sys.modules,
              round(time.monotonic() - t0, 1) < 4, src.layers[0].name)

    if __name__ == "__main__":
        main()
    """
)


def test_process_source_trains_in_a_child_without_torch_here(tmp_path):
    script = tmp_path / "ui.py"
    script.write_text(CHILD_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr
    expected = f"{list(range(12))} [0, 1] paused False True L1"
    assert out.stdout.strip() == expected


def test_the_buffer_is_bounded_by_memory_as_well_as_by_frames():
    import tracemalloc

    from tests.ui_frames import frames_for
    from tuigrad import codec
    from tuigrad.sources import live
    from tuigrad.sources.scripted import spec_layers
    from tuigrad.spec import Spec

    layers = spec_layers(Spec().with_values({"model.depth": 20}))
    blob = codec.encode_frame(frames_for(layers, 1)[0])
    tracemalloc.start()
    held = [codec.decode_frame(blob) for _ in range(50)]
    used = tracemalloc.get_traced_memory()[0] / len(held)
    tracemalloc.stop()
    estimate = live.frame_bytes(held[0])
    assert 0.5 * used <= estimate <= 2 * used, (estimate, used)

    # 21 layers with histograms: far fewer than MAX_FRAMES fit in the memory budget.
    limit = live._frame_limit(held[0], live.MAX_FRAMES)
    assert limit * estimate <= live.MAX_BUFFER_BYTES and limit < live.MAX_FRAMES
    assert live._frame_limit(held[0], 10) == 10
