"""Frames to bytes and back, without pickle: used by run files and by the trainer process pipe.

Layer blob layout (all little-endian):
    uint16 n_layers, uint16 n_scalars
    float32[n_layers, n_scalars]          per-layer scalars in LAYER_SCALARS order
    for each histogram kind in HISTOGRAMS:
        uint16 bins                       0 when this frame carries no histogram of that kind
        float32[n_layers, 2]              lo, hi              (only when bins > 0)
        float32[n_layers, bins]           counts              (only when bins > 0)
Layer names are not in the blob: a run stores them once, in its metadata.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from tuigrad.frames import HISTOGRAMS, LAYER_SCALARS, Frame, Hist, LayerStats

_F32 = np.dtype("<f4")
_HEAD = struct.Struct("<HH")
_BINS = struct.Struct("<H")
FRAME_SCALARS = (
    "loss",
    "accuracy",
    "lr",
    "grad_norm",
    "grad_norm_clipped",
    "wall_time",
    "val_loss",
    "val_accuracy",
)


def encode_layers(layers: Sequence[LayerStats]) -> bytes:
    """Per-layer statistics as one compact blob."""
    n = len(layers)
    scalars = np.array([layer.scalars() for layer in layers], dtype=_F32).reshape(
        n, len(LAYER_SCALARS)
    )
    parts = [_HEAD.pack(n, len(LAYER_SCALARS)), scalars.tobytes()]
    for kind in HISTOGRAMS:
        hists = [getattr(layer, kind) for layer in layers]
        if n == 0 or any(h is None for h in hists):
            parts.append(_BINS.pack(0))
            continue
        bins = len(hists[0].counts)
        if any(len(h.counts) != bins for h in hists):
            raise ValueError(f"{kind}: layers disagree on the number of bins")
        bounds = np.array([[h.lo, h.hi] for h in hists], dtype=_F32)
        counts = np.stack([np.asarray(h.counts, dtype=_F32) for h in hists])
        parts += [_BINS.pack(bins), bounds.tobytes(), counts.tobytes()]
    return b"".join(parts)


def decode_layers(blob: bytes, names: Sequence[str]) -> tuple[LayerStats, ...]:
    """The inverse of encode_layers; raises ValueError on a blob of the wrong size."""
    view = memoryview(blob)
    n, n_scalars = _HEAD.unpack_from(view, 0)
    if n != len(names) or n_scalars != len(LAYER_SCALARS):
        raise ValueError(f"blob holds {n} layers x {n_scalars} scalars, expected {len(names)}")
    offset = _HEAD.size
    scalars = np.frombuffer(view, _F32, n * n_scalars, offset).reshape(n, n_scalars)
    offset += scalars.nbytes
    hists: dict[str, list[Hist] | None] = {}
    for kind in HISTOGRAMS:
        (bins,) = _BINS.unpack_from(view, offset)
        offset += _BINS.size
        if bins == 0:
            hists[kind] = None
            continue
        bounds = np.frombuffer(view, _F32, n * 2, offset).reshape(n, 2)
        offset += bounds.nbytes
        counts = np.frombuffer(view, _F32, n * bins, offset).reshape(n, bins)
        offset += counts.nbytes
        hists[kind] = [
            Hist(float(bounds[i, 0]), float(bounds[i, 1]), counts[i].copy()) for i in range(n)
        ]
    if offset != len(blob):
        raise ValueError(f"blob has {len(blob) - offset} trailing bytes")
    rows = scalars.tolist()
    per_kind = [hists[kind] or [None] * n for kind in HISTOGRAMS]
    return tuple(
        LayerStats.from_values(name, rows[i], tuple(kind[i] for kind in per_kind))
        for i, name in enumerate(names)
    )


def decode_layer_scalars(blob: bytes) -> np.ndarray:
    """Only the per-layer scalars of a layer blob, (n_layers, n_scalars) float32: no histograms."""
    n, n_scalars = _HEAD.unpack_from(blob, 0)
    if n_scalars != len(LAYER_SCALARS) or len(blob) < _HEAD.size + 4 * n * n_scalars:
        raise ValueError(f"blob of {len(blob)} bytes cannot hold {n} layers x {n_scalars} scalars")
    return np.frombuffer(blob, _F32, n * n_scalars, _HEAD.size).reshape(n, n_scalars).copy()


def frame_header(frame: Frame) -> dict[str, Any]:
    """The frame's step-level fields as a JSON-safe dict (NaN and Inf kept as floats)."""
    out: dict[str, Any] = {"step": frame.step, "clipped": frame.clipped, "act_rows": frame.act_rows}
    out.update({k: getattr(frame, k) for k in FRAME_SCALARS})
    return out


def frame_from_parts(header: dict[str, Any], layers: tuple[LayerStats, ...]) -> Frame:
    scalars = {k: float(header.get(k, math.nan)) for k in FRAME_SCALARS}
    return Frame(
        step=int(header["step"]),
        clipped=bool(header.get("clipped", False)),
        act_rows=int(header.get("act_rows", 0)),
        layers=layers,
        **scalars,
    )


def encode_frame(frame: Frame) -> bytes:
    """A whole frame, names included, as bytes: for sending between processes."""
    header = frame_header(frame)
    header["names"] = [layer.name for layer in frame.layers]
    head = json.dumps(header).encode()
    return struct.pack("<I", len(head)) + head + encode_layers(frame.layers)


def decode_frame(data: bytes) -> Frame:
    (size,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4 : 4 + size])
    layers = decode_layers(data[4 + size :], header.pop("names"))
    return frame_from_parts(header, layers)
