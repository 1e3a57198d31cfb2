"""Fused statistics for float32 tensors in host memory, from a small C library (native.c).

On the CPU most of a sampled step's cost was fixed dispatch: some 25 small torch operations
per layer for its forward statistics, ten per histogram. native.c takes all of a tensor's
statistics in one call and one read, in float64. It is compiled on first use with the C
compiler on the PATH (`cc`, or $CC) into a cache folder, in a fraction of a second, and loaded
with ctypes, which releases the GIL for each call. Where there is no compiler, or the build
fails, or TUIGRAD_NATIVE=0, `library()` is None and stats.py uses torch for everything.

Every function here takes contiguous float32 CPU tensors (see `fits`) and returns plain
floats or numpy arrays.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("native.c")
FLAGS = (
    "-O3",
    "-march=native",
    "-fPIC",
    "-shared",
    "-std=c99",
    "-fno-math-errno",
    "-ffp-contract=off",
    "-fno-strict-aliasing",
)
TAILS = {"tanh": 1, "sigmoid": 2}  # native.c's TAILS_ABOVE, TAILS_OUTSIDE

_P = ctypes.c_void_p
_I = ctypes.c_int64
_F = ctypes.c_float
_SIGNATURES = {
    "tg_moments": (None, [_P, _P, _I, _P]),
    "tg_moments_one": (None, [_P, _I, _P]),
    "tg_diff_moments": (None, [_P, _P, _P, _I, _P]),
    "tg_sum_squares": (ctypes.c_double, [_P, _P, _I]),
    "tg_histogram": (ctypes.c_int, [_P, _I, _I, _F, _F, _P]),
    "tg_magnitude_histogram": (ctypes.c_int, [_P, _I, _I, _P, _P, _I, _F, _F, _P]),
    "tg_weights": (ctypes.c_int, [_P, _P, _P, _P, _I, _I, _P, _P, _I, _F, _F, _P]),
    "tg_forward": (
        ctypes.c_int,
        [_P, _I, _I, _P, _I, ctypes.c_int, _F, _F, ctypes.c_int, _I, ctypes.c_int, _F, _F, _P],
    ),  # fmt: skip
}


def cache_folder() -> Path:
    """Where the built library is kept: $TUIGRAD_CACHE, else the user's cache folder."""
    if folder := os.environ.get("TUIGRAD_CACHE"):
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tuigrad"


def compiler() -> str | None:
    """The C compiler to build with: $CC, else cc, gcc or clang, if on the PATH."""
    cc = os.environ.get("CC", "cc")
    return shutil.which(cc) or shutil.which("gcc") or shutil.which("clang")


def _cpu() -> str:
    """What the build's -march=native depends on: the CPU's features, where they can be read.

    NOTE: a cache folder on a network home may be shared by machines with different CPUs; a
    library built for one could stop another with an illegal instruction.
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.platform() + platform.processor()


def _build(cc: str, target: Path) -> None:
    # Built beside the target and renamed into place: processes building at once do not clash.
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = [cc, *FLAGS, "-o", tmp, str(SOURCE), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise OSError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _folders() -> list[Path]:
    """The cache folder, then one of this user's own in the temporary folder (read-only home)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return [cache_folder(), Path(tempfile.gettempdir()) / f"tuigrad-{uid}"]


def _load(cc: str, name: str) -> ctypes.CDLL:
    error: OSError | subprocess.SubprocessError = OSError("no folder to build in")
    for folder in _folders():
        target = folder / name
        try:
            if not target.exists():
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
                    raise OSError(f"{folder} belongs to another user")
                _build(cc, target)
            return ctypes.CDLL(str(target))
        except (OSError, subprocess.SubprocessError) as exc:
            error = exc
    raise error


@functools.cache
def library() -> ctypes.CDLL | None:
    """The loaded library, built first if need be; None where it cannot be had."""
    if os.environ.get("TUIGRAD_NATIVE", "1") == "0":
        return None
    cc = compiler()
    if cc is None or sys.byteorder != "little":
        log.info("no C compiler found: statistics are taken with torch alone")
        return None
    build = " ".join((cc, *FLAGS, _cpu(), platform.machine()))
    key = hashlib.sha256(SOURCE.read_bytes() + build.encode()).hexdigest()
    try:
        lib = _load(cc, f"native-{key[:16]}.so")
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not build %s (%s): statistics are taken with torch alone", SOURCE, exc)
        return None
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def fits(t: Tensor) -> bool:
    """True if `t` is a tensor these functions take: float32, contiguous, in host memory."""
    return t.is_cpu and t.dtype == torch.float32 and t.is_contiguous()


