#!/usr/bin/env python3
"""Tables of Simd<avx512bw>::log_normal (simd_xsimd.hpp): for j = 0..31,
inv_j = 1/(1 + j/32) rounded to float, and -log(inv_j) = log(1/inv_j) split
into a float hi and lo (hi + lo equals it to about 48 bits). Entry 0 is exact:
inv = 1, log = 0. Needs python3-mpmath. Prints C++ initializers."""
import struct

import mpmath as mp

mp.mp.dps = 40


def to_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


inv, hi, lo = [], [], []
for j in range(32):
    i = to_float(1 / (1 + mp.mpf(j) / 32))
    t = -mp.log(mp.mpf(i))
    h = to_float(t)
    inv.append(i), hi.append(h), lo.append(to_float(t - mp.mpf(h)))


def hexf(v):
    if not v:
        return "0.0f"
    m, e = float.hex(v).split("p")
    return f"{m.rstrip('0').rstrip('.')}p{e}f"


def fmt(vals):
    return ", ".join(hexf(v) for v in vals)


print("inv:", fmt(inv))
print("hi:", fmt(hi))
print("lo:", fmt(lo))
