"""The case table: deployed pipelines = the training pipeline plus realistic mistakes.

Each Case is run by run_cases.py on every image: `pipeline(path, infer)` returns the four stage
tensors ({"resized", "normalized", "quantized", "boxes"}), of which `stages` are written for the
doctor. `infer(quantized) -> outputs` is the TFLite interpreter (lockstep.Engine.run); every other
step is this folder's own code (pipelines.py).

expected: the fingerprint codes, in pipeline order; [] means "no named cause": with
control="aligned" the doctor must report no error, with control="unknown" any error it reports
must name no cause. synonyms: other codes accepted for each expected code. mistake_stage: the
first stage the (first) mistake changes; run_cases.py checks that the stages before it equal the
correct pipeline's and that it differs from it.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import pipelines as P

STAGES = ("resized", "normalized", "quantized", "boxes")
ALL = STAGES
INPUT = ("quantized",)
PRE = ("resized", "normalized", "quantized")
BOXES = ("boxes",)

SPECS = {"stretch": "train_stretch.json", "letterbox": "train_letterbox.json"}

# Codes accepted for an expected code (the code itself always is).
SYNONYMS = {
    "channels_swapped": ["channel_order"],
    "normalization_range": ["normalization", "normalization_vs_metadata"],
    "zero_point_offset": ["zero_point_ignored"],
    "truncation_vs_rounding": ["astype_truncation"],
    "wraparound": ["no_saturation"],
    "padded_vs_stretched": ["geometry_mode"],
    "mirrored_horizontally": ["mirrored", "flipped_horizontally", "horizontal_flip"],
    "mirrored_vertically": ["flipped_vertically", "vertical_flip"],
    "rotated_90": ["rotated_90_cw"],
    "rotated_270": ["rotated_270_cw", "rotated_90_ccw"],
    "transposed_hw": ["transposed"],
    "exif_orientation_not_applied": ["exif_orientation", "exif_not_applied"],
    "brightness_contrast": ["gain_offset", "brightness", "contrast"],
    "jpeg_reencoded": ["jpeg_recompressed", "jpeg_quality"],
    "chroma_subsampled": ["chroma_subsampling"],
    "yuv_matrix": ["yuv_matrix_mismatch", "color_matrix"],
    "yuv_range": ["limited_vs_full_range", "yuv_limited_range", "color_range"],
    "float16_rounding": ["float16", "half_precision"],
}


def accepted(code):
    return [code] + SYNONYMS.get(code, [])


@dataclass
class Case:
    name: str
    cls: str
    spec: str  # key of SPECS
    stages: Tuple[str, ...]
    pipeline: Callable
    expected: List[str]
    mistake_stage: Optional[str]  # None: no mistake planted
    what: str
    control: str = ""  # "aligned" or "unknown" when expected is []
    images: str = "plain"  # "plain" or "exif" (JPEG copies tagged orientation 6)
    aligned_ok: bool = False  # a harmless mistake: "aligned" is an acceptable answer too


# ------------------------------------------------------------------------- pipeline construction
def make(decode=None, source=None, geometry="stretch", after_resize=None, normalize=None,
         quantize=None, boxes=None):
    """A deployed pipeline from hooks; every hook left None is the training pipeline's step.

    decode(path) -> HxWx3 uint8 RGB (as the pipeline believes it)
    source(rgb) -> rgb                      photometric / codec effects on the source
    geometry: "stretch" | "letterbox" | callable(rgb) -> (resized, inverse-info)
    after_resize(resized) -> resized
    normalize(resized) -> float32, quantize(normalized) -> 1xHxWx3 uint8
    boxes(yxyx, info) -> [N,4] xyxy source pixels
    """
    def run(path, infer):
        rgb = decode(path) if decode else P.decode_rgb(path)
        if source:
            rgb = source(rgb)
        src_h, src_w = rgb.shape[:2]
        if callable(geometry):
            resized, info = geometry(rgb)
        elif geometry == "letterbox":
            resized, (r, left, top) = P.letterbox(rgb)
            info = {"mode": "letterbox", "r": r, "left": left, "top": top}
        else:
            resized, info = P.stretch(rgb), {"mode": "stretch"}
        info.update(src_w=src_w, src_h=src_h)
        if after_resize:
            resized = after_resize(resized)
        normalized = normalize(resized) if normalize else P.normalize(resized)
        quantized = quantize(normalized) if quantize else P.quantize(normalized)
        yxyx = P.kept_yxyx(infer(quantized))
        xyxy = boxes(yxyx, info) if boxes else default_boxes(yxyx, info)
        return {"resized": resized, "normalized": normalized, "quantized": quantized,
                "boxes": P.boxes_array(xyxy)}
    return run


def default_boxes(yxyx, info):
    """The pipeline's own inverse of its own geometry, as its spec says: the stretch spec keeps
    boxes unclamped, the letterbox spec clamps."""
    if info["mode"] == "letterbox":
        return P.boxes_letterbox(yxyx, info["src_w"], info["src_h"], info["r"], info["left"],
                                 info["top"], clamp=True)
    return P.boxes_stretch(yxyx, info["src_w"], info["src_h"], clamp=False)


def geometry_letterbox(pad_value=P.PAD_VALUE, placement="center"):
    def g(rgb):
        resized, (r, left, top) = P.letterbox(rgb, pad_value=pad_value, placement=placement)
        return resized, {"mode": "letterbox", "r": r, "left": left, "top": top}
    return g


def geometry_stretch(**kw):
    return lambda rgb: (P.stretch(rgb, **kw), {"mode": "stretch"})


def geometry_stretch_pil(resample):
    return lambda rgb: (P.stretch(rgb, resize=P.resize_pil, resample=resample), {"mode": "stretch"})


def decode_cv2_no_rgb(path):
    return P.decode_cv2(path)  # BGR, believed to be RGB


def decode_ignoring_exif(path):
    return P.decode_rgb(path, apply_exif=False)


def box_map(kind):
    def m(yxyx, info):
        w, h = info["src_w"], info["src_h"]
        if kind == "normalized":  # never multiplied by the image size
            return P.to_xyxy(yxyx)
        if kind == "yx_order":  # scaled right, but (ymin, xmin, ymax, xmax) kept
            return yxyx * np.array([h, w, h, w], np.float64)
        if kind == "scales_swapped":  # x by the height, y by the width
            return P.to_xyxy(yxyx) * np.array([h, w, h, w], np.float64)
        if kind == "stretched_after_letterbox":  # letterboxed input, stretch inverse
            return np.clip(P.to_xyxy(yxyx) * np.array([w, h, w, h], np.float64), 0, [w, h, w, h])
        if kind == "not_unletterboxed":  # input pixels of the letterboxed image
            return P.to_xyxy(yxyx) * np.array([P.WIDTH, P.HEIGHT, P.WIDTH, P.HEIGHT], np.float64)
        if kind == "clamped":  # right, then clamped to the image
            return P.boxes_stretch(yxyx, w, h, clamp=True)
        raise ValueError(kind)
    return m


def rotate_after(degrees):
    return lambda rgb: P.rotate_cw(rgb, degrees)


# ---------------------------------------------------------------------------------- the cases
CASES: List[Case] = [
    # channel order
    Case("bgr_not_converted", "channel_order", "stretch", ALL,
         make(decode=decode_cv2_no_rgb), ["channels_swapped"], "resized",
         "cv2.imread without BGR->RGB"),
    # normalization
    Case("norm_zero_one", "normalization", "stretch", ALL,
         make(normalize=lambda x: P.normalize(x, 0.0, 255.0)), ["normalization_range"],
         "normalized", "x/255 in [0,1] instead of [-1,1]"),
    Case("norm_imagenet", "normalization", "stretch", ALL,
         make(normalize=lambda x: P.normalize(x, P.IMAGENET_MEAN, P.IMAGENET_STD)),
         ["normalization_range"], "normalized", "ImageNet mean/std instead of 127.5/127.5"),
    Case("norm_raw_255", "normalization", "stretch", ("normalized", "quantized"),
         make(normalize=lambda x: x.astype(np.float32)), ["normalization_range"], "normalized",
         "raw 0..255 floats, no normalization"),
    Case("norm_zero_one_input_only", "normalization", "stretch", INPUT,
         make(normalize=lambda x: P.normalize(x, 0.0, 255.0)), ["normalization_range"],
         "normalized", "[0,1] with only the model input dumped"),
    # quantization
    Case("quant_zero_point_ignored", "quantization", "stretch", INPUT,
         make(quantize=lambda n: P.quantize(n, zero_point_used=False)), ["zero_point_offset"],
         "quantized", "clip(round(x/scale)) without + zero point"),
    Case("quant_astype_truncation", "quantization", "stretch", ALL,
         make(quantize=lambda n: P.quantize(n, rounding="astype")), ["truncation_vs_rounding"],
         "quantized", "clip(x/scale + zp).astype(uint8): truncation instead of rounding"),
    Case("quant_wraparound", "quantization", "stretch", INPUT,
         make(quantize=lambda n: P.quantize(n, saturate=False)), ["wraparound"], "quantized",
         "np.uint8(round(x/scale) + 128): 256 wraps to 0 instead of saturating"),
    # resize
    Case("resize_cv2_nearest", "resize", "stretch", ALL,
         make(geometry=geometry_stretch(interpolation="nearest")), ["interpolation"], "resized",
         "cv2.INTER_NEAREST instead of INTER_LINEAR"),
    Case("resize_pil_bilinear", "resize", "stretch", ALL,
         make(geometry=geometry_stretch_pil("bilinear")), ["interpolation"], "resized",
         "PIL Image.BILINEAR (antialiased) instead of cv2 INTER_LINEAR"),
    Case("resize_cv2_area", "resize", "stretch", INPUT,
         make(geometry=geometry_stretch(interpolation="area")), ["interpolation"], "resized",
         "cv2.INTER_AREA, only the model input dumped"),
    Case("resize_pil_nearest", "resize", "stretch", ALL,
         make(geometry=geometry_stretch_pil("nearest")), ["interpolation"], "resized",
         "PIL Image.NEAREST"),
    # geometry
    Case("letterbox_instead_of_stretch", "geometry", "stretch", ALL,
         make(geometry=geometry_letterbox(pad_value=0)), ["padded_vs_stretched"], "resized",
         "letterbox (centred, pad 0) where training stretches"),
    Case("pad_value_0", "geometry", "letterbox", ALL,
         make(geometry=geometry_letterbox(pad_value=0)), ["pad_value"], "resized",
         "letterbox padded with 0 where training pads 114"),
    Case("pad_value_128", "geometry", "letterbox", INPUT,
         make(geometry=geometry_letterbox(pad_value=128)), ["pad_value"], "resized",
         "letterbox padded with 128 where training pads 114, model input only"),
    Case("letterbox_top_left", "geometry", "letterbox", ALL,
         make(geometry=geometry_letterbox(placement="top_left")), ["letterbox_placement"],
         "resized", "letterbox anchored top-left (pycoral-style) where training centres"),
    # orientation
    Case("mirror_horizontal", "orientation", "stretch", ALL,
         make(source=P.mirror_horizontal), ["mirrored_horizontally"], "resized",
         "image mirrored left-right (front camera)"),
    Case("flip_vertical", "orientation", "stretch", ALL,
         make(source=P.mirror_vertical), ["mirrored_vertically"], "resized",
         "image upside-down mirrored (bottom-up frame buffer)"),
    Case("rotate_90", "orientation", "stretch", ALL,
         make(source=rotate_after(90)), ["rotated_90"], "resized",
         "source rotated 90 degrees clockwise (sensor mounted sideways)"),
    Case("rotate_180", "orientation", "stretch", INPUT,
         make(source=rotate_after(180)), ["rotated_180"], "resized",
         "source rotated 180 degrees, model input only"),
    Case("rotate_270", "orientation", "stretch", ALL,
         make(source=rotate_after(270)), ["rotated_270"], "resized",
         "source rotated 270 degrees clockwise"),
    Case("transposed_hw", "orientation", "stretch", ALL,
         make(after_resize=P.transpose_hw), ["transposed_hw"], "resized",
         "resized image's H and W axes swapped (np.transpose(x, (1, 0, 2)))"),
    Case("exif_ignored", "orientation", "stretch", ALL,
         make(decode=decode_ignoring_exif), ["exif_orientation_not_applied"], "resized",
         "EXIF orientation 6 not applied (PIL open without exif_transpose)", images="exif"),
    # photometric
    Case("gamma_22", "photometric", "stretch", ALL,
         make(source=lambda x: P.gamma(x, 1 / 2.2)), ["gamma"], "resized",
         "source through gamma 1/2.2 (display-encoded twice)"),
    Case("brightness_contrast", "photometric", "stretch", ALL,
         make(after_resize=P.brightness_contrast), ["brightness_contrast"], "resized",
         "x*1.2+10, clipped, on the resized image (an augmentation left on)"),
    # codec
    Case("jpeg_q50", "codec", "stretch", ALL,
         make(source=lambda x: P.jpeg_reencode(x, 50)), ["jpeg_reencoded"], "resized",
         "source re-encoded by PIL at JPEG quality 50 before resizing"),
    Case("chroma_420", "codec", "stretch", ALL,
         make(source=P.chroma_420), ["chroma_subsampled"], "resized",
         "4:2:0 chroma (2x2 averaged) and upsampled again"),
    Case("yuv_601_as_709", "codec", "stretch", ALL,
         make(source=P.yuv_matrix_mismatch), ["yuv_matrix"], "resized",
         "YUV encoded BT.601, decoded BT.709"),
    Case("yuv_limited_as_full", "codec", "stretch", INPUT,
         make(source=P.yuv_range_mismatch), ["yuv_range"], "resized",
         "limited-range YUV read as full range, model input only"),
    # numeric
    Case("float16_normalized", "numeric", "stretch", ("normalized", "quantized"),
         make(normalize=lambda x: P.normalize(x).astype(np.float16).astype(np.float32)),
         ["float16_rounding"], "normalized", "normalized tensor cast to float16 and back",
         aligned_ok=True),
    # boxes
    Case("boxes_normalized", "boxes", "stretch", ALL,
         make(boxes=box_map("normalized")), ["normalized_vs_pixel_boxes"], "boxes",
         "normalized boxes never multiplied by the image size"),
    Case("boxes_yx_order", "boxes", "stretch", BOXES,
         make(boxes=box_map("yx_order")), ["yx_vs_xy_order"], "boxes",
         "(ymin, xmin, ymax, xmax) kept, boxes only"),
    Case("boxes_scales_swapped", "boxes", "stretch", ALL,
         make(boxes=box_map("scales_swapped")), ["box_scales_swapped"], "boxes",
         "x scaled by the height, y by the width"),
    Case("boxes_stretched_after_letterbox", "boxes", "letterbox", ALL,
         make(geometry="letterbox", boxes=box_map("stretched_after_letterbox")),
         ["boxes_stretched_after_letterbox"], "boxes",
         "letterboxed input, boxes mapped back as if stretched"),
    Case("boxes_not_unletterboxed", "boxes", "letterbox", BOXES,
         make(geometry="letterbox", boxes=box_map("not_unletterboxed")),
         ["boxes_not_unletterboxed"], "boxes",
         "letterboxed input, boxes left in input pixels, boxes only"),
    Case("boxes_clamped", "boxes", "stretch", ALL,
         make(boxes=box_map("clamped")), [], "boxes",
         "right boxes clamped to the image (training leaves them unclamped): harmless",
         control="aligned"),
    # combinations
    Case("combo_bgr_zero_one", "combination", "stretch", INPUT,
         make(decode=decode_cv2_no_rgb, normalize=lambda x: P.normalize(x, 0.0, 255.0)),
         ["channels_swapped", "normalization_range"], "resized",
         "BGR and [0,1], model input only"),
    Case("combo_nearest_zero_point", "combination", "stretch", INPUT,
         make(geometry=geometry_stretch(interpolation="nearest"),
              quantize=lambda n: P.quantize(n, zero_point_used=False)),
         ["interpolation", "zero_point_offset"], "resized",
         "INTER_NEAREST and zero point ignored, model input only"),
    Case("combo_mirror_gamma", "combination", "stretch", INPUT,
         make(source=lambda x: P.gamma(P.mirror_horizontal(x), 1 / 2.2)),
         ["mirrored_horizontally", "gamma"], "resized",
         "mirrored and gamma 1/2.2, model input only"),
    Case("combo_bgr_pil_truncation", "combination", "stretch", INPUT,
         make(decode=decode_cv2_no_rgb, geometry=geometry_stretch_pil("bilinear"),
              quantize=lambda n: P.quantize(n, rounding="astype")),
         ["channels_swapped", "interpolation", "truncation_vs_rounding"], "resized",
         "BGR, PIL bilinear and astype truncation, model input only"),
    # controls
    Case("correct_stretch", "control", "stretch", ALL, make(), [], None,
         "the training pipeline, written independently", control="aligned"),
    Case("correct_letterbox", "control", "letterbox", ALL, make(geometry="letterbox"), [], None,
         "the letterbox training pipeline, written independently", control="aligned"),
    Case("noise_20", "control", "stretch", ALL,
         make(after_resize=lambda x: P.add_noise(x, 20, seed=int(x.sum()) % 2**32)), [],
         "resized", "uniform noise of +-20 on the resized image: no nameable cause",
         control="unknown"),
]

# The correct pipelines the planted cases are checked against, by spec.
CORRECT = {"stretch": make(), "letterbox": make(geometry="letterbox")}


def by_name():
    return {c.name: c for c in CASES}
