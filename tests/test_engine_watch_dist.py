"""tuigrad.watch under DDP: 2 gloo processes on the CPU against one process over both batches."""

import pytest
import torch
import torch.multiprocessing as mp

from tests import watch_dist_worker as worker
from tests.test_engine_watch import TRANSFORMER_NAMES
from tests.watch_support import SmallTransformer, check_layer, reference_step, token_batch
from tuigrad.runs import RunReader


@pytest.mark.slow
def test_two_ranks_record_what_one_process_sees_over_both_batches(tmp_path):
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
