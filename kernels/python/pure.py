"""//! `py-pure`: the naive port in plain Python, loops over nodes and segments, as the original program is written.

Like the original of seed 000 it recomputes every segment's geometry for
every pair and calls a scalar Hankel function (ours, `hankel.py`: there is no
Bessel function in the standard library) through small helper functions,
so a profile shows the same structure as the original's. It needs nothing
but the interpreter.
"""

import cmath
import math

from hankel import bessel01
from scene import is_inside


def incident(k, x, y):
    """exp(i k.p)"""
    return cmath.exp(1j * (k[0] * x + k[1] * y))


def scattered_wave_element(k, p0, p1, x, y):
    """One segment's contribution at node (x, y), from the segment's end points."""
    xm, ym = 0.5 * (p0[0] + p1[0]), 0.5 * (p0[1] + p1[1])
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    ds = math.sqrt(dx * dx + dy * dy)
    nx, ny = -dy / ds, dx / ds
    rx, ry = x - xm, y - ym
    r = math.sqrt(rx * rx + ry * ry)
    kmod = math.sqrt(k[0] * k[0] + k[1] * k[1])
    j0, y0, j1, y1 = bessel01(kmod * r)
    green = 0.25j * complex(j0, y0)
    green_normal_derivative = -0.25j * complex(j1, y1) * kmod * (nx * rx + ny * ry) / r
    kdotn = k[0] * nx + k[1] * ny
    shadow = 1.0 if kdotn > 0.0 else -1.0
    e = incident(k, xm, ym)
    return -ds * green * (1j * kdotn * e) + shadow * ds * green_normal_derivative * e


def scattered_wave(k, points, x, y):
    """The sum over segments, in order."""
    total = 0j
    for p0, p1 in zip(points, points[1:]):
        total += scattered_wave_element(k, p0, p1, x, y)
    return total


def field(scene):
    """(incident, scattered) as flat lists of complex numbers, row-major [j][i]."""
    incident_values, scattered_values = [], []
    for y in scene.ys:
        for x in scene.xs:
            if is_inside(scene.points, x, y):
                incident_values.append(0j)
                scattered_values.append(0j)
            else:
                incident_values.append(incident(scene.k, x, y))
                scattered_values.append(scattered_wave(scene.k, scene.points, x, y))
    return incident_values, scattered_values
