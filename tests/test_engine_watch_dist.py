"""tuigrad.watch under DDP: 2 gloo processes on the CPU against one process over both batches."""

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from tests import watch_dist_worker as worker
from tests.test_engine_watch import TRANSFORMER_NAMES
from tests.watch_support import SmallTransformer, check_layer, reference_step, token_batch
from tuigrad.engine import watch_dist
from tuigrad.runs import RunReader


@pytest.mark.slow
def test_two_ranks_record_what_one_process_sees_over_both_batches(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")  # the ranks inherit it: loopback only
    out = tmp_path / "runs" / "ddp.tuigrad"
    mp.spawn(worker.run, args=(2, str(tmp_path / "init"), str(out), 5), nprocs=2, join=True)
    assert sorted(p.name for p in out.parent.iterdir()) == ["ddp.tuigrad"]  # rank 1 wrote nothing

    torch.set_num_threads(1)
    torch.manual_seed(5)
    model = SmallTransformer()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(6)
    refs = {}
    for step in range(worker.STEPS):
        tokens, _ = token_batch(gen, n=worker.BATCH)
        shards = worker.shards(tokens, 2)
        refs[step] = reference_step(model, opt, shards, TRANSFORMER_NAMES, clip=worker.CLIP)

    with RunReader(out) as reader:
        assert reader.steps == [0, 2, 4] and reader.meta["world_size"] == "2"
        for frame in reader.iter_frames():
            ref = refs[frame.step]
            assert frame.act_rows == worker.BATCH
            assert abs(frame.grad_norm - ref.grad_norm) <= 1e-5 * ref.grad_norm
            for layer in frame.layers:
                # Gradients summed by the collective round differently from one backward.
                check_layer(layer, ref, layer.name, channel_first=False, rtol=1e-4, slack=1)


def test_moments_of_uneven_shares_combine_exactly():
    gen = torch.Generator().manual_seed(0)
    parts = [torch.randn(n, 4, generator=gen, dtype=torch.float64) * 3 + 1 for n in (5, 1, 9)]
    ref = parts[0]
    rows = [watch_dist.local_moments(p, p * 0.5, world=3, ref=ref) for p in parts]
    m = torch.stack(rows)[:, None, :]  # (world, layers, moments)
    n, mean, m2 = watch_dist._combine(m[..., 0], m[..., 1], m[..., 2])
    every = torch.cat(parts).numpy()
    assert n.item() == every.size
    assert mean.item() == pytest.approx(every.mean(), rel=1e-12)
    assert (m2 / (n - 1)).sqrt().item() == pytest.approx(every.std(ddof=1), rel=1e-12)
    og_norm = m[..., 8].sum(0).sqrt().item()
    assert og_norm == pytest.approx(np.linalg.norm(every * 0.5 / 3), rel=1e-12)