def _pointers(tensors: Sequence[Tensor]) -> tuple[ctypes.Array, np.ndarray]:
    ptrs = (ctypes.c_void_p * len(tensors))(*(t.data_ptr() for t in tensors))
    return ptrs, np.array([t.numel() for t in tensors], dtype=np.int64)


def moments(tensors: Sequence[Tensor]) -> np.ndarray:
    """(len(tensors), 3) float64: mean, unbiased std (NaN under two values), L2 norm."""
    out = np.empty((len(tensors), 3))
    ptrs, ns = _pointers(tensors)
    library().tg_moments(ptrs, ns.ctypes.data, len(tensors), out.ctypes.data)
    return out


def diff_moments(a: Sequence[Tensor], b: Sequence[Tensor]) -> np.ndarray:
    """As `moments`, of each a[i] - b[i] (same shapes), without writing the differences."""
    out = np.empty((len(a), 3))
    pa, ns = _pointers(a)
    pb, _ = _pointers(b)
    library().tg_diff_moments(pa, pb, ns.ctypes.data, len(a), out.ctypes.data)
    return out


def sum_squares(tensors: Sequence[Tensor]) -> float:
    """The sum of the squares of every value of every tensor, in float64."""
    ptrs, ns = _pointers(tensors)
    return library().tg_sum_squares(ptrs, ns.ctypes.data, len(tensors))


def _checked(ok: int) -> None:
    if not ok:
        raise MemoryError("out of memory for a histogram's counters")


def histogram(values: Tensor, bins: int, lo: float, hi: float) -> np.ndarray:
    """(bins,) float64 counts as stats.histogram takes them (same float32 arithmetic)."""
    out = np.empty(bins)
    lo32, scale = np.float32(lo), np.float32(bins / (hi - lo))
    lib = library()
    _checked(
        lib.tg_histogram(values.data_ptr(), values.numel(), bins, lo32, scale, out.ctypes.data)
    )
    return out


@functools.cache
def _magnitude_edges(
    bins: int, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, int, float, float]:
    """Bin edges of log10 magnitudes as float32 bit patterns, the first bin of each binary
    exponent, and how many bins past it the magnitudes of one exponent reach at most.

    Each edge 10^(lo + k (hi - lo) / bins) is rounded up to the next float32, so a magnitude is
    in bin k exactly when its float32 value is at least the k-th edge (and below the next).
    Then native.c's estimate of a magnitude's bin from its bits (`_estimate`).
    """
    exact = 10.0 ** (lo + np.arange(bins + 1) * ((hi - lo) / bins))  # (bins + 1,) float64
    with np.errstate(over="ignore"):
        edges = exact.astype(np.float32)
    low = edges.astype(np.float64) < exact
    edges[low] = np.nextafter(edges[low], np.float32(np.inf))
    bits = edges.view(np.uint32).copy()
    bits[0] = 0
    bits[bins] = np.iinfo(np.uint32).max  # above +inf's pattern: the last bin takes it
    inner = bits[1:bins]
    smallest = np.arange(256, dtype=np.uint32) << 23  # (256,) the least magnitude per exponent
    largest = smallest | np.uint32(0x7FFFFF)
    first = np.searchsorted(inner, smallest, side="right").astype(np.uint32)
    last = np.searchsorted(inner, largest, side="right").astype(np.uint32)
    steps = int((last - first).max())
    if steps <= 1 and bins < 256:  # packed, as native.c's magnitude_bins reads it for steps 0
        split = bits[first + 1]  # (256,) the next edge above each exponent's smallest value
        inside = (split >> 23) == np.arange(256)
        mantissa = np.where(inside, split & 0x7FFFFF, 1 << 23).astype(np.uint32)
        return (first << 24) | mantissa, bits, 0, *_estimate(bins, lo, hi)
    return first, bits, steps, *_estimate(bins, lo, hi)


LOG2_GAP = 0.0861  # the most log2(1 + f) exceeds f on [0, 1), at f = 1 / ln 2 - 1
SLACK = 1e-3  # bins the estimate is lowered by: above its float32 rounding where it is used


