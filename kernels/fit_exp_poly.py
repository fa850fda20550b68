#!/usr/bin/env python3
"""Fits c2, c3 of e^t ~ 1 + t + c2 t^2 + c3 t^3 on |t| <= ln2/(2L) for the
table exps in softmax.hpp (L = 16: AVX-512, L = 8: AVX2), minimizing the
maximum relative error by Lawson's iteratively reweighted least squares on a
fine grid. Needs python3-mpmath. Prints the float coefficients and the error."""
import struct

import mpmath as mp

mp.mp.dps = 30


def to_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def fit(h, points=600, iterations=300):
    ts = [mp.mpf(-h + 2 * h * i / (points - 1)) for i in range(points)]
    # rows: t^2/e^t, t^3/e^t; target: (e^t - 1 - t)/e^t
    rows = [([t**2 / mp.e**t, t**3 / mp.e**t], (mp.e**t - 1 - t) / mp.e**t) for t in ts]
    w = [mp.mpf(1)] * points
    for _ in range(iterations):
        a, b = mp.matrix(2, 2), mp.matrix(2, 1)
        for (r, y), wi in zip(rows, w):
            for i in range(2):
                b[i] += wi * r[i] * y
                for j in range(2):
                    a[i, j] += wi * r[i] * r[j]
        c = mp.lu_solve(a, b)
        err = [abs(r[0] * c[0] + r[1] * c[1] - y) for r, y in rows]
        total = sum(wi * e for wi, e in zip(w, err))
        w = [wi * e / total for wi, e in zip(w, err)]
    c2, c3 = to_float(c[0]), to_float(c[1])
    worst = max(abs((1 + t + c2 * t**2 + c3 * t**3) / mp.e**t - 1) for t in ts)
    return c2, c3, worst


for L in (16, 8):
    c2, c3, worst = fit(mp.log(2) / (2 * L))
    print(f"L = {L}: c2 = {c2.hex()}, c3 = {c3.hex()}, max relative error {float(worst):.3g}")
