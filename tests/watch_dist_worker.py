"""One rank of the 2-process gloo job the distributed watch test runs (torch.multiprocessing)."""

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import tuigrad
from tests.watch_support import SmallTransformer, token_batch

STEPS, EVERY, BINS, CLIP, BATCH = 5, 2, 16, 0.5, 8


def shards(tokens: torch.Tensor, world: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The global batch split by rank, each shard with its own next-token targets."""
    parts = tokens.chunk(world)
    return [(t, torch.roll(t, 1, dims=1).flatten()) for t in parts]


def run(rank: int, world: int, init_file: str, out: str, seed: int) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = DistributedDataParallel(SmallTransformer())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(seed + 1)
    watcher = tuigrad.watch(model, opt, out=out, every=EVERY, bins=BINS, hist_every=EVERY)
    assert (watcher.path is None) == (rank != 0)
    for _ in range(STEPS):
        tokens, _ = token_batch(gen, n=BATCH)
        x, y = shards(tokens, world)[rank]
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        watcher.log(loss=loss)
    watcher.close()
    assert watcher.error is None, watcher.error
    # NOTE: the group torn down under a live DDP module, gloo now and then aborts the process
    # as it exits (seen with a cold file cache); so both ranks finish talking, then let go.
    dist.barrier()
    del model, opt, watcher
    dist.destroy_process_group()
