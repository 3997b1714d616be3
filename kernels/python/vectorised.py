"""//! `py-numpy`: whole-array NumPy, the rung the training calls "vectorised": no Python loop over pairs.

Rows are taken in blocks of about `PAIRS_PER_BLOCK` pairs (a handful of
Python iterations per run, arrays that stay in cache); within a block the
inside test, the distances, the Hankel functions and the sum over segments
are each one array expression over (nodes, segments). The Hankel functions
are `hankel.py`'s, evaluated on arrays: each branch of the approximation on
the arguments that take it. The process pool and mpi4py rungs run these
same blocks in each worker or rank.
"""

import numpy as np

import hankel
from hankel import SWITCH, TWO_OVER_PI, QUARTER_PI, polynomial
from scene import INSIDE_THRESHOLD

PAIRS_PER_BLOCK = 1 << 16


class Arrays:
    """The scene as NumPy arrays, built once per run (and sent once to each pool worker)."""

    def __init__(self, scene):
        self.xs = np.array(scene.xs)
        self.ys = np.array(scene.ys)
        points = np.array(scene.points)
        self.px, self.py = points[:, 0], points[:, 1]
        self.kx, self.ky = scene.k
        columns = np.array(scene.segments()).T
        (self.mx, self.my, self.nx, self.ny, self.nk, self.signed_kmod,
         weight_re, weight_im) = columns
        self.weight = weight_re + 1j * weight_im
        self.kmod = scene.kmod

    @property
    def shape(self):
        return len(self.ys), len(self.xs)

    def row_blocks(self, first, stop):
        """Consecutive row ranges covering first..stop, each about PAIRS_PER_BLOCK pairs."""
        per_block = max(1, PAIRS_PER_BLOCK // max(1, len(self.xs) * len(self.mx)))
        return [(j, min(j + per_block, stop)) for j in range(first, stop, per_block)]


def bessel01(x):
    """(J0, Y0, J1, Y1) of every element of the array x > 0."""
    j0, y0, j1, y1 = (np.empty_like(x) for _ in range(4))
    small = x < SWITCH
    xs = x[small]
    y = xs * xs
    j0s = polynomial(y, hankel.J0_NUM) / polynomial(y, hankel.J0_DEN)
    j1s = xs * polynomial(y, hankel.J1_NUM) / polynomial(y, hankel.J1_DEN)
    ln_x = np.log(xs)
    j0[small], j1[small] = j0s, j1s
    y0[small] = polynomial(y, hankel.Y0_NUM) / polynomial(y, hankel.Y0_DEN) + TWO_OVER_PI * j0s * ln_x
    y1[small] = (xs * polynomial(y, hankel.Y1_NUM) / polynomial(y, hankel.Y1_DEN)
                 + TWO_OVER_PI * (j1s * ln_x - 1.0 / xs))
    large = ~small
    xl = x[large]
    z = SWITCH / xl
    y = z * z
    amplitude = np.sqrt(TWO_OVER_PI / xl)
    s, c = np.sin(xl - QUARTER_PI), np.cos(xl - QUARTER_PI)
    p0, q0 = polynomial(y, hankel.P0), z * polynomial(y, hankel.Q0)
    p1, q1 = polynomial(y, hankel.P1), z * polynomial(y, hankel.Q1)
    j0[large] = amplitude * (c * p0 - s * q0)
    y0[large] = amplitude * (s * p0 + c * q0)
    j1[large] = amplitude * (s * p1 + c * q1)
    y1[large] = amplitude * (s * q1 - c * p1)
    return j0, y0, j1, y1


def rows(arrays, first, stop):
    """(incident, scattered) of rows first..stop as complex128 arrays of shape (rows, nodes_x)."""
    a = arrays
    x = np.broadcast_to(a.xs, (stop - first, len(a.xs))).ravel()
    y = np.repeat(a.ys[first:stop], len(a.xs))
    # (P_k - p) x (P_k+1 - p) for every node and segment
    ax, ay = a.px[None, :-1] - x[:, None], a.py[None, :-1] - y[:, None]
    bx, by = a.px[None, 1:] - x[:, None], a.py[None, 1:] - y[:, None]
    outside = ~np.all(ax * by - ay * bx > INSIDE_THRESHOLD, axis=1)
    xo, yo = x[outside], y[outside]
    rx, ry = xo[:, None] - a.mx[None, :], yo[:, None] - a.my[None, :]
    r = np.sqrt(rx * rx + ry * ry)
    j0, y0, j1, y1 = bessel01(a.kmod * r)
    n_dot_r_over_r = (a.nx[None, :] * rx + a.ny[None, :] * ry) / r
    # weight * (nk H0 - i s kmod (n.r)/R H1)
    terms = a.weight[None, :] * (
        a.nk[None, :] * (j0 + 1j * y0)
        - 1j * (a.signed_kmod[None, :] * n_dot_r_over_r) * (j1 + 1j * y1))
    incident = np.zeros(x.shape, dtype=np.complex128)
    scattered = np.zeros(x.shape, dtype=np.complex128)
    incident[outside] = np.exp(1j * (a.kx * xo + a.ky * yo))
    scattered[outside] = terms.sum(axis=1)
    shape = (stop - first, len(a.xs))
    return incident.reshape(shape), scattered.reshape(shape)


def field_of_rows(arrays, first, stop):
    """rows() over first..stop in blocks, stacked."""
    parts = [rows(arrays, a, b) for a, b in arrays.row_blocks(first, stop)]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def field(scene):
    arrays = Arrays(scene)
    return field_of_rows(arrays, 0, arrays.shape[0])
