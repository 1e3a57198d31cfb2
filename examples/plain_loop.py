"""A plain PyTorch training loop, watched by tuigrad. Three lines differ from the unwatched loop.

python examples/plain_loop.py --out runs/plain.tuigrad
tuigrad replay runs/plain.tuigrad --follow      # in a second terminal, while it trains
"""

import argparse

import torch
from torch import nn

import tuigrad


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/plain.tuigrad")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    x = torch.randn(4096, 20)
    y = x[:, :4].argmax(1)  # a 4-class problem the net can learn
    model = nn.Sequential(
        nn.Linear(20, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 4)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    watcher = tuigrad.watch(model, optimizer, out=args.out, every=args.every)
    for _ in range(args.steps):
        idx = torch.randint(0, len(x), (128,))
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        watcher.log(loss=loss)
    watcher.close()


if __name__ == "__main__":
    main()
