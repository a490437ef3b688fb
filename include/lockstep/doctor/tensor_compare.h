// Two tensors of the same pipeline stage compared: statistics of the difference and a fingerprint
// that names the likely cause ("[0,1] vs [-1,1]", "channels swapped", "off by the zero point",
// ...). The doctor uses it on its own two pipelines and on stage tensors from elsewhere (.npy).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/image/image.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// The stages a pipeline goes through, in order. Boxes are detections as an [N,4] tensor.
enum class StageKind { kResized, kNormalized, kQuantized, kRawOutput, kBoxes };
std::string_view Name(StageKind kind);

struct DifferenceStats {
  size_t elements = 0;
  size_t differing = 0;  // elements whose values differ (non_finite ones included)
  double max_abs_diff = 0;
  double mean_diff = 0;  // mean of (other - reference) over the finite pairs, signed
  double mean_abs_diff = 0;
  // Differing elements where either side is NaN or ±inf: NaN never equals anything, inf only
  // the same inf. They are left out of the means; max_abs_diff is then +inf. (Last, so that
  // aggregate initializers of the fields above keep their meaning.)
  size_t non_finite = 0;
  double differing_share() const { return elements ? double(differing) / double(elements) : 0; }
};

// A recognised cause, with the evidence for it ("after mapping x→(x+1)/2 the tensors agree to
// 0.004").
struct Fingerprint {
  std::string code;  // stable: "normalization_range", "channels_swapped", "zero_point_offset",
                     // "uint8_in_int8", "truncation_vs_rounding", "padded_vs_stretched",
                     // "interpolation", "boxes_not_unletterboxed", "normalized_vs_pixel_boxes",
                     // "yx_vs_xy_order", "different_size", "mirrored_horizontally",
                     // "mirrored_vertically", "rotated_90", "rotated_180", "rotated_270"
                     // (clockwise), "transposed_hw", "exif_orientation_not_applied",
                     // "pad_value", "float16_rounding", "boxes_stretched_after_letterbox",
                     // "box_scales_swapped", ...
  std::string description;  // "[0,1] vs [-1,1]"
  std::string evidence;
};

struct TensorComparison {
  StageKind stage = StageKind::kResized;
  bool same_shape = true;
  bool equal = true;
  DifferenceStats stats;
  std::vector<Fingerprint> fingerprints;  // best first; empty when equal or unrecognised
  // Several causes undone in turn, when no single one explains the difference: the first
  // undone first (also the first fingerprints), each with its share in its evidence.
  std::vector<Fingerprint> causes;
  // How the two were aligned before comparing ("other is CHW: transposed to HWC", "other is
  // int8, lockstep's uint8: compared in value"); empty when shapes and dtypes match.
  std::vector<std::string> notes;
};

// What the comparison knows about the pipeline that made `reference` (the lockstep side): its
// spec and the quantization of the input, so fingerprints can test hypotheses exactly
// (e.g. for "interpolation": re-run the resize with each other dialect and see which one agrees).
struct CompareContext {
  const Spec* spec = nullptr;   // the reference's spec, if known
  std::optional<double> scale;  // input quantization
  std::optional<int64_t> zero_point;
  // For resized and box stages: the source image and the model input size.
  const Image* source = nullptr;
  // The source file's EXIF orientation tag (1: none); 0 when not known. A turned source is
  // called an EXIF orientation not applied only when the tag accounts for the turn.
  int source_orientation = 0;
  int input_width = 0, input_height = 0;
  // With a source and a spec, image stages are explained by re-running lockstep's
  // preprocessing with changed fields (geometry, resize dialect, channel order, normalization):
  // at most this many re-runs per comparison (each one preprocessing of `source`; ~25 test
  // every single change, more search for combinations). 0: never re-run.
  int rerun_budget = 100;
};

// `reference` is lockstep's tensor, `other` the one to explain. Shapes may differ (HWC vs NHWC,
// NCHW, a missing batch axis); the comparison says what it did to align them.
TensorComparison CompareTensors(const TensorData& reference, const TensorData& other,
                                StageKind stage, const CompareContext& context = {});

}  // namespace lockstep
