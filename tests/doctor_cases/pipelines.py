"""Independent preprocessing and box-mapping pieces for the doctor's case set.

Plain numpy / PIL / cv2 functions, written without lockstep: decoding, colour, resize variants,
letterbox, photometric and codec round trips, normalization, quantization, and decoding of
TFLite_Detection_PostProcess outputs into boxes in source pixels. A case combines them into a
deployed pipeline (see cases.py). The only lockstep object used anywhere in this folder is
lockstep.Engine, as the TFLite interpreter (run_cases.py passes its `run` in as `infer`).
"""

import io

import cv2
import numpy as np
from PIL import Image, ImageOps

# The model's input (COCO SSD MobileNet v1 quant): 1x300x300x3 uint8, scale 1/128, zero point 128.
WIDTH = HEIGHT = 300
SCALE = 0.0078125
ZERO_POINT = 128
MEAN = 127.5
STD = 127.5
SCORE_THRESHOLD = 0.3  # the specs' output.score_threshold
PAD_VALUE = 114  # train_letterbox.json's pad


# ---------------------------------------------------------------------------------------- decode
def decode_rgb(path, apply_exif=True):
    """The source as HxWx3 uint8 RGB: PIL decode, EXIF orientation applied (as the spec says)."""
    with Image.open(path) as im:
        if apply_exif:
            im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB")).copy()


def decode_cv2(path, ignore_exif=False):
    """cv2.imread: BGR, EXIF applied unless IMREAD_IGNORE_ORIENTATION."""
    flags = cv2.IMREAD_COLOR | (cv2.IMREAD_IGNORE_ORIENTATION if ignore_exif else 0)
    image = cv2.imread(str(path), flags)
    if image is None:
        raise FileNotFoundError(path)
    return image


def bgr_to_rgb(image):
    return np.ascontiguousarray(image[:, :, ::-1])


# ---------------------------------------------------------------------------------------- resize
CV2_INTERPOLATION = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST,
                     "area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC}
PIL_RESAMPLE = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC}


def resize_cv2(image, width, height, interpolation="linear"):
    return cv2.resize(image, (width, height), interpolation=CV2_INTERPOLATION[interpolation])


def resize_pil(image, width, height, resample="bilinear"):
    return np.asarray(Image.fromarray(image).resize((width, height), PIL_RESAMPLE[resample]))


def stretch(image, resize=resize_cv2, **kw):
    """Stretch to the model input, aspect ratio not kept."""
    return resize(image, WIDTH, HEIGHT, **kw)


def letterbox_geometry(src_w, src_h, width=WIDTH, height=HEIGHT):
    """Ultralytics' letterbox integers: r = min ratio, size round() (half to even), pads
    round(d -/+ 0.1). Returns (r, new_w, new_h, left, top, right, bottom)."""
    r = min(width / src_w, height / src_h)
    new_w, new_h = int(round(src_w * r)), int(round(src_h * r))
    dw, dh = (width - new_w) / 2, (height - new_h) / 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    return r, new_w, new_h, left, top, right, bottom


def letterbox(image, pad_value=PAD_VALUE, placement="center", width=WIDTH, height=HEIGHT,
              resize=resize_cv2, **kw):
    """Scale to fit (aspect kept), resize with `resize`, pad to width x height.
    Returns (image, (r, left, top))."""
    h, w = image.shape[:2]
    r, new_w, new_h, left, top, right, bottom = letterbox_geometry(w, h, width, height)
    resized = image if (new_w, new_h) == (w, h) else resize(image, new_w, new_h, **kw)
    if placement == "top_left":
        left, top = 0, 0
    out = np.full((height, width, 3), pad_value, np.uint8)
    out[top:top + new_h, left:left + new_w] = resized
    return out, (r, left, top)


# ------------------------------------------------------------------------------------ orientation
def mirror_horizontal(image):
    return np.ascontiguousarray(image[:, ::-1])


