"""The preprocessing people write in Python, as oracles for lockstep's preprocess tests.

usage: pipelines.py NAME IMAGE OUT.npy [W H]
  cv2_stretch_m1p1_uint8   cv2 (BGR→RGB) resize INTER_LINEAR, (x-127.5)/127.5, uint8 q with
                           scale 1/128 zp 128, np.round (half to even)
  pil_stretch_m1p1_uint8   PIL resize BILINEAR, the same normalization and quantization
  ultralytics_int8         Ultralytics LetterBox (round, pads round(d∓0.1), 114, INTER_LINEAR),
                           BGR→RGB, /255, int8 q scale 1/255 zp -128 with astype (truncation)
  pycoral_uint8            PIL resize (BILINEAR) to int(w*scale) x int(h*scale), top-left on a
                           zero tensor, raw pixels (uint8 scale 1/255 zp 0 identity)
"""
import sys

import numpy as np


def main():
    name, src, dst = sys.argv[1:4]
    w, h = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (300, 300)
    if name == "cv2_stretch_m1p1_uint8":
        import cv2
        im = cv2.imread(src, cv2.IMREAD_COLOR)[:, :, ::-1]
        x = cv2.resize(im, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        x = (x - np.float32(127.5)) / np.float32(127.5)
        q = np.clip(np.round(x / np.float32(0.0078125)) + 128, 0, 255).astype(np.uint8)
    elif name == "pil_stretch_m1p1_uint8":
        from PIL import Image
        im = Image.open(src).convert("RGB").resize((w, h), Image.BILINEAR)
        x = (np.asarray(im).astype(np.float32) - np.float32(127.5)) / np.float32(127.5)
        q = np.clip(np.round(x / np.float32(0.0078125)) + 128, 0, 255).astype(np.uint8)
    elif name == "ultralytics_int8":
        import cv2
        im = cv2.imread(src, cv2.IMREAD_COLOR)
        h0, w0 = im.shape[:2]
        r = min(h / h0, w / w0)
        nw, nh = int(round(w0 * r)), int(round(h0 * r))
        dw, dh = (w - nw) / 2, (h - nh) / 2
        if (w0, h0) != (nw, nh):
            im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_LINEAR)
        top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
        left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
        im = cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT,
                                value=(114, 114, 114))
        x = im[:, :, ::-1].astype(np.float32) / np.float32(255)
        q = (x / np.float32(1 / 255) + -128).astype(np.int8)
    elif name == "pycoral_uint8":
        from PIL import Image
        im = Image.open(src).convert("RGB")
        scale = min(w / im.width, h / im.height)
        size = int(im.width * scale), int(im.height * scale)
        q = np.zeros((h, w, 3), np.uint8)
        q[:size[1], :size[0]] = np.asarray(im.resize(size, Image.BILINEAR))
    else:
        raise SystemExit("unknown pipeline " + name)
    np.save(dst, q[None])


if __name__ == "__main__":
    main()
