"""The Pillow pipeline as a user writes it, timed for bench/preprocess_bench.cc.

usage: pillow_pipeline.py IMAGE.rgb WIDTH HEIGHT OUT.bin [REPEATS]

Reads raw interleaved RGB bytes, resizes to 300x300 with Image.BILINEAR, normalizes to [-1, 1],
quantizes with scale 1/128 and zero point 128 (np.round: half to even, as the bench's spec says),
writes the uint8 tensor to OUT.bin and prints the best wall and CPU time in microseconds.
"""
import sys
import time

import numpy as np
from PIL import Image

SCALE, ZERO_POINT = 0.0078125, 128


def pipeline(a):
    x = np.asarray(Image.fromarray(a).resize((300, 300), Image.BILINEAR))
    x = (x - 127.5) / 127.5
    q = np.round(x / SCALE) + ZERO_POINT
    # 1.0 / (1/128) + 128 = 256: without the clip astype(uint8) wraps white to 0.
    return np.clip(q, 0, 255).astype(np.uint8)


def main():
    path, width, height, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    a = np.fromfile(path, dtype=np.uint8).reshape(height, width, 3)
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        q = pipeline(a)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    q.tofile(out)
    print(f"{best_wall * 1e6:.1f} {best_cpu * 1e6:.1f}")


if __name__ == "__main__":
    main()
