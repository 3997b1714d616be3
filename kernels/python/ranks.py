"""//! `py-mpi4py`: rows split over MPI ranks with mpi4py, each rank's block by the NumPy rung, gathered with Gatherv.

Started by the MPI launcher hpc-advisor detected (`mpirun -n N python3
ranks.py REQUEST REPLY`). Every rank reads the same request file, takes a
contiguous share of the rows by the block-cyclic rule below (small blocks
dealt in turn, so the rows the obstacle cuts short spread evenly), computes
them with `vectorised.rows`, and rank 0 gathers every rank's rows with one
`Gatherv` and writes the reply file. The timing runs from a barrier after
start-up to the end of the gather, as rank 0 sees it; what mpirun and the
interpreters' start cost is the launcher's share, which hpc-advisor measures
around the whole launch.
"""

import json
import sys
import time

import mpi4py
import numpy as np
from mpi4py import MPI

import protocol
import vectorised
from scene import Scene

ROWS_PER_BLOCK = 4


def my_blocks(rows, rank, size):
    """The row ranges rank computes: blocks of ROWS_PER_BLOCK rows dealt to the ranks in turn."""
    step = ROWS_PER_BLOCK * size
    return [(j, min(j + ROWS_PER_BLOCK, rows)) for j in range(rank * ROWS_PER_BLOCK, rows, step)]


def my_rows(rows, rank, size):
    return [j for first, stop in my_blocks(rows, rank, size) for j in range(first, stop)]


def main(request_path, reply_path):
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    with open(request_path, encoding="utf-8") as file:
        scene = Scene.from_request(json.load(file))
    arrays = vectorised.Arrays(scene)
    rows, nodes_x = arrays.shape
    mine = my_rows(rows, rank, size)
    comm.Barrier()
    started, cpu_started = MPI.Wtime(), time.process_time()
    local = np.zeros((2, len(mine), nodes_x), dtype=np.complex128)
    at = 0
    for first, stop in my_blocks(rows, rank, size):
        local[0, at:at + stop - first], local[1, at:at + stop - first] = vectorised.rows(
            arrays, first, stop)
        at += stop - first
    computed = MPI.Wtime()
    counts = [2 * len(my_rows(rows, r, size)) * nodes_x for r in range(size)]
    gathered = np.empty(sum(counts), dtype=np.complex128) if rank == 0 else None
    comm.Gatherv(local.ravel(), [gathered, counts] if rank == 0 else None, root=0)
    finished = MPI.Wtime()
    cpu = time.process_time() - cpu_started
    cpu_all = comm.reduce(cpu, op=MPI.SUM, root=0)
    if rank != 0:
        return
    incident = np.zeros((rows, nodes_x), dtype=np.complex128)
    scattered = np.zeros((rows, nodes_x), dtype=np.complex128)
    offset = 0
    for r in range(size):
        theirs = my_rows(rows, r, size)
        block = gathered[offset:offset + counts[r]].reshape(2, len(theirs), nodes_x)
        incident[theirs], scattered[theirs] = block[0], block[1]
        offset += counts[r]
    major, minor = MPI.Get_version()
    notes = [f"{size} ranks, mpi4py {mpi4py.__version__}, MPI {major}.{minor}: "
             f"{MPI.Get_library_version().splitlines()[0].strip()}"]
    with open(reply_path, "wb") as reply:
        protocol.write_field(reply, {"seconds": finished - started, "cpu_seconds": cpu_all,
                                     "phases": {"compute": computed - started,
                                                "gather": finished - computed},
                                     "notes": notes}, incident, scattered)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
