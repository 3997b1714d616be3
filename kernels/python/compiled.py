"""//! `py-numba` and `py-numba-prange`: the loops over nodes and segments compiled by Numba's `@njit`.

The kernel is the per-segment-constant loop of the fast Rust variants,
written as plain loops, which is what Numba compiles well: for each node the
inside test, the incident wave and the sum over segments, calling
`hankel.bessel01` compiled too. `py-numba-prange` runs the same row function
from a `parallel=True` driver whose row loop is `numba.prange`, on Numba's
thread pool.

Numba compiles on a function's first call in a process; `compile()` makes
that call on a tiny problem and returns the seconds it took, which the
caller reports apart from the steady-state timings, since a user pays it
once per process (Numba's on-disk cache is not used, so it is measured).
"""

import time
import types

import numba
import numpy as np

import hankel
from scene import INSIDE_THRESHOLD, Scene
from vectorised import Arrays


def _jitted(module, names):
    """module's functions `names`, jitted in order, each seeing the jitted earlier ones as globals."""
    namespace = dict(vars(module))
    for name in names:
        function = getattr(module, name)
        copy = types.FunctionType(function.__code__, namespace, name, function.__defaults__)
        namespace[name] = numba.njit(inline="always")(copy)
    return namespace[names[-1]]


bessel01 = _jitted(hankel, ["polynomial", "bessel01"])


@numba.njit
def _row(j, xs, ys, px, py, kx, ky, kmod, segments, incident, scattered):
    mx, my, nx, ny, nk, signed_kmod, weight_re, weight_im = segments
    y = ys[j]
    for i in range(len(xs)):
        x = xs[i]
        inside = True
        for s in range(len(px) - 1):
            if (px[s] - x) * (py[s + 1] - y) - (py[s] - y) * (px[s + 1] - x) <= INSIDE_THRESHOLD:
                inside = False
                break
        if inside:
            continue
        phase = kx * x + ky * y
        incident[j, i] = complex(np.cos(phase), np.sin(phase))
        total_re = 0.0
        total_im = 0.0
        for s in range(len(mx)):
            rx = x - mx[s]
            ry = y - my[s]
            r = np.sqrt(rx * rx + ry * ry)
            j0, y0, j1, y1 = bessel01(kmod * r)
            # weight * (nk H0 - i s kmod (n.r)/R H1)
            t = signed_kmod[s] * (nx[s] * rx + ny[s] * ry) / r
            term_re = nk[s] * j0 + t * y1
            term_im = nk[s] * y0 - t * j1
            total_re += weight_re[s] * term_re - weight_im[s] * term_im
            total_im += weight_re[s] * term_im + weight_im[s] * term_re
        scattered[j, i] = complex(total_re, total_im)


@numba.njit
def _serial(xs, ys, px, py, kx, ky, kmod, segments, incident, scattered):
    for j in range(len(ys)):
        _row(j, xs, ys, px, py, kx, ky, kmod, segments, incident, scattered)


@numba.njit(parallel=True)
def _parallel(xs, ys, px, py, kx, ky, kmod, segments, incident, scattered):
    for j in numba.prange(len(ys)):
        _row(j, xs, ys, px, py, kx, ky, kmod, segments, incident, scattered)


def _run(driver, scene):
    a = Arrays(scene)
    segments = (a.mx, a.my, a.nx, a.ny, a.nk, a.signed_kmod,
                np.ascontiguousarray(a.weight.real), np.ascontiguousarray(a.weight.imag))
    incident = np.zeros(a.shape, dtype=np.complex128)
    scattered = np.zeros(a.shape, dtype=np.complex128)
    driver(a.xs, a.ys, np.ascontiguousarray(a.px), np.ascontiguousarray(a.py),
           a.kx, a.ky, a.kmod, segments, incident, scattered)
    return incident, scattered


def field(scene):
    return _run(_serial, scene)


def field_parallel(scene, threads):
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return _run(_parallel, scene)


def compile(parallel):
    """Compiles the serial or parallel kernel on a tiny problem; returns the seconds it took."""
    tiny = Scene([(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0), (1.0, 0.0)],
                 [-2.0, 0.0, 2.0], [-2.0, 0.0, 2.0], (4.0, 0.0))
    started = time.perf_counter()
    if parallel:
        field_parallel(tiny, 1)
    else:
        field(tiny)
    return time.perf_counter() - started
