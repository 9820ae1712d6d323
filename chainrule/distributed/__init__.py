"""``cr.distributed``: data-parallel training over MPI (mpi4py), launched with ``mpirun``.

    cr.distributed.init()
    model = cr.distributed.DistributedDataParallel(model)
    sampler = cr.distributed.DistributedSampler(dataset)

See docs/distributed.md.
"""

from chainrule.distributed.comm import (
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    init,
    is_initialized,
    rank,
    world_size,
)
from chainrule.distributed.ddp import DistributedDataParallel
from chainrule.distributed.sampler import DistributedSampler
from chainrule.distributed.sync_batchnorm import SyncBatchNorm
