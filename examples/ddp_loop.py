"""Distributed data-parallel training, watched by tuigrad: rank 0 writes the run file, with
activation statistics combined across every rank's share of the batch.

    torchrun --nproc_per_node 2 examples/ddp_loop.py --out runs/ddp.tuigrad
    tuigrad replay runs/ddp.tuigrad --follow

Uses NCCL on GPUs (one per rank) and gloo on the CPU.
"""

import argparse
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import tuigrad


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/ddp.tuigrad")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 128), nn.GELU(), nn.LayerNorm(128), nn.Linear(128, 4))
    model = DistributedDataParallel(model.to(device))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(1 + rank)  # each rank draws its own batches

    watcher = tuigrad.watch(model, optimizer, out=args.out, every=args.every)
    for _ in range(args.steps):
        x = torch.randn(64, 20, generator=gen).to(device)
        y = x[:, :4].argmax(1)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watcher.log(loss=loss)
    watcher.close()
    if rank == 0:
        print(f"recorded {args.out} from {world} ranks")
    # Every rank done, and the DDP module let go, before the process group goes.
    dist.barrier()
    del model, optimizer, watcher
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
