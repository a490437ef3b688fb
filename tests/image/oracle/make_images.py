"""Writes the generated images lockstep's decode tests need into a folder (argv[1])."""
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]
rng = np.random.default_rng(7)
rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
# Smooth content so JPEG artefacts stay realistic.
yy, xx = np.mgrid[0:61, 0:83]
smooth = np.stack([(xx * 3) % 256, (yy * 4) % 256, (xx + yy) % 256], -1).astype(np.uint8)

Image.fromarray(rgb).save(f"{out}/rgb.png")
Image.fromarray(rgb[:, :, 0]).save(f"{out}/gray.png")
rgba = np.concatenate([rgb, rng.integers(0, 256, (37, 53, 1), dtype=np.uint8)], -1)
Image.fromarray(rgba).save(f"{out}/rgba.png")
Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(f"{out}/palette.png")
Image.fromarray(rgb).save(f"{out}/rgb.bmp")
Image.fromarray(smooth).save(f"{out}/smooth.jpg", quality=90)
Image.fromarray(smooth[:, :, 1]).save(f"{out}/gray.jpg", quality=90)
for o in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = o
    Image.fromarray(smooth).save(f"{out}/exif{o}.jpg", quality=95, exif=exif.tobytes())
