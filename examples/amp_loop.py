"""Mixed precision with a GradScaler, watched by tuigrad: gradients are shown unscaled, and the
steps the scaler skips are counted instead of drawn as explosions.

    python examples/amp_loop.py --out runs/amp.tuigrad
    tuigrad replay runs/amp.tuigrad --follow

On a GPU this uses float16 autocast; on the CPU, bfloat16 autocast with a CPU GradScaler.
"""

import argparse

import torch
from torch import nn

import tuigrad


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/amp.tuigrad")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.bfloat16
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    ).to(device)  # fmt: skip
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device)

    watcher = tuigrad.watch(model, optimizer, out=args.out, every=args.every, scaler=scaler)
    for _ in range(args.steps):
        x = torch.randn(64, 3, 16, 16, device=device)  # (batch, channels, height, width)
        y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
        with torch.autocast(device, dtype=dtype):
            loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        watcher.log(loss=loss)
    watcher.close()


if __name__ == "__main__":
    main()
