"""Small specs the engine and source tests train in a fraction of a second."""

from tuigrad.spec import Spec

TINY = {
    "device": "cpu",
    "data.samples": 96,
    "data.batch_size": 16,
    "model.depth": 2,
    "model.width": 8,
    "probe.bins": 8,
    "probe.every": 1,  # these tests follow the run step by step
}


def tiny(**values) -> Spec:
    """A 2 x 8 net on 96 samples, measured at every step; `values` override any key."""
    return Spec().with_values({**TINY, **values})
