"""//! J0, Y0, J1, Y1 by the classical approximations, in plain Python: what every Python rung calls.

The same coefficient tables and switch point as the Rust kernels'
(`kernels/src/scatter/hankel.rs`): rational functions of x^2 below x = 8 and
the asymptotic P/Q form, with one shared sine and cosine, from 8 on
(Numerical Recipes; Abramowitz and Stegun 9.4). Python has no Bessel
functions of its own and SciPy's cannot be called from Numba, so every rung,
pure Python included, uses these; the Rust tests check them against libm over
the problem's whole argument range (0 < x < 200).

`polynomial` and `bessel01` use only `math` and arithmetic, so the Numba
rungs compile these very functions (see `compiled.py`) and the NumPy rung
evaluates `polynomial` on whole arrays (see `vectorised.py`).
"""

import math

SWITCH = 8.0
TWO_OVER_PI = 2.0 / math.pi
QUARTER_PI = math.pi / 4.0

# x < 8: numerator and denominator coefficients in y = x^2, lowest power first.
J0_NUM = (57568490574.0, -13362590354.0, 651619640.7, -11214424.18, 77392.33017, -184.9052456)
J0_DEN = (57568490411.0, 1029532985.0, 9494680.718, 59272.64853, 267.8532712, 1.0)
Y0_NUM = (-2957821389.0, 7062834065.0, -512359803.6, 10879881.29, -86327.92757, 228.4622733)
Y0_DEN = (40076544269.0, 745249964.8, 7189466.438, 47447.26470, 226.1030244, 1.0)
# J1 = x num / den
J1_NUM = (72362614232.0, -7895059235.0, 242396853.1, -2972611.439, 15704.48260, -30.16036606)
J1_DEN = (144725228442.0, 2300535178.0, 18583304.74, 99447.43394, 376.9991397, 1.0)
# Y1 = x num / den + (2/pi) (J1 ln x - 1/x)
Y1_NUM = (-0.4900604943e13, 0.1275274390e13, -0.5153438139e11, 0.7349264551e9,
          -0.4237922726e7, 0.8511937935e4)
Y1_DEN = (0.2499580570e14, 0.4244419664e12, 0.3733650367e10, 0.2245904002e8,
          0.1020426050e6, 0.3549632885e3, 1.0)

# x >= 8: the P and Q series in y = (8/x)^2, lowest power first.
P0 = (1.0, -0.1098628627e-2, 0.2734510407e-4, -0.2073370639e-5, 0.2093887211e-6)
Q0 = (-0.1562499995e-1, 0.1430488765e-3, -0.6911147651e-5, 0.7621095161e-6, -0.934945152e-7)
P1 = (1.0, 0.183105e-2, -0.3516396496e-4, 0.2457520174e-5, -0.240337019e-6)
Q1 = (0.04687499995, -0.2002690873e-3, 0.8449199096e-5, -0.88228987e-6, 0.105787412e-6)


def polynomial(y, coefficients):
    """sum_i coefficients[i] y^i by Horner's rule (y a float or a NumPy array)."""
    last = len(coefficients) - 1
    acc = coefficients[last] + 0.0 * y
    for i in range(last - 1, -1, -1):
        acc = acc * y + coefficients[i]
    return acc


def bessel01(x):
    """(J0, Y0, J1, Y1) at one x > 0."""
    if x < SWITCH:
        y = x * x
        j0 = polynomial(y, J0_NUM) / polynomial(y, J0_DEN)
        j1 = x * polynomial(y, J1_NUM) / polynomial(y, J1_DEN)
        ln_x = math.log(x)
        y0 = polynomial(y, Y0_NUM) / polynomial(y, Y0_DEN) + TWO_OVER_PI * j0 * ln_x
        y1 = x * polynomial(y, Y1_NUM) / polynomial(y, Y1_DEN) + TWO_OVER_PI * (j1 * ln_x - 1.0 / x)
        return j0, y0, j1, y1
    z = SWITCH / x
    y = z * z
    amplitude = math.sqrt(TWO_OVER_PI / x)
    # One sine and cosine of x - pi/4 serve all four: x - 3pi/4 is a quarter turn back.
    s = math.sin(x - QUARTER_PI)
    c = math.cos(x - QUARTER_PI)
    p0 = polynomial(y, P0)
    q0 = z * polynomial(y, Q0)
    p1 = polynomial(y, P1)
    q1 = z * polynomial(y, Q1)
    return (amplitude * (c * p0 - s * q0), amplitude * (s * p0 + c * q0),
            amplitude * (s * p1 + c * q1), amplitude * (s * q1 - c * p1))
