"""Where training runs, and whether the model fits there: checked before anything is allocated."""

from __future__ import annotations

import os

import torch

from tuigrad.engine import registry
from tuigrad.engine.data import estimate_bytes as data_bytes
from tuigrad.errors import TrainingError
from tuigrad.spec import Spec

VAL_CHUNK = 4096  # validation rows per forward pass


def available_devices() -> list[str]:
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        names.append("mps")
    return names


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda if available, else cpu; an unavailable device is a one-line TrainingError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    valid = ", ".join(["auto", *available_devices()])
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TrainingError(f"device = {name!r}: not a device; valid here: {valid}") from None
    if device.type == "cuda":
        index = device.index or 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise TrainingError(f"device = {name!r}: not available here; valid here: {valid}")
    elif device.type == "mps" and name not in available_devices():
        raise TrainingError(f"device = {name!r}: not available here; valid here: {valid}")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise TrainingError(f"device = {name!r}: not supported; valid here: {valid}")
    return device


def estimate_bytes(spec: Spec) -> int:
    """Bytes training this spec needs on its device: parameters, state, activations, data."""
    params = spec.count_params()
    # Weights, grads, optimizer state, and the probe's copy of the weights before each step.
    param_bytes = params * 4 * (3 + registry.OPTIMIZER_STATE[spec.optimizer.name])
    outs = [layer.width for layer in spec.model.resolved()] + [spec.output_dim]
    ins = [spec.data.dim, *outs[:-1]]
    batch = spec.data.batch_size
    # Linear output, norm output, activation, dropout mask, and their gradients.
    act_bytes = batch * sum(outs) * 4 * 6
    val_bytes = min(VAL_CHUNK, spec.data.samples) * max(ins + outs) * 4 * 3
    # The probe bins in float64: a few copies of the largest weight.
    hist_bytes = max(i * o for i, o in zip(ins, outs, strict=True)) * 8 * 3
    return param_bytes + act_bytes + val_bytes + hist_bytes + data_bytes(spec.data)


def free_bytes(device: torch.device) -> int | None:
    """Memory free on the device now; None when it cannot be told."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def check_memory(spec: Spec, device: torch.device) -> None:
    """Raise TrainingError if the model clearly does not fit, before allocating anything."""
    need = estimate_bytes(spec)
    free = free_bytes(device)
    if free is not None and need > 0.9 * free:
        raise TrainingError(
            f"model ({spec.count_params():.3g} parameters, batch {spec.data.batch_size}) needs "
            f"about {_gb(need)} but {device} has {_gb(free)} free: "
            "lower model.width, model.depth, data.batch_size or data.samples"
        )
