"""Constructed frames for the diagnosis tests: a healthy run as arrays, edited per test."""

from __future__ import annotations

import math

import numpy as np

from tuigrad.frames import LAYER_SCALARS, Frame, LayerInfo, LayerStats


class Run:
    """A healthy run of `steps` frames as arrays; tests edit `stats` and `glob`, then build."""

    def __init__(
        self,
        steps: int = 30,
        depth: int = 6,
        act: str = "tanh",
        every: int = 1,
        noise: float = 0.0,
        width: int = 64,
        seed: int = 0,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.layers = [LayerInfo(f"L{i + 1}", "", (width, width), act) for i in range(depth)]
        self.layers.append(LayerInfo("head", "", (3, width), "identity"))
        n = depth + 1
        self.step = np.arange(steps) * every

        def jitter(value: float) -> np.ndarray:
            return value * np.exp(noise * self.rng.standard_normal((steps, n)))

        s = {k: np.full((steps, n), math.nan) for k in LAYER_SCALARS}
        s["act_mean"] = jitter(0.01)
        s["act_std"] = jitter(0.5)
        s["unit_spread"] = jitter(0.45)
        s["preact_std"] = jitter(0.7)
        s["out_grad_std"] = jitter(1e-3)
        s["out_grad_norm"] = jitter(0.1)
        s["weight_norm"] = jitter(8.0)
        s["weight_std"] = jitter(0.12)
        s["weight_grad_norm"] = jitter(0.05)
        s["weight_grad_std"] = jitter(1e-3)
        s["grad_data_ratio"] = jitter(1e-2)
        s["update_ratio"] = jitter(1e-3)
        s["update_ratio"][0] = math.nan  # no update before step 0
        if act in ("tanh", "sigmoid"):
            s["act_saturated"][:, :depth] = jitter(0.04)[:, :depth]
        if act == "relu":
            s["act_dead"][:, :depth] = jitter(0.1)[:, :depth]
        self.stats = s

        decay = np.exp(-self.step / 60.0)
        self.glob = {
            "loss": 1.1 * decay + 0.1 + noise * 0.02 * self.rng.standard_normal(steps),
            "accuracy": 0.9 - 0.57 * decay,
            "lr": np.full(steps, 0.01),
            "grad_norm": np.exp(noise * self.rng.standard_normal(steps)),
            "clipped": np.zeros(steps, dtype=bool),
            "act_rows": np.full(steps, 256),
        }

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def col(self, name: str) -> int:
        return self.names.index(name)

    def frames(self) -> list[Frame]:
        out = []
        for t, step in enumerate(self.step):
            layers = tuple(
                LayerStats(name, **{k: float(self.stats[k][t, j]) for k in LAYER_SCALARS})
                for j, name in enumerate(self.names)
            )
            g = {k: v[t] for k, v in self.glob.items()}
            out.append(
                Frame(
                    step=int(step),
                    loss=float(g["loss"]),
                    accuracy=float(g["accuracy"]),
                    lr=float(g["lr"]),
                    grad_norm=float(g["grad_norm"]),
                    grad_norm_clipped=float(g["grad_norm"]),
                    clipped=bool(g["clipped"]),
                    act_rows=int(g["act_rows"]),
                    layers=layers,
                )
            )
        return out
