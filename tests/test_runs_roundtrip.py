import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS, Frame, Hist, LayerInfo, LayerStats
from tuigrad.runs import RunReader, RunWriter

f32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
f64 = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def frames(draw: st.DrawFn) -> tuple[list[str], list[Frame]]:
    """A run's worth of random frames: same layers throughout, increasing steps."""
    names = [f"layer.{i}" for i in range(draw(st.integers(0, 4)))]
    steps = sorted(draw(st.sets(st.integers(0, 2**62), min_size=1, max_size=6)))
    out = []
    for step in steps:
        kinds = {kind: draw(st.integers(1, 9)) for kind in HISTOGRAMS if draw(st.booleans())}
        layers = []
        for name in names:
            stats = {k: draw(f32) for k in LAYER_SCALARS}
            for kind, bins in kinds.items():
                counts = np.array(
                    draw(st.lists(f32, min_size=bins, max_size=bins)), dtype=np.float32
                )
                stats[kind] = Hist(draw(f32), draw(f32), counts)
            layers.append(LayerStats(name=name, **stats))
        scalars = {
            k: draw(f64) for k in ("loss", "accuracy", "lr", "grad_norm", "grad_norm_clipped")
        }
        out.append(
            Frame(
                step=step,
                clipped=draw(st.booleans()),
                wall_time=draw(f64),
                val_loss=draw(f64),
                val_accuracy=draw(f64),
                act_rows=draw(st.integers(0, 2**31)),
                layers=tuple(layers),
                **scalars,
            )
        )
    return names, out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_frames_read_back_identical(run):
    names, written = run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.tuigrad"
        infos = [LayerInfo(name, "", (2, 2)) for name in names]
        with RunWriter(path, None, infos, commit_interval=0.01) as writer:
            assert all(writer.write(frame) for frame in written)
        assert writer.error is None
        with RunReader(path) as reader:
            assert len(reader) == len(written)
            assert reader.frames() == written
            assert [reader.frame(i) for i in range(len(written))] == written
            assert [reader.frame_at(f.step) for f in written] == written


def test_nan_and_inf_are_kept_not_confused():
    layer = LayerStats("L1", act_mean=math.nan, act_std=math.inf, act_dead=-math.inf)
    frame = Frame(step=3, loss=math.nan, grad_norm=math.inf, lr=-math.inf, layers=(layer,))
    with tempfile.TemporaryDirectory() as tmp:
        with RunWriter(Path(tmp) / "r.tuigrad", layers=[LayerInfo("L1", "", ())]) as writer:
            writer.write(frame)
        with RunReader(Path(tmp) / "r.tuigrad") as reader:
            back = reader.frame(0)
    assert math.isnan(back.loss) and back.grad_norm == math.inf and back.lr == -math.inf
    assert math.isnan(back.layers[0].act_mean)
    assert (back.layers[0].act_std, back.layers[0].act_dead) == (math.inf, -math.inf)


def test_fast_layer_construction_equals_the_dataclass():
    values = [float(i) for i in range(len(LAYER_SCALARS))]
    hist = Hist(0.0, 1.0, np.ones(3, dtype=np.float32))
    fast = LayerStats.from_values("L1", values, (hist, None, hist))
    slow = LayerStats(
        "L1", **dict(zip(LAYER_SCALARS, values, strict=True)), act_hist=hist, weight_hist=hist
    )
    assert fast == slow and fast.to_json() == slow.to_json()
    assert vars(fast) == vars(slow)
