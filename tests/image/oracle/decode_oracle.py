"""Decodes an image the way the training side does, for lockstep's decode tests.

usage: decode_oracle.py MODE IN OUT
  MODE pil        PIL.Image.open, native mode kept for L/RGB/RGBA (P and LA converted as PIL would)
  MODE pil_exif   the same after ImageOps.exif_transpose
  MODE cv2        cv2.imread(IMREAD_UNCHANGED) with BGR(A) turned back to RGB(A)
OUT gets "W H C\n" followed by the interleaved pixel bytes.
"""
import sys

import numpy as np


def main():
    mode, src, dst = sys.argv[1:4]
    if mode.startswith("pil"):
        from PIL import Image, ImageOps
        im = Image.open(src)
        if mode == "pil_exif":
            im = ImageOps.exif_transpose(im)
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif im.mode == "LA":
            im = im.convert("RGBA")
        elif im.mode in ("I;16", "I"):
            im = im.point(lambda v: v / 256).convert("L")
        a = np.asarray(im)
    else:
        import cv2
        a = cv2.imread(src, cv2.IMREAD_UNCHANGED)
        if a.ndim == 3 and a.shape[2] == 3:
            a = a[:, :, ::-1]
        elif a.ndim == 3 and a.shape[2] == 4:
            a = a[:, :, [2, 1, 0, 3]]
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    with open(dst, "wb") as f:
        f.write(f"{w} {h} {c}\n".encode())
        f.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())


if __name__ == "__main__":
    main()
