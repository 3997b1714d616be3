#!/usr/bin/env python3
"""Fits the sine and cosine polynomials of the SIMD kernel (kernels/src/scatter/variants/simd/maths.rs).

sin(r) = r * SIN(r^2) (degree 4 in r^2) and cos(r) = COS(r^2) (degree 5) on
|r| <= pi/4, by Chebyshev fitting in 40-digit arithmetic (mpmath.chebyfit),
then checks the rounded double coefficients, evaluated by Horner's rule with
fused multiply-adds as the kernel does, against math.sin and math.cos.

Usage: python3 -m venv venv && venv/bin/pip install mpmath && venv/bin/python kernels/tools/fit-sin-cos.py
"""

import math
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 40
# The reduced argument can exceed pi/4 by the rounding of the quotient: keep a margin.
REDUCED_SQUARED = (mp.pi / 4) ** 2 * (1 + mp.mpf("1e-6"))


def sin_over_r(w):
    return mp.mpf(1) if w == 0 else mp.sin(mp.sqrt(w)) / mp.sqrt(w)


def cos_of_root(w):
    return mp.cos(mp.sqrt(w))


def fit(f, degree):
    coefficients = mp.chebyfit(f, [0, REDUCED_SQUARED], degree + 1)
    return [float(c) for c in reversed(coefficients)]  # lowest power first


def fma(a, b, c):
    """a * b + c rounded once, as the hardware's fused multiply-add."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def horner(coefficients, w):
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = fma(acc, w, c)
    return acc


def main():
    sin_poly, cos_poly = fit(sin_over_r, 4), fit(cos_of_root, 5)
    steps = 100_000
    worst_sin = worst_cos = 0.0
    for i in range(-steps, steps + 1):
        r = math.pi / 4 * i / steps
        w = r * r
        worst_sin = max(worst_sin, abs(r * horner(sin_poly, w) - math.sin(r)))
        worst_cos = max(worst_cos, abs(horner(cos_poly, w) - math.cos(r)))
    for name, poly, worst in [("SIN", sin_poly, worst_sin), ("COS", cos_poly, worst_cos)]:
        print(f"/// worst absolute error on |r| <= pi/4: {worst:.1e}")
        print(f"const {name}: [f64; {len(poly)}] = [")
        for c in poly:
            print(f"    {c!r},")
        print("];")


if __name__ == "__main__":
    main()
