"""Run under ``mpiexec -n 2``: rank 1 raises while rank 0 waits in a collective."""

import chainrule.distributed as dist

if __name__ == "__main__":
    dist.init()
    if dist.rank() == 1:
        raise ValueError("boom on rank 1")
    dist.barrier()  # without the abort on an uncaught exception this would wait forever
