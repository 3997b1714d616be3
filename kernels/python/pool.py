"""//! `py-pool`: the NumPy row blocks handed to a process pool (`concurrent.futures`), as the training's process pool does.

Each run starts the pool, sends every worker the scene once (the pool's
initializer), maps chunks of rows to the workers (several chunks per worker,
so they balance) and gathers the rows back, then shuts the pool down: the
start-up and the pickling of rows are part of what it costs, which is the
point of measuring it against `py-numpy`. The pool uses the platform's
default start method, what a user's `ProcessPoolExecutor()` gets.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import vectorised

CHUNKS_PER_WORKER = 4

_worker_arrays = None


def _receive_scene(arrays):
    global _worker_arrays
    _worker_arrays = arrays


def _compute(bounds):
    first, stop = bounds
    return first, vectorised.field_of_rows(_worker_arrays, first, stop)


def start_method():
    return multiprocessing.get_start_method()


def field(scene, workers):
    arrays = vectorised.Arrays(scene)
    rows, nodes_x = arrays.shape
    workers = max(1, min(workers, rows))
    size = -(-rows // (workers * CHUNKS_PER_WORKER))
    chunks = [(j, min(j + size, rows)) for j in range(0, rows, size)]
    incident = np.zeros((rows, nodes_x), dtype=np.complex128)
    scattered = np.zeros((rows, nodes_x), dtype=np.complex128)
    with ProcessPoolExecutor(max_workers=workers, initializer=_receive_scene,
                             initargs=(arrays,)) as pool:
        for first, (inc, scat) in pool.map(_compute, chunks):
            incident[first:first + len(inc)] = inc
            scattered[first:first + len(scat)] = scat
    return incident, scattered
