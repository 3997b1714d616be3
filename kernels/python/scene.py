"""//! The problem as every Python rung receives it, and the per-segment constants the fast rungs share.

hpc-advisor sends the contour points, the node coordinates and the wave
vector exactly as its Rust reference computed them (JSON numbers, which
round-trip f64), so no Python rung re-derives the grid and every rung is
compared with the reference on the very same nodes (`kernel-spec.md`).
"""

import math

INSIDE_THRESHOLD = 1e-10


class Scene:
    """Contour points (nc + 1, anticlockwise), node coordinates and the wave vector."""

    def __init__(self, points, xs, ys, k):
        self.points = [(float(p[0]), float(p[1])) for p in points]
        self.xs = [float(x) for x in xs]
        self.ys = [float(y) for y in ys]
        self.k = (float(k[0]), float(k[1]))

    @classmethod
    def from_request(cls, request):
        return cls(request["points"], request["xs"], request["ys"], request["k"])

    @property
    def kmod(self):
        return math.hypot(self.k[0], self.k[1])

    def segments(self):
        """Per segment: midpoint, unit left normal, n.k, the signed wavenumber s kmod,
        and (ds / 4) exp(i k.m), so that a node's contribution is
        weight * (nk H0 - i s kmod (n.r) / R H1)."""
        kx, ky = self.k
        kmod = self.kmod
        table = []
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:]):
            dx, dy = x1 - x0, y1 - y0
            ds = math.hypot(dx, dy)
            nx, ny = -dy / ds, dx / ds
            mx, my = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
            nk = nx * kx + ny * ky
            phase = kx * mx + ky * my
            table.append((mx, my, nx, ny, nk, kmod if nk > 0.0 else -kmod,
                          0.25 * ds * math.cos(phase), 0.25 * ds * math.sin(phase)))
        return table


def is_inside(points, x, y):
    """The reference inside test: every cross product (P_k - p) x (P_k+1 - p) exceeds 1e-10."""
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if (x0 - x) * (y1 - y) - (y0 - y) * (x1 - x) <= INSIDE_THRESHOLD:
            return False
    return True
