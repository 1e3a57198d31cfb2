"""Synthetic data sets, generated from the seed on the CPU: no downloads, same data everywhere.

Classification sets are two-dimensional; regression sets are `sine` (one input) and the
teacher sets (any `dim`). A set with fewer native dimensions than `data.dim` is embedded into
`dim` dimensions by a random orthonormal map, which keeps its geometry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from tuigrad.errors import SpecError
from tuigrad.spec import DataSpec

TEACHER_WIDTH = 32


@dataclass(frozen=True)
class Dataset:
    """Train and validation tensors; `y` holds class indices or (n, 1) regression targets."""

    x_train: Tensor  # (n_train, dim)
    y_train: Tensor  # (n_train,) int64 or (n_train, 1) float32
    x_val: Tensor  # (n_val, dim), possibly empty
    y_val: Tensor
    classification: bool

    def to(self, device: torch.device) -> Dataset:
        return Dataset(
            self.x_train.to(device),
            self.y_train.to(device),
            self.x_val.to(device),
            self.y_val.to(device),
            self.classification,
        )


# ---- generators: (n, data spec, generator) -> (x (n, native dim), y) ----------------------


def _randn(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=gen)


def _rand(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.rand(*shape, generator=gen)


def _labels(n: int, k: int) -> Tensor:
    return torch.arange(n) % k


def _spiral(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    y = _labels(n, d.num_classes)
    r = _rand(gen, n)  # radius 0..1 along each arm
    theta = y * (2 * math.pi / d.num_classes) + 4.0 * r + d.noise * _randn(gen, n)
    return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1), y


def _moons(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    y = _labels(n, 2)
    t = math.pi * _rand(gen, n)
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    x = torch.where(y[:, None] == 0, upper, lower) - torch.tensor([0.5, 0.25])
    return x + d.noise * _randn(gen, n, 2), y


def _circles(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    y = _labels(n, d.num_classes)
    radius = (y + 1).float() / d.num_classes
    t = 2 * math.pi * _rand(gen, n)
    x = radius[:, None] * torch.stack([torch.cos(t), torch.sin(t)], 1)
    return x + d.noise * _randn(gen, n, 2), y


def _xor(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    x = 2 * _rand(gen, n, 2) - 1
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    return x + d.noise * _randn(gen, n, 2), y


def _checkerboard(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    x = 2 * _rand(gen, n, 2) - 1
    cells = torch.floor((x + 1) * 2).long()  # a 4 x 4 board on [-1, 1]^2
    y = (cells[:, 0] + cells[:, 1]) % d.num_classes
    return x + d.noise * _randn(gen, n, 2), y


def _blobs(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    y = _labels(n, d.num_classes)
    angle = y * (2 * math.pi / d.num_classes)
    centers = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    return centers + (0.1 + d.noise) * _randn(gen, n, 2), y


def _sine(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    x = (2 * _rand(gen, n, 1) - 1) * math.pi
    return x, torch.sin(2 * x) + d.noise * _randn(gen, n, 1)


def _teacher_targets(x: Tensor, depth: int, noise: float, gen: torch.Generator) -> Tensor:
    # A random tanh network, each layer scaled to keep unit variance; targets standardised.
    h = x
    for _ in range(depth):
        w = _randn(gen, h.shape[1], TEACHER_WIDTH) * (5 / 3) / math.sqrt(h.shape[1])
        h = torch.tanh(h @ w)
    y = h @ _randn(gen, TEACHER_WIDTH, 1)
    y = (y - y.mean()) / y.std().clamp_min(1e-12)
    return y + noise * _randn(gen, len(x), 1)


def _teacher(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    x = 2 * _rand(gen, n, d.dim) - 1
    return x, _teacher_targets(x, 4, d.noise, gen)


def _gaussian(n: int, d: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    x = _randn(gen, n, d.dim)  # N(0, 1) inputs: the course's forward-propagation demo
    return x, _teacher_targets(x, 2, d.noise, gen)


Generator = Callable[[int, DataSpec, torch.Generator], tuple[Tensor, Tensor]]
DATASETS: dict[str, Generator] = {
    "spiral": _spiral,
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
    "checkerboard": _checkerboard,
    "blobs": _blobs,
    "sine": _sine,
    "teacher": _teacher,
    "gaussian": _gaussian,
}
NATIVE_DIM = {"sine": 1, "teacher": None, "gaussian": None}  # None: any dim; others: 2


def native_dim(data: DataSpec) -> int:
    return NATIVE_DIM.get(data.name, 2) or data.dim


def _embed(x: Tensor, dim: int, gen: torch.Generator) -> Tensor:
    q, _ = torch.linalg.qr(_randn(gen, dim, x.shape[1]))  # (dim, native), orthonormal columns
    return x @ q.T


def make_dataset(data: DataSpec, seed: int) -> Dataset:
    """Generate the data set from the seed, embed it into `data.dim`, split off validation."""
    native = native_dim(data)
    if data.dim < native:
        raise SpecError("data.dim", data.dim, f"{data.name} needs at least {native} dimensions")
    gen = torch.Generator().manual_seed(seed)

    x, y = DATASETS[data.name](data.samples, data, gen)
    x = x.float()
    if data.dim > native:
        # Its own stream, so the points and their order do not depend on the embedding.
        x = _embed(x, data.dim, torch.Generator().manual_seed((seed + 1) % 2**63))

    order = torch.randperm(data.samples, generator=gen)
    x, y = x[order].contiguous(), y[order].contiguous()
    n_val = int(data.samples * data.val_fraction)
    n_val = min(n_val, data.samples - 1)
    classification = data.is_classification
    y = y.long() if classification else y.float()
    return Dataset(x[n_val:], y[n_val:], x[:n_val], y[:n_val], classification)


def estimate_bytes(data: DataSpec) -> int:
    """Bytes the data set takes on the device."""
    return data.samples * (data.dim + 1) * 4
