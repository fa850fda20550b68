#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz target (tests/fuzz/corpus/), one small
file per interesting case, in the byte layout fuzz_softmax.cpp's decode() reads:

  flags  bit0 log-softmax | bits1-2 form (0 row, 1 contiguous, 2-3 strided) |
         bit3 in place | bit4 bad argument | bits5-6 threads (0:1, 1:2, 2:0) |
         bit7 raw float data (4 bytes each; else 1 byte each)
  isa    %6: 0-1 default, 2 scalar, 3 avx2, 4 avx512, 5 neon (forced)
  rows   1 + rows%24 (255: no rows)
  cols   u16 little endian: cols%600, or (cols&0x7fff)*5 when bit 15 is set
  xpad ypad   stride = cols + pad%20 (strided form)
  temp   %16: table (0-2: 1.0, 3: 0.5, 4: 3.7, 5: 1e-3, 6: FLT_MIN, 7: 1e-30,
         8: 1e30, 9: FLT_MAX, 10: 0.1), 11-15: 4 raw bytes follow
  offs   x offset = low nibble, y offset = high nibble (floats)
  [kind] only with the bad bit: 1 + kind%8 = x_stride, y_stride, overlap,
         null x, null y, threads, overflow, wrap; its own bytes follow
  data   the rest. 1-byte code b: b < 16 a special (NaN, -NaN, inf, -inf, 0,
         -0, denorm_min, -FLT_MIN/3, 3e38, -3e38, FLT_MAX, -FLT_MAX, FLT_MIN,
         88.7, -87.4, 1e30), else (b - 136) / 8.

Run from anywhere: python3 tests/fuzz/make_seeds.py (overwrites seed-*).
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

NAN, MNAN, INF, MINF, ZERO, MZERO, DMIN, DNEG, P3E38, M3E38, FMAX, MFMAX, FMIN, E887, EM874, E30 = range(16)


def flags(log=False, form=0, in_place=False, bad=False, threads=0, raw=False):
    return (int(log) | form << 1 | int(in_place) << 3 | int(bad) << 4 | threads << 5 | int(raw) << 7)


def case(f, isa=0, rows=0, cols=0, xpad=0, ypad=0, temp=0, offs=0, kind=None, extra=b"", data=b""):
    b = bytes([f, isa, rows]) + struct.pack("<H", cols) + bytes([xpad, ypad])
    b += bytes([temp]) if isinstance(temp, int) else bytes([11]) + struct.pack("<f", temp)
    b += bytes([offs])
    if kind is not None:
        b += bytes([kind]) + extra
    return b + data


def small(values):  # floats in [-15, 15] as 1-byte codes
    return bytes(max(16, min(255, int(round(v * 8)) + 136)) for v in values)


rng = random.Random(6)
normal = lambda n, sd=2.0: small([rng.gauss(0, sd) for _ in range(n)])
seeds = {
    "row-softmax-5": case(flags(), cols=5, data=normal(5)),
    "row-log-17-nan": case(flags(log=True), cols=17, data=normal(8) + bytes([NAN]) + normal(8)),
    "rows-3x16-inf": case(flags(form=1), rows=2, cols=16, data=normal(20) + bytes([INF]) + normal(10) + bytes([INF])),
    "strided-4x33-T3.7": case(flags(form=2), rows=3, cols=33, xpad=5, ypad=7, temp=4, offs=0x35, data=normal(64)),
    "inplace-log-2x257": case(flags(log=True, form=2, in_place=True), rows=1, cols=257, xpad=3, temp=3, data=normal(200)),
    "row-all-minus-inf": case(flags(), cols=20, data=bytes([MINF])),
    "row-masked-some": case(flags(log=True), cols=40, data=normal(7) + bytes([MINF])),
    "extremes-raw-T0.5": case(flags(raw=True), cols=33, temp=3,
                               data=b"".join(struct.pack("<f", v) for v in (3e38, -3e38, 1.0, -1e30, 3.4e38, -3.4e38))),
    "long-row-threads2": case(flags(threads=1), cols=0x8000 | 26300, data=normal(97, 4.0)),
    "long-rows-threads0": case(flags(form=1, threads=2), rows=3, cols=0x8000 | 2500, data=normal(101, 3.0)),
    "tiny-T-denormals": case(flags(), cols=9, temp=6, data=bytes([DMIN, ZERO, DNEG, FMIN, MZERO])),
    "T-1e-30": case(flags(log=True), cols=24, temp=7, data=normal(24)),
    "T-FLT_MAX": case(flags(), cols=18, temp=9, data=normal(18)),
    "specials-mix": case(flags(form=2), rows=4, cols=17, xpad=1, ypad=2, data=bytes(range(16)) + normal(30)),
    "bad-x_stride": case(flags(form=2, bad=True), rows=2, cols=10, kind=0, extra=bytes([3]), data=normal(10)),
    "bad-y_stride": case(flags(form=2, bad=True), rows=2, cols=10, kind=1, extra=bytes([0]), data=normal(10)),
    "bad-overlap": case(flags(form=1, bad=True), rows=2, cols=12, kind=2, extra=bytes([5, 1]), data=normal(12)),
    "bad-null-x": case(flags(bad=True), cols=8, kind=3, data=normal(8)),
    "bad-null-y": case(flags(log=True, bad=True), cols=8, kind=4, data=normal(8)),
    "bad-threads": case(flags(bad=True), cols=8, kind=5, extra=bytes([7]), data=normal(8)),
    "bad-overflow": case(flags(form=2, bad=True), rows=2, cols=4, kind=6,
                         extra=struct.pack("<QQQ", 3, 1 << 63, 4) + bytes([0, 0, 0, 0])),
    "bad-wrap": case(flags(bad=True), cols=100, kind=7, extra=struct.pack("<H", 0) + bytes([1]), data=normal(4)),
    "bad-temperature-nan": case(flags(), cols=8, temp=float("nan"), data=normal(8)),
    "bad-temperature-0": case(flags(log=True), cols=8, temp=0.0, data=normal(8)),
    "forced-neon": case(flags(), isa=5, cols=8, data=normal(8)),
    "forced-avx2": case(flags(form=1), isa=3, rows=5, cols=31, data=normal(40)),
    "empty-rows": case(flags(form=2), rows=255, cols=7, data=normal(7)),
    "empty-cols": case(flags(form=1), rows=4, cols=0, data=normal(1)),
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
