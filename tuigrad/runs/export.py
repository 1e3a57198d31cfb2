"""Run files to CSV and JSON lines, for plotting and scripts elsewhere."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from tuigrad.codec import FRAME_SCALARS
from tuigrad.errors import RunFileError
from tuigrad.frames import LAYER_SCALARS
from tuigrad.runs.reader import RunReader

SCALAR_COLUMNS = ("step", *FRAME_SCALARS, "clipped", "act_rows")
LAYER_COLUMNS = ("step", "layer", *LAYER_SCALARS)
CHUNK = 2000


def export_csv(reader: RunReader, folder: str | Path) -> tuple[Path, Path]:
    """Write `scalars.csv` (one row per frame) and `layers.csv` (one row per frame and layer).

    Numbers are written in full precision; NaN and infinities as `nan`, `inf`, `-inf`.
    Histograms are not exported to CSV (JSON lines carry them).
    """
    folder = Path(folder)
    scalars_path, layers_path = folder / "scalars.csv", folder / "layers.csv"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with scalars_path.open("w", newline="") as f:
            _write_scalars(reader, csv.writer(f))
        with layers_path.open("w", newline="") as f:
            _write_layers(reader, csv.writer(f))
    except OSError as exc:
        raise RunFileError(f"cannot export to {folder}: {exc.strerror or exc}") from None
    return scalars_path, layers_path


def _write_scalars(reader: RunReader, out: Any) -> None:
    out.writerow(SCALAR_COLUMNS)
    for start in range(0, len(reader), CHUNK):
        columns = reader.scalars(start, start + CHUNK)
        for i in range(len(columns["step"])):
            row = [repr(float(columns[name][i])) for name in FRAME_SCALARS]
            step, clipped, act_rows = (int(columns[k][i]) for k in ("step", "clipped", "act_rows"))
            out.writerow([step, *row, clipped, act_rows])


def _write_layers(reader: RunReader, out: Any) -> None:
    out.writerow(LAYER_COLUMNS)
    names = [info.name for info in reader.layers]
    for start in range(0, len(reader), CHUNK):
        table = reader.layer_scalars(start, start + CHUNK)  # (frames, layers, scalars)
        for step, frame in zip(reader.steps[start : start + CHUNK], table, strict=True):
            for name, values in zip(names, frame, strict=True):
                out.writerow([step, name, *(str(np.float32(v)) for v in values)])


def export_json(reader: RunReader, stream: TextIO) -> int:
    """Write every frame as one JSON object per line (Frame.to_json); returns the frame count."""
    count = 0
    for frame in reader.iter_frames():
        stream.write(json.dumps(frame.to_json(), allow_nan=False) + "\n")
        count += 1
    return count
