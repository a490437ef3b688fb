"""Seed inputs for the fuzz targets that are better generated than stored: image variants
(progressive, CMYK, grayscale, EXIF-rotated JPEGs; palette, 16-bit and RGBA PNGs; BMP), .npy
files of every dtype and order, COCO datasets with results, and stage tensors.

Usage: make_seeds.py SEEDS_DIR [ASSETS_DIR]
"""
import io
import json
import os
import sys

import numpy as np
from PIL import Image


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def image_seeds(out):
    rng = np.random.default_rng(13)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 17, 3), dtype=np.uint8))

    def save(name, im, fmt, **kw):
        b = io.BytesIO()
        im.save(b, fmt, **kw)
        write(os.path.join(out, name), b.getvalue())

    save("baseline.jpg", rgb, "JPEG", quality=80)
    save("progressive.jpg", rgb, "JPEG", quality=80, progressive=True)
    save("gray.jpg", rgb.convert("L"), "JPEG")
    save("cmyk.jpg", rgb.convert("CMYK"), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise
    save("exif6.jpg", rgb, "JPEG", exif=exif.tobytes())
    save("rgb.png", rgb, "PNG")
    save("rgba.png", rgb.convert("RGBA"), "PNG")
    save("palette.png", rgb.convert("P"), "PNG")
    save("gray16.png", Image.fromarray(rng.integers(0, 65536, (9, 7), dtype=np.uint16)), "PNG")
    save("rgb.bmp", rgb, "BMP")


def npy_seeds(out):
    arrays = {
        "u8": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "i8": np.arange(-6, 6, dtype=np.int8),
        "f4": np.linspace(-1, 1, 12, dtype=np.float32).reshape(1, 2, 2, 3),
        "f2": np.linspace(0, 1, 6, dtype=np.float16),
        "f4_be": np.arange(6, dtype=">f4"),
        "i2": np.arange(6, dtype=np.int16),
        "i4": np.arange(6, dtype=np.int32),
        "i8_64": np.arange(6, dtype=np.int64),
        "bool": np.array([True, False]),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "nonfinite": np.array([np.nan, np.inf, -np.inf, 0.0], dtype=np.float32),
    }
    for name, a in arrays.items():
        b = io.BytesIO()
        np.save(b, a, allow_pickle=False)
        write(os.path.join(out, name + ".npy"), b.getvalue())


def coco_seeds(out, assets):
    tiny = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [4, 5, 20, 10], "area": 200,
             "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [30, 5, 20, 30], "area": 600,
             "iscrowd": 1},
        ],
        "categories": [{"id": 3, "name": "car"}],
    }
    results = [{"image_id": 1, "category_id": 3, "bbox": [4, 6, 20, 9], "score": 0.9},
               {"image_id": 1, "category_id": 3, "bbox": [40, 5, 2, 3], "score": 0.2}]
    write(os.path.join(out, "tiny.json"),
          (json.dumps(tiny) + "\0" + json.dumps(results)).encode())
    path = os.path.join(assets or "", "datasets/coco128/annotations/instances_train2017.json")
    if assets and os.path.exists(path):
        with open(path) as f:
            full = json.load(f)
        for n in (2, 5):
            images = full["images"][:n]
            ids = {im["id"] for im in images}
            anns = [a for a in full["annotations"] if a["image_id"] in ids]
            subset = {"images": images, "annotations": anns, "categories": full["categories"]}
            dets = [{"image_id": a["image_id"], "category_id": a["category_id"],
                     "bbox": [v + 1 for v in a["bbox"]], "score": 0.5} for a in anns]
            write(os.path.join(out, f"coco128_{n}.json"),
                  (json.dumps(subset) + "\0" + json.dumps(dets)).encode())


def tensor_seeds(out):
    rng = np.random.default_rng(7)
    for stage in range(5):
        for types in (0, 4, 8):  # uint8/uint8, int8/int8, float32/float32
            head = bytes([stage, types, stage % 3, 3])
            a = rng.integers(0, 256, 96, dtype=np.uint8).tobytes()
            b = bytes(x ^ (1 if i % 5 == 0 else 0) for i, x in enumerate(a))
            write(os.path.join(out, f"s{stage}_t{types}.bin"), head + a + b)
    f = np.array([0.5, np.nan, np.inf, -np.inf] * 6, dtype=np.float32).tobytes()
    write(os.path.join(out, "nonfinite.bin"), bytes([1, 8, 0, 0]) + f + f)


def main():
    seeds = sys.argv[1]
    assets = sys.argv[2] if len(sys.argv) > 2 else None
    image_seeds(os.path.join(seeds, "image"))
    npy_seeds(os.path.join(seeds, "npy"))
    coco_seeds(os.path.join(seeds, "coco"), assets)
    tensor_seeds(os.path.join(seeds, "tensor_compare"))


if __name__ == "__main__":
    main()
