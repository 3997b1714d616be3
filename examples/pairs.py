"""Pairwise interaction energy of n points in pure Python: an example program for `hpc-advisor analyse`.

Every pair of n points contributes 1/distance, so the work grows as n^2. The
rows of the pair triangle are dealt round-robin to PAIRS_WORKERS processes
(default 1), which is the variable `hpc-advisor analyse --threads-env` reruns
it with. The points come from a fixed linear congruential sequence, so every
run does the same work and prints the same energy.

    python3 examples/pairs.py --points 1500
    hpc-advisor analyse --sizes 500,1000,2000 --expected-order 2 \
        --threads-env PAIRS_WORKERS -- python3 examples/pairs.py --points {n}
"""

import argparse
import math
import os
from multiprocessing import Pool

MODULUS = 2**31 - 1
MULTIPLIER = 48271


def points(count):
    """`count` points in the unit square from a Lehmer sequence seeded with 1."""
    state = 1
    coordinates = []
    for _ in range(2 * count):
        state = (state * MULTIPLIER) % MODULUS
        coordinates.append(state / MODULUS)
    return list(zip(coordinates[0::2], coordinates[1::2]))


def rows_energy(job):
    """Sum of 1/distance over the pairs (i, j > i) of the rows i = first, first + step, ..."""
    xy, first, step = job
    total = 0.0
    count = len(xy)
    for i in range(first, count, step):
        xi, yi = xy[i]
        for j in range(i + 1, count):
            xj, yj = xy[j]
            total += 1.0 / math.hypot(xi - xj, yi - yj)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1500, help="how many points")
    arguments = parser.parse_args()
    if arguments.points < 2:
        parser.error("--points must be 2 or more")
    workers = int(os.environ.get("PAIRS_WORKERS", "1"))
    if workers < 1:
        parser.error("PAIRS_WORKERS must be 1 or more")
    xy = points(arguments.points)
    jobs = [(xy, first, workers) for first in range(workers)]
    if workers == 1:
        energy = rows_energy(jobs[0])
    else:
        with Pool(workers) as pool:
            energy = sum(pool.map(rows_energy, jobs))
    print(f"{arguments.points} points, {workers} worker(s): energy {energy:.10e}")


if __name__ == "__main__":
    main()
