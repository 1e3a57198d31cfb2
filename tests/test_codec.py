import math

import numpy as np
import pytest

from tuigrad import codec
from tuigrad.frames import LAYER_SCALARS, Frame, Hist, LayerStats


def make_frame(step: int, n_layers: int = 3, bins: int = 8, with_hists: bool = True) -> Frame:
    rng = np.random.default_rng(step)
    layers = []
    for i in range(n_layers):
        values = dict(
            zip(
                LAYER_SCALARS,
                rng.standard_normal(len(LAYER_SCALARS)).astype(np.float32).tolist(),
                strict=True,
            )
        )
        values["act_std"] = math.nan if i == 0 else values["act_std"]
        values["weight_grad_norm"] = math.inf if i == 1 else values["weight_grad_norm"]
        hists = {}
        if with_hists:
            for kind in ("act_hist", "grad_hist", "weight_hist"):
                hists[kind] = Hist(-1.0, 1.0, rng.integers(0, 50, bins).astype(np.float32))
        layers.append(LayerStats(name=f"L{i + 1}", **values, **hists))
    return Frame(
        step=step, loss=0.5, accuracy=math.nan, lr=0.01, grad_norm=math.inf, layers=tuple(layers)
    )


@pytest.mark.parametrize("with_hists", [True, False])
def test_frame_bytes_round_trip(with_hists):
    frame = make_frame(7, with_hists=with_hists)
    assert codec.decode_frame(codec.encode_frame(frame)) == frame


def test_layer_blob_rejects_wrong_names():
    frame = make_frame(1)
    with pytest.raises(ValueError):
        codec.decode_layers(codec.encode_layers(frame.layers), ["L1"])


def test_json_writes_non_finite_as_null():
    data = make_frame(3).to_json()
    assert data["grad_norm"] is None
    assert data["layers"][0]["act_std"] is None
    assert data["layers"][1]["weight_grad_norm"] is None
    assert len(data["layers"][0]["act_hist"]["edges"]) == 9
