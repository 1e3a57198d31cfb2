"""`tuigrad --help` wall time: a fresh interpreter each time, median of several runs.

    python -m benchmarks.bench_cli [--runs 9]

Measured on the installed `tuigrad` script next to this interpreter when there is one (what a
user types), else `python -m tuigrad`; `python -c pass` is measured alongside, in turns, as the
interpreter's own start-up on this machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import interleaved, median


def help_command() -> list[str]:
    script = Path(sys.executable).with_name("tuigrad")
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("tuigrad")
    return [found, "--help"] if found else [sys.executable, "-m", "tuigrad", "--help"]


def measure(runs: int = 9) -> dict:
    command = help_command()

    def run(cmd: list[str]) -> None:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    samples = interleaved(
        {"help": lambda: run(command), "python": lambda: run([sys.executable, "-c", "pass"])},
        reps=runs,
        inner=1,
        clock=time.perf_counter,
    )
    return {
        "command": " ".join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command)),
        "help_s": median(samples["help"]),
        "python_s": median(samples["python"]),
        "help_all_s": samples["help"],
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    r = measure(parser.parse_args().runs)
    print(
        f"{r['command']}: median {r['help_s'] * 1e3:.0f} ms over {r['runs']} runs "
        f"(python -c pass: {r['python_s'] * 1e3:.0f} ms)"
    )


if __name__ == "__main__":
    main()