def mirror_vertical(image):
    return np.ascontiguousarray(image[::-1])


def rotate_cw(image, degrees):
    k = {90: -1, 180: 2, 270: 1}[degrees]  # np.rot90 turns counter-clockwise
    return np.ascontiguousarray(np.rot90(image, k))


def transpose_hw(image):
    return np.ascontiguousarray(np.transpose(image, (1, 0, 2)))


# ------------------------------------------------------------------------------------ photometric
def gamma(image, g):
    """Pixels through x -> 255 (x/255)^g, rounded."""
    lut = np.clip(np.floor(255.0 * (np.arange(256) / 255.0) ** g + 0.5), 0, 255).astype(np.uint8)
    return lut[image]


def brightness_contrast(image, gain=1.2, offset=10.0):
    return np.clip(np.floor(image.astype(np.float64) * gain + offset + 0.5), 0, 255).astype(np.uint8)


def add_noise(image, amplitude=20, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.integers(-amplitude, amplitude + 1, size=image.shape)
    return np.clip(image.astype(np.int32) + noise, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------- codecs
def jpeg_reencode(image, quality=50):
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB")).copy()


def _to_u8(x):
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def rgb_to_ycbcr(image, kr, kb):
    """Full-range Y'CbCr (float, 0..255, chroma centred at 128) with luma weights kr, kb."""
    rgb = image.astype(np.float64)
    kg = 1.0 - kr - kb
    y = kr * rgb[..., 0] + kg * rgb[..., 1] + kb * rgb[..., 2]
    cb = (rgb[..., 2] - y) / (2.0 * (1.0 - kb)) + 128.0
    cr = (rgb[..., 0] - y) / (2.0 * (1.0 - kr)) + 128.0
    return y, cb, cr


def ycbcr_to_rgb(y, cb, cr, kr, kb):
    kg = 1.0 - kr - kb
    cb = cb - 128.0
    cr = cr - 128.0
    r = y + 2.0 * (1.0 - kr) * cr
    b = y + 2.0 * (1.0 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return np.stack([r, g, b], axis=-1)


BT601 = (0.299, 0.114)
BT709 = (0.2126, 0.0722)


def chroma_420(image):
    """Y'CbCr (BT.601, full range) with Cb/Cr averaged over 2x2 blocks and upsampled by
    repetition: a 4:2:0 camera frame turned back into RGB (odd edges replicated)."""
    h, w = image.shape[:2]
    y, cb, cr = rgb_to_ycbcr(image, *BT601)
    y, cb, cr = _to_u8(y).astype(np.float64), _to_u8(cb).astype(np.float64), _to_u8(cr).astype(np.float64)

    def sub_up(c):
        c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
        small = np.floor((c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) / 4 + 0.5)
        return np.repeat(np.repeat(small, 2, 0), 2, 1)[:h, :w]

    return _to_u8(ycbcr_to_rgb(y, sub_up(cb), sub_up(cr), *BT601))


def yuv_matrix_mismatch(image):
    """Encoded with BT.601 coefficients, decoded with BT.709 ones (8-bit YUV in between)."""
    y, cb, cr = (_to_u8(c).astype(np.float64) for c in rgb_to_ycbcr(image, *BT601))
    return _to_u8(ycbcr_to_rgb(y, cb, cr, *BT709))


def yuv_range_mismatch(image):
    """Encoded as limited (video) range BT.601 — Y 16..235, C 16..240 — decoded as full range."""
    y, cb, cr = rgb_to_ycbcr(image, *BT601)
    y8 = _to_u8(16.0 + y * 219.0 / 255.0).astype(np.float64)
    cb8 = _to_u8(128.0 + (cb - 128.0) * 224.0 / 255.0).astype(np.float64)
    cr8 = _to_u8(128.0 + (cr - 128.0) * 224.0 / 255.0).astype(np.float64)
    return _to_u8(ycbcr_to_rgb(y8, cb8, cr8, *BT601))


# ------------------------------------------------------------------------- normalize and quantize
def normalize(image, mean=MEAN, std=STD):
    """HxWx3 float32: (pixel - mean) / std, per channel when given lists."""
    mean = np.asarray(mean, np.float32)
    std = np.asarray(std, np.float32)
    return ((image.astype(np.float32) - mean) / std).astype(np.float32)


IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize(normalized, scale=SCALE, zero_point=ZERO_POINT, rounding="half_away",
             zero_point_used=True, saturate=True):
    """1xHxWx3 uint8 input tensor. The correct path: q = clamp(round(x / scale) + zp), the
    division in double, rounding half away from zero (TFLite's QUANTIZE)."""
    x = normalized.astype(np.float64) / scale
    zp = zero_point if zero_point_used else 0
    if rounding == "half_away":
        q = round_half_away(x) + zp
    elif rounding == "astype":  # numpy astype after adding the zero point: truncation
        q = np.trunc(x + zp)
    else:
        raise ValueError(rounding)
    if saturate:
        q = np.clip(q, 0, 255)
    else:  # the bytes wrap, as np.uint8(int) arithmetic does
        q = np.mod(q.astype(np.int64), 256)
    return q.astype(np.uint8)[np.newaxis]


# ------------------------------------------------------------------------------------ the model
def postprocess_outputs(outputs):
    """TFLite_Detection_PostProcess outputs -> (yxyx [N,4] normalized, classes, scores), N = count,
    the outputs told apart by their shapes."""
    boxes = classes = scores = count = None
    flat = []
    for o in outputs:
        o = np.asarray(o)
        if o.ndim == 3 and o.shape[-1] == 4:
            boxes = o.reshape(-1, 4)
        elif o.size == 1:
            count = int(o.reshape(-1)[0])
        else:
            flat.append(o.reshape(-1))
    if boxes is None or count is None or len(flat) != 2:
        raise ValueError(f"unexpected outputs: {[np.asarray(o).shape for o in outputs]}")
    # classes are whole numbers, scores lie in [0,1]: classes is the one with values above 1 or
    # integer throughout; the model's own order is boxes, classes, scores, count.
    a, b = flat
    if np.all(a == np.round(a)) and not np.all(b == np.round(b)):
        classes, scores = a, b
    elif np.all(b == np.round(b)) and not np.all(a == np.round(a)):
        classes, scores = b, a
    else:
        classes, scores = a, b
    n = min(count, len(boxes))
    return boxes[:n].astype(np.float64), classes[:n], scores[:n].astype(np.float64)


def kept_yxyx(outputs, threshold=SCORE_THRESHOLD):
    yxyx, _, scores = postprocess_outputs(outputs)
    return yxyx[scores >= threshold]


def to_xyxy(yxyx):
    return yxyx[:, [1, 0, 3, 2]]


def boxes_stretch(yxyx, src_w, src_h, clamp=True):
    """Stretch inverse: normalized (ymin, xmin, ymax, xmax) -> source-pixel (xmin, ymin, xmax, ymax)."""
    xyxy = to_xyxy(yxyx) * np.array([src_w, src_h, src_w, src_h], np.float64)
    if clamp:
        xyxy = np.clip(xyxy, 0, [src_w, src_h, src_w, src_h])
    return xyxy


def boxes_letterbox(yxyx, src_w, src_h, r, left, top, clamp=True):
    """Letterbox inverse: input pixels minus the pad, divided by the ratio."""
    xyxy = to_xyxy(yxyx) * np.array([WIDTH, HEIGHT, WIDTH, HEIGHT], np.float64)
    xyxy = (xyxy - np.array([left, top, left, top], np.float64)) / r
    if clamp:
        xyxy = np.clip(xyxy, 0, [src_w, src_h, src_w, src_h])
    return xyxy


def boxes_array(xyxy):
    return np.ascontiguousarray(np.asarray(xyxy, np.float32).reshape(-1, 4))
