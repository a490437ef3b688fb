"""Pillow oracle for the resize tests: resizes raw images with Image.resize.

Usage: pillow_resize.py JOBS — each line of JOBS is
  IN_PATH WIDTH HEIGHT CHANNELS OUT_WIDTH OUT_HEIGHT FILTER OUT_PATH
with IN_PATH raw interleaved bytes, FILTER one of nearest, bilinear, bicubic. Writes the resized
raw bytes to OUT_PATH and prints the Pillow version.
"""
import sys

import PIL
from PIL import Image

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}


def main(jobs_path):
    with open(jobs_path) as jobs:
        for line in jobs:
            if not line.strip():
                continue
            src, w, h, c, ow, oh, name, dst = line.split()
            w, h, c, ow, oh = int(w), int(h), int(c), int(ow), int(oh)
            with open(src, "rb") as f:
                data = f.read()
            im = Image.frombytes(MODES[c], (w, h), data)
            out = im.resize((ow, oh), FILTERS[name])
            with open(dst, "wb") as f:
                f.write(out.tobytes())
    print(PIL.__version__)


if __name__ == "__main__":
    main(sys.argv[1])