def _estimate(bins: int, lo: float, hi: float) -> tuple[float, float]:
    """The scale and offset with which native.c estimates a magnitude's bin from its bits, as
    `bits * scale - offset`, or (0, 0) where the estimate could be off by more than one bin.

    The bits of a positive float32 read as a number, times 2^-23, less 127, are its log2 or
    up to LOG2_GAP below it: under a bin below when a decade has fewer than about 19 bins.
    Subnormals read high, but below 10^-37.9 every estimate is under bin 0.
    """
    per = bins / (hi - lo)  # bins per decade
    if bins + 1 > 64 or LOG2_GAP * math.log10(2) * per + SLACK >= 0.5 or lo <= -37.9:
        return 0.0, 0.0
    scale = 2.0**-23 * math.log10(2) * per
    offset = (127 * math.log10(2) + lo) * per + SLACK
    return scale, offset


def magnitude_histogram(values: Tensor, bins: int, lo: float, hi: float) -> np.ndarray:
    """(bins,) float64 counts of log10 |values| over `bins` uniform bins on [lo, hi]; below
    lo (zeros too) in the first, above hi (infinities too) in the last, NaN not counted."""
    first, edges, steps, scale, offset = _magnitude_edges(bins, float(lo), float(hi))
    out = np.empty(bins)
    args = (values.data_ptr(), values.numel(), bins, first.ctypes.data, edges.ctypes.data, steps)
    _checked(library().tg_magnitude_histogram(*args, scale, offset, out.ctypes.data))
    return out


def forward(
    act: Tensor,
    preact: Tensor | None,
    activation: str,
    saturation: float,
    dead: bool,
    bins: int,
    bounds: tuple[float, float] | None,
) -> np.ndarray:
    """(8 + bins,) float64: mean, std, saturated and dead fractions and unit spread of `act`
    (rows, units), as stats.forward_scalars defines them, then the std of `preact` (NaN
    without it); with bins > 0 then the histogram's range and counts, over `bounds`, or over
    the finite range of `act` (as stats.data_range) when bounds is None."""
    out = np.full(8 + max(bins, 0), math.nan)
    forward_into(
        out.ctypes.data, act, preact, forward_args(activation, saturation, dead, bins, bounds)
    )
    return out


def forward_args(
    activation: str, saturation: float, dead: bool, bins: int, bounds: tuple[float, float] | None
) -> tuple:
    """What `forward_into` needs besides the tensors, as the C function takes it."""
    low, high = np.float32(1 - saturation), np.float32(saturation)
    h_lo, h_hi = bounds or (0.0, 1.0)
    return (
        TAILS.get(activation, 0),
        low,
        high,
        int(dead),
        max(bins, 0),
        bounds is None,
        h_lo,
        h_hi,
    )


# NOTE: the two functions below are called as each layer runs, right after its own tensor work,
# which has pushed the interpreter out of the CPU's caches: there every object a call touches
# costs (the functions above took about 20 us a call more there than in a loop). They allocate
# nothing and convert nothing, and write their results where they are told.


def forward_into(out: int, act: Tensor, preact: Tensor | None, args: tuple) -> None:
    """`forward`, written to the 8 + bins float64 at address `out`; `args` from forward_args."""
    rows, cols = act.shape
    pre = (preact.data_ptr(), preact.numel()) if preact is not None else (None, 0)
    _checked(library().tg_forward(act.data_ptr(), rows, cols, *pre, *args, out))


def moments_into(out: int, t: Tensor) -> None:
    """`moments` of one tensor, written to the 3 float64 at address `out`."""
    library().tg_moments_one(t.data_ptr(), t.numel(), out)


def weights(
    ws: Sequence[Tensor],
    gs: Sequence[Tensor | None],
    bins: int,
    grad_range: tuple[float, float],
    copies: Sequence[Tensor] | None = None,
) -> np.ndarray:
    """(len(ws), 8 + 2 bins) float64, for each weight and its gradient (None: none): the
    weight's mean, std and norm, the gradient's (NaN without one), then with bins > 0 the
    weight histogram's range and counts (over stats.data_range) and the gradient's
    `magnitude_histogram` counts over `grad_range`. Copies each weight into `copies` (same
    shapes) in the same read, when given."""
    n = len(ws)
    out = np.empty((n, 8 + 2 * max(bins, 0)))
    pw, ns = _pointers(ws)
    pg = (ctypes.c_void_p * n)(*(g.data_ptr() if g is not None else None for g in gs))
    pc = _pointers(copies)[0] if copies is not None else None
    first, edges, steps, scale, offset = _magnitude_edges(max(bins, 1), *map(float, grad_range))
    args = (pw, pc, pg, ns.ctypes.data, n, bins, first.ctypes.data, edges.ctypes.data, steps)
    args += (scale, offset)
    _checked(library().tg_weights(*args, out.ctypes.data))
    return out
