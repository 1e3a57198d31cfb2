"""The course's forward-propagation demo: six tanh layers of width 4096 on N(0, 1) inputs.

Only the step-0 frame matters (the initial network), so the trainer measures one forward pass.
Thresholds, measured at seed 0 (layer stds L1 -> L6):
- N(0, 0.01): 0.49 -> 0.046, shrinking by ~0.64 per layer (0.01 * sqrt(4096)): collapse;
- N(0, 0.05): ~0.85 everywhere with 44-51% of units saturated: saturation;
- Xavier normal: 0.63 -> 0.29, under 4% saturated: healthy.
"""

import pytest
import torch

from tuigrad.engine.trainer import Trainer
from tuigrad.spec import Spec

torch.set_num_threads(1)


def step_zero(init: str, **values):
    spec = Spec().with_values(
        {
            "device": "cpu",
            "data.name": "gaussian",
            "data.dim": 4096,
            "data.samples": 256,
            "data.batch_size": 256,
            "data.val_fraction": 0.0,
            "model.depth": 6,
            "model.width": 4096,
            "model.activation": "tanh",
            "model.init": init,
            **values,
        }
    )
    frame = Trainer(spec).measure(backward=False, histograms=False)
    assert frame.step == 0 and frame.act_rows == 256
    return frame.layers[:6]  # L1..L6, not the head


@pytest.mark.slow
def test_small_normal_init_collapses_activations():
    layers = step_zero("normal", **{"model.init_std": 0.01})
    stds = [layer.act_std for layer in layers]
    assert stds == sorted(stds, reverse=True)
    assert stds[5] < stds[0] / 10


@pytest.mark.slow
def test_larger_normal_init_saturates_every_layer():
    layers = step_zero("normal", **{"model.init_std": 0.05})
    assert all(layer.act_saturated >= 0.30 for layer in layers)


@pytest.mark.slow
def test_xavier_keeps_activations_healthy():
    layers = step_zero("xavier_normal")
    assert all(0.25 <= layer.act_std <= 0.75 for layer in layers)
    assert all(layer.act_saturated < 0.05 for layer in layers)
    assert layers[5].act_std > 0.4 * layers[0].act_std
